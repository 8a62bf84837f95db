// The server's inference log end to end, in-process: a real server (Node listener, real HTTP on
// 127.0.0.1, real onnxruntime serving the iris fixture, the writer thread on a real inference.db)
// restores endpoints recorded in a real state database. Every request answered under concurrent load
// has its row once the server has stopped; a tiny queue drops and counts rows while every request is
// still answered; the server applies each endpoint's retention on its own, archiving what it
// removes, with a clock the test moves.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../test/helpers/wait.js";
import { iso, ManualClock } from "../clock.js";
import { readRuntimeEnv, type RuntimeEnv } from "../env.js";
import { openStores } from "../store/open.js";
import { serverStatusView } from "../views/server.js";
import { createToken } from "./auth.js";
import { adminCall, serverStatus } from "./control.js";
import type { EndpointConfig } from "./endpoints.js";
import { startServer, type RunningServer } from "./server.js";
import { InferenceTable } from "./inference-table.js";

const FIXTURE = join(import.meta.dirname, "..", "..", "test", "fixtures", "mlflow", "iris-quickstart.onnx");
const DAY = 86_400_000;
const BODY = JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] });

describe("the server's inference log (real server, HTTP, onnxruntime, writer thread)", () => {
  let root: string;
  let home: string;
  let token: string;
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const lines: string[] = [];
  const archiveRoot = () => join(root, "archives-misc");

  const env = (extra: Record<string, string> = {}): RuntimeEnv => ({
    ...readRuntimeEnv({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, SLIPWAY_HOME: home, SLIPWAY_USER: "tester", SLIPWAY_SERVER_PORT: "0", NO_COLOR: "1", ...extra }),
    clock,
  });
  const start = (extra: Record<string, string> = {}) => startServer(env(extra), { port: 0, log: (l) => lines.push(l) });
  const ready = (server: RunningServer) => waitFor(() => server.endpoints.allReady() && server.endpoints.list().length === 3, { what: "the recorded endpoints to be served" });
  const query = async (server: RunningServer, name: string) => {
    const r = await fetch(`${server.info.url}/serving-endpoints/${name}/invocations`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: BODY });
    await r.arrayBuffer();
    return r.status;
  };
  /** `clients` concurrent clients sending `each` requests one after the other: the statuses. */
  const load = async (server: RunningServer, name: string, clients: number, each: number) =>
    (await Promise.all(Array.from({ length: clients }, async () => {
      const statuses: number[] = [];
      for (let i = 0; i < each; i++) statuses.push(await query(server, name));
      return statuses;
    }))).flat();
  const table = <T>(f: (t: InferenceTable) => T): T => {
    const t = new InferenceTable(join(home, "inference.db"));
    try {
      return f(t);
    } finally {
      t.close();
    }
  };
  const count = (endpoint: string) => table((t) => t.count({ project: "p", target: "dev", endpoint }));

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "slipway-server-log-"));
    home = join(root, "home");
    const model = join(root, "model");
    mkdirSync(model, { recursive: true });
    copyFileSync(FIXTURE, join(model, "model.onnx"));
    // Three endpoints recorded as a deploy records them; the server restores them when it starts.
    const stores = await openStores(home);
    try {
      token = await createToken(stores.state.tokens(), { user: "ada", groups: [] }, null, iso(clock.now()));
      const state = stores.state.forTarget("p", "dev");
      for (const [name, retention] of [["busy", {}], ["aged", { keepMs: 30 * DAY }], ["capped", { keepRows: 10 }]] as const) {
        const config: EndpointConfig = {
          project: "p",
          target: "dev",
          name,
          configVersion: 1,
          served: [{ model: "iris", version: 1, percent: 100, dir: model, manifest: { flavor: "onnx", file: "model.onnx", inputs: [{ name: "X", type: "float32", shape: [-1, 4] }], outputs: [{ name: "probabilities", type: "float32", shape: [-1, 3] }] } }],
          grants: [{ level: "CAN_QUERY", user: "ada" }],
          inference: { sample: 1, maxBodyBytes: 65_536, ...retention },
          replicas: { min: 1, max: 1 },
        };
        await state.commitPut({ address: `endpoint.${name}`, kind: "endpoint", name, module: "m", phase: 0, spec: {}, specHash: "x", dependsOn: [], outputs: { config, archive_root: archiveRoot() }, createdAt: iso(clock.now()), updatedAt: iso(clock.now()) });
      }
    } finally {
      await stores.close();
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("writes a row for every request answered under concurrent load, all of them by the time it has stopped", async () => {
    const server = await start();
    try {
      await ready(server);
      const statuses = await load(server, "busy", 32, 40);
      assert.deepEqual([...new Set(statuses)], [200]);
    } finally {
      await server.close();
    }
    assert.equal(count("busy"), 32 * 40);
    assert.match(lines.join("\n"), /inference log: wrote 1280 row\(s\) since the start, dropped 0 row\(s\)/);
  });

  it("with a queue of one row, answers every request anyway, and drops and counts the rows it cannot hold", async () => {
    const before = count("busy");
    const server = await start({ SLIPWAY_INFERENCE_QUEUE_ROWS: "1" });
    let status;
    try {
      await ready(server);
      const statuses = await load(server, "busy", 32, 10);
      assert.deepEqual([...new Set(statuses)], [200], "a full queue never fails a request");
      await waitFor(async () => (status = serverStatusView(await serverStatus(env()))).inference_log!.queued === 0, { what: "the queue to be written" });
    } finally {
      await server.close();
    }
    const log = status!.inference_log!;
    assert.equal(log.max_queued, 1);
    assert.ok(log.dropped > 0, "32 concurrent requests overflow a queue of one row");
    assert.equal(log.written + log.dropped, 320, "each answered request was either written or counted as dropped");
    assert.equal(count("busy") - before, log.written);
  });

  it("applies each endpoint's retention by itself, archiving the rows it removes to the misc store (clock injected)", async () => {
    const server = await start({ SLIPWAY_INFERENCE_RETENTION_INTERVAL_MS: "20" });
    try {
      await ready(server);
      assert.deepEqual([...new Set([...(await load(server, "aged", 4, 5)), ...(await load(server, "capped", 4, 5))])], [200]);
      // Every answered request's row written before counting (the writer thread lags under load: rows
      // written after a trim would make "capped" 10 and then more again).
      await adminCall(server.info, "/admin/flush");
      // keep_rows: 10 — the server trims "capped" to its 10 newest rows; "aged" (keep: 30d) keeps its fresh rows.
      await waitFor(() => count("capped") === 10, { what: "capped trimmed to 10 rows" });
      assert.equal(count("aged"), 20);
      // 31 days later every row of "aged" is past its retention.
      clock.advance(31 * DAY);
      await waitFor(() => count("aged") === 0, { what: "aged emptied after 31 days" });
      assert.equal(count("capped"), 10, "keep_rows does not look at age");
      assert.ok(count("busy") > 0, "an endpoint without retention keeps its rows");
    } finally {
      await server.close();
    }
    const archived = (name: string) => {
      const dir = join(archiveRoot(), "inference", "p", "dev", name);
      return readdirSync(dir).flatMap((f) => gunzipSync(readFileSync(join(dir, f))).toString("utf8").trim().split("\n").map((l) => JSON.parse(l) as { endpoint: string; status: number }));
    };
    assert.equal(archived("capped").length, 10);
    assert.equal(archived("aged").length, 20);
    assert.deepEqual([...new Set(archived("aged").map((r) => `${r.endpoint} ${r.status}`))], ["aged 200"]);
    assert.match(lines.join("\n"), /inference retention: archived 20 row\(s\) of p\/dev\/aged in 1 file\(s\), last inference\/p\/dev\/aged\/2026-06-01T00-00-00-000Z-rows-\d+-\d+\.jsonl\.gz/);
  });
});
