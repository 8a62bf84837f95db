// The dashboard's static files through a real listener: content types, cache headers for hashed
// assets, index.html for page routes, nothing outside the built folder, and every other path (the
// API, the gateway, apps) left to the next handler.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { webHandler } from "./web.js";

describe("dashboard static files", () => {
  let root: string;
  let server: Server;
  let url: string;
  const get = async (path: string, method = "GET") => {
    const res = await fetch(`${url}${path}`, { method, redirect: "manual" });
    return { status: res.status, type: res.headers.get("content-type"), cache: res.headers.get("cache-control"), csp: res.headers.get("content-security-policy"), body: await res.text() };
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "slipway-web-"));
    const dist = join(root, "web");
    mkdirSync(join(dist, "assets"), { recursive: true });
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>Slipway</title>");
    writeFileSync(join(dist, "assets", "index-abc123.js"), "console.log(1)");
    writeFileSync(join(dist, "assets", "index-abc123.css"), "body{}");
    writeFileSync(join(root, "secret.txt"), "outside");
    const web = webHandler(dist);
    server = createServer((req, res) => {
      if (web(req, res)) return;
      res.writeHead(418, { "content-type": "text/plain" });
      res.end("next handler");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("serves hashed assets with their type, cached for a year; page routes get index.html, not cached", async () => {
    const js = await get("/assets/index-abc123.js");
    assert.deepEqual([js.status, js.type, js.cache, js.body], [200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log(1)"]);
    assert.equal((await get("/assets/index-abc123.css")).type, "text/css; charset=utf-8");
    for (const page of ["/", "/signin?next=%2Fmodels", "/runs/rabc", "/models", "/people"]) {
      const r = await get(page);
      assert.deepEqual([r.status, r.type, r.cache], [200, "text/html; charset=utf-8", "no-cache"], page);
      assert.match(r.body, /<title>Slipway/);
      assert.match(r.csp!, /default-src 'self'/);
      assert.match(r.csp!, /frame-ancestors 'none'/);
    }
    const head = await get("/models", "HEAD");
    assert.deepEqual([head.status, head.body], [200, ""]);
  });

  it("never serves a file outside the built folder", async () => {
    for (const path of ["/assets/../../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/assets/%00", "/assets/nope.js", "/assets/", "/assets/%E0%A4%A"]) {
      const r = await get(path);
      assert.ok(r.status === 404 || r.status === 418, `${path}: ${r.status}`);
      assert.ok(!r.body.includes("outside"), path);
    }
  });

  it("leaves the API, the gateway, apps and other methods to the next handler", async () => {
    for (const [path, method] of [["/api/v1/whoami", "GET"], ["/serving-endpoints/iris/invocations", "POST"], ["/v2/health/ready", "GET"], ["/apps/demo/", "GET"], ["/admin/status", "GET"], ["/models", "POST"], ["/favicon.ico", "DELETE"]] as const) {
      const r = await get(path, method);
      assert.equal(r.status, 418, `${method} ${path}`);
    }
  });

  it("without a built dashboard, page routes say how to build it", async () => {
    const web = webHandler(undefined);
    const s = createServer((req, res) => void (web(req, res) || (res.writeHead(418), res.end())));
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const res = await fetch(`http://127.0.0.1:${(s.address() as { port: number }).port}/`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /npm run build/);
    s.close();
  });
});
