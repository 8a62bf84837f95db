// The inference log's queue and writer thread, on real SQLite files: every row recorded is in the
// table once the log is closed (or flushed); a full queue drops rows and counts them instead of
// growing; a failed write is retried with the rows kept; a writer thread that dies is started again.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { waitFor } from "../../test/helpers/wait.js";
import { InferenceLog, type InferenceEntry } from "./inference-log.js";
import { InferenceTable } from "./inference-table.js";

const SOURCE = { project: "p", target: "dev", endpoint: "ep", config_version: 3, model: "clf", model_version: 2 };
const WHERE = { project: "p", target: "dev", endpoint: "ep" };
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 6);

const entry = (source: number, i: number, body = `{"inputs": [[${i}]]}`): InferenceEntry => ({
  source,
  requestId: `r-${i}`,
  clientRequestId: i % 2 ? `c-${i}` : null,
  time: T0 + i,
  status: 200,
  latencyMs: 1.5,
  gatewayMs: 0.25,
  queueMs: 0.25,
  modelMs: 1,
  request: body,
  response: `{"predictions": [${i}]}`,
});

describe("inference log: the writer thread and its bounded queue", () => {
  let root: string;
  let n = 0;
  const file = () => join(root, `inference-${++n}.db`);
  const rows = (path: string) => {
    const t = new InferenceTable(path);
    try {
      return t.read(WHERE, 1_000_000);
    } finally {
      t.close();
    }
  };
  before(() => (root = mkdtempSync(join(tmpdir(), "slipway-inference-log-"))));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("writes every row recorded before close, in order, with its source's columns", async () => {
    const path = file();
    const lines: string[] = [];
    const log = await InferenceLog.open(path, { batchRows: 64, log: (l) => lines.push(l) });
    const source = log.source(SOURCE);
    assert.equal(log.source({ ...SOURCE }), source, "the same source has one id");
    const other = log.source({ ...SOURCE, config_version: 4 });
    for (let i = 0; i < 5000; i++) assert.equal(log.record(entry(i < 4000 ? source : other, i)), true);
    const { unwritten } = await log.close();
    assert.equal(unwritten, 0);
    assert.deepEqual(log.stats(), { written: 5000, dropped: 0, queued: 0, max_queued: 100_000, write_failures: 0 });
    const all = rows(path);
    assert.equal(all.length, 5000);
    assert.deepEqual(all[1], {
      request_id: "r-1",
      client_request_id: "c-1",
      project: "p",
      target: "dev",
      endpoint: "ep",
      timestamp: "2026-01-02T03:04:05.007Z",
      config_version: 3,
      model: "clf",
      model_version: 2,
      status: 200,
      latency_ms: 1.5,
      gateway_ms: 0.25,
      queue_ms: 0.25,
      model_ms: 1,
      request: '{"inputs": [[1]]}',
      response: '{"predictions": [1]}',
    });
    assert.deepEqual(
      all.map((r) => r.request_id),
      Array.from({ length: 5000 }, (_, i) => `r-${i}`),
    );
    assert.equal(all[4999]!.config_version, 4);
    assert.equal(all[4999]!.timestamp, new Date(T0 + 4999).toISOString());
    assert.equal(log.record(entry(source, 5000)), false, "a closed log takes no row");
    assert.deepEqual(lines, ["inference log: the log is stopping; dropped 1 row(s) so far"]);
  });

  it("drops rows beyond the queue's bound and counts them, without waiting; rows within it are all written", async () => {
    const path = file();
    const lines: string[] = [];
    const log = await InferenceLog.open(path, { maxQueuedRows: 10, log: (l) => lines.push(l) });
    const source = log.source(SOURCE);
    // One synchronous burst: the writer cannot take any row before it ends.
    const taken = Array.from({ length: 100 }, (_, i) => log.record(entry(source, i)));
    assert.deepEqual([taken.filter(Boolean).length, log.stats().dropped, log.stats().queued], [10, 90, 10]);
    assert.match(lines.join("\n"), /inference log: the queue is full \(10 row\(s\) not yet written\); dropped 1 row\(s\) so far/);
    await log.flush();
    assert.deepEqual(log.stats(), { written: 10, dropped: 90, queued: 0, max_queued: 10, write_failures: 0 });
    // Written rows leave the queue: there is room again.
    for (let i = 100; i < 105; i++) assert.equal(log.record(entry(source, i)), true);
    await log.close();
    assert.deepEqual(
      rows(path).map((r) => r.request_id),
      [...Array.from({ length: 10 }, (_, i) => `r-${i}`), "r-100", "r-101", "r-102", "r-103", "r-104"],
    );
    assert.deepEqual([log.stats().written, log.stats().dropped], [15, 90]);
  });

  it("bounds the queue's bytes too: large bodies are dropped before they fill memory", async () => {
    const log = await InferenceLog.open(file(), { maxQueuedBytes: 10_000, log: () => {} });
    const source = log.source(SOURCE);
    assert.equal(log.record(entry(source, 0, "x".repeat(6000))), true);
    assert.equal(log.record(entry(source, 1, "x".repeat(6000))), false);
    assert.equal(log.record(entry(source, 2)), true, "a small row still fits");
    await log.close();
    assert.deepEqual([log.stats().written, log.stats().dropped], [2, 1]);
  });

  it("keeps rows whose write failed and writes them once it works again", async () => {
    const path = file();
    const lines: string[] = [];
    const log = await InferenceLog.open(path, { log: (l) => lines.push(l) });
    const source = log.source(SOURCE);
    // Another connection takes the table away: the writer's inserts fail until it is back.
    const other = new Database(path);
    other.exec("alter table inference rename to inference_away");
    for (let i = 0; i < 20; i++) log.record(entry(source, i));
    await assert.rejects(log.flush(), /the inference table could not be written/);
    await waitFor(() => log.stats().write_failures >= 1, { what: "a failed write" });
    assert.equal(log.stats().queued, 20, "the rows are kept");
    assert.match(lines.join("\n"), /inference log: write failed \(no such table: inference\); 20 row\(s\) kept, retrying/);
    other.exec("alter table inference_away rename to inference");
    other.close();
    await waitFor(() => log.stats().queued === 0, { what: "the retried write" });
    await log.close();
    assert.equal(rows(path).length, 20);
    assert.deepEqual([log.stats().written, log.stats().dropped], [20, 0]);
  });

  it("starts a writer thread that died again, handing it the rows not yet written", async () => {
    const path = file();
    const lines: string[] = [];
    const log = await InferenceLog.open(path, { batchMs: 60_000, log: (l) => lines.push(l) });
    const source = log.source(SOURCE);
    for (let i = 0; i < 50; i++) log.record(entry(source, i));
    // A crash of the thread (not a failed write): stop it from outside.
    await (log as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await waitFor(() => lines.some((l) => l.includes("starting it again")), { what: "the restart" });
    for (let i = 50; i < 60; i++) log.record(entry(source, i));
    await log.close();
    assert.equal(rows(path).length, 60);
    assert.match(lines.join("\n"), /inference log: the writer thread exited \(code 1\); starting it again \(50 queued row\(s\) kept\)/);
  });

  it("refuses to open a file it cannot create, saying why", async () => {
    await assert.rejects(InferenceLog.open(join(root, "no-such-folder", "inference.db")), /the inference table's writer failed: .*(directory does not exist|unable to open)/);
  });
});
