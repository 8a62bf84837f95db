// The inference table on both of its backends, through the server's writer thread (InferenceLog) and
// the readers (openInferenceReader): SQLite (a file of its own, as a SQLite home keeps it) and
// PostgreSQL (a fresh state database on the server `npm test` starts, migrated: its `inference` table).
// The same rows come back from both; retention archives then deletes on both; and on PostgreSQL, where
// several servers share the table, two writer threads' rows are all read back and two retention passes
// (and an endpoint's delete) running at once archive each row exactly once.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, describe, it } from "node:test";
import pg from "pg";
import { stateBackends } from "../helpers/state-backends.js";
import { waitFor } from "../helpers/wait.js";
import { ManualClock } from "../../src/clock.js";
import { FsBlobStore } from "../../src/store/blobs/fs/fs-blob-store.js";
import type { BlobStore } from "../../src/store/blobs/blob-store.js";
import { InferenceLog, type InferencePlace, type InferenceRow } from "../../src/serving/inference-log.js";
import { applyRetention } from "../../src/serving/inference-retention.js";
import { openInferenceReader } from "../../src/serving/inference-table.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0, 0);
const ep = (endpoint: string) => ({ project: "p", target: "dev", endpoint });

async function archivedRows(store: BlobStore, keys: string[]): Promise<InferenceRow[]> {
  const rows: InferenceRow[] = [];
  for (const key of keys) rows.push(...gunzipSync((await store.get(key))!).toString("utf8").trim().split("\n").map((l) => JSON.parse(l) as InferenceRow));
  return rows;
}

/** Records `count` rows for an endpoint, one every `everyMs` up to `now`, oldest first, ids `<prefix>-<i>`. */
function record(log: InferenceLog, endpoint: string, count: number, opts: { now?: number; everyMs?: number; prefix?: string; body?: (i: number) => string; model?: string; version?: number } = {}) {
  const source = log.source({ ...ep(endpoint), config_version: 2, model: opts.model ?? "clf", model_version: opts.version ?? 1 });
  const now = opts.now ?? T0;
  for (let i = 0; i < count; i++) {
    const accepted = log.record({
      source,
      requestId: `${opts.prefix ?? endpoint}-${i}`,
      clientRequestId: i % 2 ? `c-${i}` : null,
      time: now - (count - 1 - i) * (opts.everyMs ?? 1),
      status: i % 10 === 9 ? 500 : 200,
      latencyMs: 1.5 + i,
      gatewayMs: 0.25,
      queueMs: 0.125,
      modelMs: 1,
      request: opts.body?.(i) ?? `{"inputs": [[${i}]]}`,
      response: `{"predictions": [${i}]}`,
    });
    assert.ok(accepted, "the queue has room");
  }
}

