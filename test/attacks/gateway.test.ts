// The serving gateway's answers to requests it cannot take: each says what is wrong with *this*
// request (its URL and headers are too large, it is not HTTP), as JSON, instead of a bare status.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { exited, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { readServerInfo } from "../../src/serving/server-file.js";
import { ROOT } from "./helpers.js";

/** Sends raw bytes, returns the raw response (the server closes the connection after these errors). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (d) => (data += d));
    socket.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" || e.code === "EPIPE" ? resolve(data) : reject(e)));
    socket.on("close", () => resolve(data));
    socket.write(request);
  });
}

function parse(response: string): { status: number; body: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
  const body = response.slice(response.indexOf("\r\n\r\n") + 4);
  return { status, body: body ? JSON.parse(body) : undefined };
}

describe("gateway: requests it cannot take", () => {
  let box: Sandbox;
  let port: number;
  before(async () => {
    box = sandbox({ "slipway.yaml": ROOT, "modules/core/module.yaml": "module: core\n" });
    const child = box.start(["server", "--port", "0"]);
    const done = exited(child);
    // The server writes server.json in place: wait until it parses, not only until it exists.
    await waitFor(() => readServerInfo(box.home)?.port !== undefined || child.exitCode !== null, 30_000, "the server");
    if (child.exitCode !== null) throw new Error(`server exited: ${(await done).stderr}`);
    port = readServerInfo(box.home)!.port;
  });
  after(() => box.cleanup());

  it("a 100 KB URL: 431 saying the URL and headers are too large (not the body)", async () => {
    const r = parse(await raw(port, `POST /serving-endpoints/${"a".repeat(100_000)}/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`));
    assert.equal(r.status, 431);
    assert.equal(r.body.error_code, "REQUEST_HEADERS_TOO_LARGE");
    assert.match(r.body.message, /URL and headers/);
    assert.doesNotMatch(r.body.message, /bod(y|ies)/);
  });

  it("a 100 KB header: 431 as well", async () => {
    const r = parse(await raw(port, `GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${"t".repeat(100_000)}\r\n\r\n`));
    assert.equal(r.status, 431);
    assert.match(r.body.message, /URL and headers/);
  });

  it("something that is not HTTP: 400 with a JSON message", async () => {
    const r = parse(await raw(port, "HELLO\0\x01\x02 not http\r\n\r\n"));
    assert.equal(r.status, 400);
    assert.equal(r.body.error_code, "BAD_REQUEST");
  });
});