const backends = stateBackends();
let dir: string | undefined;
after(async () => {
  for (const b of backends) await b.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** A new, empty inference table on the backend. */
async function freshPlace(backend: (typeof backends)[number]): Promise<InferencePlace> {
  if (backend.name === "sqlite") {
    dir ??= mkdtempSync(join(tmpdir(), "slipway-inference-conf-"));
    return { type: "sqlite", file: join(dir, `inference-${++n}.db`) };
  }
  const { state, url } = await backend.create();
  // The migrations made the table; the state store's own connection is not needed.
  await state.close();
  return { type: "postgres", url: url! };
}

const archiveStore = () => {
  dir ??= mkdtempSync(join(tmpdir(), "slipway-inference-conf-"));
  return new FsBlobStore(join(dir, `archive-${++n}`));
};

for (const backend of backends) {
  describe(`inference table [${backend.name}]`, { skip: backend.skip }, () => {
    it("writes every row through the writer thread; the readers give them back, with the same columns and types", async () => {
      const place = await freshPlace(backend);
      const log = await InferenceLog.open(place, { batchRows: 64 });
      record(log, "a", 300);
      record(log, "b", 5, { model: "other", version: 7 });
      await log.flush();
      assert.equal(log.stats().written, 305);
      const reader = await openInferenceReader(place);
      try {
        const rows = await reader.read(ep("a"), 1000);
        assert.equal(rows.length, 300);
        assert.deepEqual(rows[0], {
          request_id: "a-0",
          client_request_id: null,
          project: "p",
          target: "dev",
          endpoint: "a",
          timestamp: new Date(T0 - 299).toISOString(),
          config_version: 2,
          model: "clf",
          model_version: 1,
          status: 200,
          latency_ms: 1.5,
          gateway_ms: 0.25,
          queue_ms: 0.125,
          model_ms: 1,
          request: '{"inputs": [[0]]}',
          response: '{"predictions": [0]}',
        });
        assert.deepEqual((await reader.read(ep("a"), 3)).map((r) => r.request_id), ["a-297", "a-298", "a-299"], "the newest, oldest first");
        assert.equal(await reader.count(ep("a")), 300);
        assert.equal(await reader.count(ep("b")), 5);
        assert.equal(await reader.count(ep("none")), 0);
        assert.equal(await reader.lastSeq(ep("none")), 0);

        // A rollout's mark and the answers after it, by model and version.
        const mark = await reader.lastSeq(ep("a"));
        assert.ok(mark > 0);
        record(log, "a", 20, { prefix: "late" });
        record(log, "a", 4, { prefix: "v2", version: 2 });
        await log.flush();
        assert.ok((await reader.lastSeq(ep("a"))) > mark);
        const answers = await reader.answersSince(ep("a"), mark, "clf", 1);
        assert.equal(answers.length, 20);
        assert.deepEqual(answers.slice(8, 10), [
          { status: 200, latency_ms: 9.5 },
          { status: 500, latency_ms: 10.5 },
        ]);
        assert.equal((await reader.answersSince(ep("a"), mark, "clf", 2)).length, 4);
      } finally {
        await reader.close();
        await log.close();
      }
    });

    it("a body PostgreSQL's text cannot hold (a NUL character) does not hold up its batch; a write of 10,000 rows at once", async () => {
      const place = await freshPlace(backend);
      const log = await InferenceLog.open(place, { batchRows: 10_000, batchMs: 1000 });
      record(log, "nul", 10_000, { body: (i) => (i === 5 ? '{"x": "a\u0000b"}' : "{}") });
      await log.flush();
      assert.equal(log.stats().write_failures, 0);
      const reader = await openInferenceReader(place);
      try {
        assert.equal(await reader.count(ep("nul")), 10_000);
        const row = (await reader.read(ep("nul"), 10_000))[5]!;
        assert.equal(row.request, backend.name === "postgres" ? '{"x": "a\uFFFDb"}' : '{"x": "a\u0000b"}');
      } finally {
        await reader.close();
        await log.close();
      }
    });

    it("retention archives then deletes what keep and keep_rows let go; a failed archive deletes nothing; an endpoint's delete takes the rest", async () => {
      const place = await freshPlace(backend);
      const clock = new ManualClock(T0);
      const log = await InferenceLog.open(place);
      record(log, "old", 100, { now: clock.now(), everyMs: 10 * 3_600_000 });
      record(log, "capped", 50, { now: clock.now(), everyMs: DAY });
      await log.flush();
      const archive = archiveStore();
      const reader = await openInferenceReader(place);
      try {
        const ids = async (e: string) => (await reader.read(ep(e), 1_000_000)).map((r) => r.request_id);
        const failing: BlobStore = Object.assign(Object.create(archive) as BlobStore, { put: async () => Promise.reject(new Error("disk full")) });
        const errors: string[] = [];
        assert.deepEqual(await applyRetention(log, [{ where: ep("capped"), rule: { keepRows: 20 }, archive: failing }], clock.now(), { onError: (_w, e) => errors.push(e.message) }), []);
        assert.deepEqual(errors, ["disk full"]);
        assert.equal((await ids("capped")).length, 50, "archive first, delete after");

        const out = await applyRetention(
          log,
          [
            { where: ep("old"), rule: { keepMs: 30 * DAY }, archive },
            { where: ep("capped"), rule: { keepRows: 20 }, archive },
          ],
          clock.now(),
          { limits: { maxRows: 7, maxBytes: 1 << 20 } },
        );
        assert.deepEqual(
          out.map((o) => [o.where.endpoint, o.rows, o.files.length]),
          [
            ["old", 27, 4],
            ["capped", 30, 5],
          ],
        );
        assert.match(out[0]!.files[0]!, /^inference\/p\/dev\/old\/2026-04-2\dT\d{2}-00-00-000Z-rows-\d+-\d+\.jsonl\.gz$/);
        assert.deepEqual(
          (await archivedRows(archive, out[0]!.files)).map((r) => r.request_id),
          Array.from({ length: 27 }, (_, i) => `old-${i}`),
        );
        assert.deepEqual(await ids("old"), Array.from({ length: 73 }, (_, i) => `old-${i + 27}`));
        assert.deepEqual(await ids("capped"), Array.from({ length: 20 }, (_, i) => `capped-${i + 30}`));
        assert.deepEqual(await applyRetention(log, [{ where: ep("capped"), rule: { keepRows: 20 }, archive }], clock.now()), [], "under the bound: nothing to do");

        let kept: Buffer | undefined;
        assert.equal(await reader.takeAll(ep("capped"), async (data) => void (kept = data)), 20);
        assert.equal(gunzipSync(kept!).toString("utf8").trim().split("\n").length, 20);
        assert.equal(await reader.count(ep("capped")), 0);
        assert.equal(await reader.takeAll(ep("capped"), async () => assert.fail("nothing to archive")), 0);
        await assert.rejects(reader.takeAll(ep("old"), async () => Promise.reject(new Error("no space"))), /no space/);
        assert.equal(await reader.count(ep("old")), 73, "a failed archive deletes nothing");
      } finally {
        await reader.close();
        await log.close();
      }
    });

    if (backend.name === "postgres") {
      it("two servers' writer threads share the table: each reads both's rows; two retention passes and a delete at once archive each row exactly once", async () => {
        const place = await freshPlace(backend);
        const [a, b] = await Promise.all([InferenceLog.open(place, { batchRows: 50 }), InferenceLog.open(place, { batchRows: 50 })]);
        try {
          // Interleaved: both write the same endpoint at once.
          for (let round = 0; round < 10; round++) {
            record(a, "shared", 200, { prefix: `a${round}` });
            record(b, "shared", 200, { prefix: `b${round}` });
          }
          await Promise.all([a.flush(), b.flush()]);
          const reader = await openInferenceReader(place);
          try {
            const all = (await reader.read(ep("shared"), 1_000_000)).map((r) => r.request_id);
            assert.equal(all.length, 4000);
            assert.equal(all.filter((id) => id.startsWith("a")).length, 2000);
            assert.equal(new Set(all).size, 4000);

            // Both passes at once, in small files so that they interleave; a third party deletes the endpoint meanwhile.
            const archive = archiveStore();
            const target = [{ where: ep("shared"), rule: { keepRows: 1000 }, archive }];
            const limits = { maxRows: 37, maxBytes: 1 << 20 };
            const [outA, outB] = await Promise.all([applyRetention(a, target, T0, { limits }), applyRetention(b, target, T0, { limits })]);
            const files = [...(outA[0]?.files ?? []), ...(outB[0]?.files ?? [])];
            const archived = (await archivedRows(archive, files)).map((r) => r.request_id);
            assert.equal(archived.length, 3000, `${outA[0]?.rows ?? 0} + ${outB[0]?.rows ?? 0} rows archived`);
            assert.equal(new Set(archived).size, 3000, "no row archived twice");
            assert.equal(new Set(files).size, files.length, "no file name twice");
            assert.deepEqual((await reader.read(ep("shared"), 1_000_000)).map((r) => r.request_id), all.slice(3000), "the newest 1,000 stay");

            // Retention and an endpoint's delete at the same moment: still each row once.
            for (let round = 0; round < 5; round++) record(a, "shared", 400, { prefix: `late-a${round}` });
            await a.flush();
            const before = (await reader.read(ep("shared"), 1_000_000)).map((r) => r.request_id);
            let deleted: Buffer | undefined;
            const [passed, taken] = await Promise.all([applyRetention(b, [{ where: ep("shared"), rule: { keepRows: 1 }, archive }], T0, { limits }), reader.takeAll(ep("shared"), async (d) => void (deleted = d))]);
            const byDelete = deleted ? gunzipSync(deleted).toString("utf8").trim().split("\n").map((l) => (JSON.parse(l) as InferenceRow).request_id) : [];
            const byRetention = (await archivedRows(archive, passed[0]?.files ?? [])).map((r) => r.request_id);
            assert.equal(taken, byDelete.length);
            const left = (await reader.read(ep("shared"), 1_000_000)).map((r) => r.request_id);
            assert.deepEqual([...byRetention, ...byDelete, ...left].sort(), [...before].sort(), "every row archived once or still there");
          } finally {
            await reader.close();
          }
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      });

      it("a writer thread whose database is unreachable fails to open; a write that fails keeps its rows and is retried", async () => {
        await assert.rejects(InferenceLog.open({ type: "postgres", url: "postgres://nobody@127.0.0.1:1/none" }), /inference table's writer failed/);
        const place = await freshPlace(backend);
        const lines: string[] = [];
        const log = await InferenceLog.open(place, { log: (l) => lines.push(l) });
        const admin = new pg.Client({ connectionString: (place as { url: string }).url });
        await admin.connect();
        try {
          await admin.query("alter table inference rename to inference_away");
          record(log, "retried", 10);
          await assert.rejects(log.flush(), /could not be written/);
          assert.ok(log.stats().write_failures >= 1);
          assert.equal(log.stats().queued, 10, "kept");
          assert.match(lines.join("\n"), /inference log: write failed \(relation "inference" does not exist\); 10 row\(s\) kept, retrying/);
          await admin.query("alter table inference_away rename to inference");
          await waitFor(() => log.stats().written === 10, { timeoutMs: 10_000, what: "the retried write" });
          assert.equal(Number((await admin.query("select count(*) n from inference")).rows[0].n), 10);
        } finally {
          await admin.end();
          await log.close();
        }
      });
    }
  });
}
