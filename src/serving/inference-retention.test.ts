// Retention of inference tables on a real table and a real archive store, with a clock the test moves:
// rows past `keep` (age) or `keep_rows` (count) are archived as gzipped JSON lines, then deleted, in
// files of bounded size; other endpoints' rows and endpoints without a rule are left alone; a failed
// archive deletes nothing.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../clock.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { FsBlobStore } from "../store/blobs/fs/fs-blob-store.js";
import type { InferenceRow } from "./inference-db.js";
import { InferenceLog } from "./inference-log.js";
import { applyRetention, type RetentionTarget } from "./inference-retention.js";
import { InferenceTable } from "./inference-table.js";

const DAY = 86_400_000;
const ep = (endpoint: string) => ({ project: "p", target: "dev", endpoint });

describe("inference table retention", () => {
  let root: string;
  let n = 0;
  before(() => (root = mkdtempSync(join(tmpdir(), "slipway-retention-"))));
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A log whose endpoints each got `count` rows, one every `everyMs` up to the clock's now, oldest first. */
  async function fill(clock: ManualClock, endpoints: string[], count: number, everyMs: number) {
    const file = join(root, `inference-${++n}.db`);
    const log = await InferenceLog.open(file);
    for (const name of endpoints) {
      const source = log.source({ ...ep(name), config_version: 1, model: "m", model_version: 1 });
      for (let i = 0; i < count; i++) {
        const time = clock.now() - (count - 1 - i) * everyMs;
        log.record({ source, requestId: `${name}-${i}`, clientRequestId: null, time, status: 200, latencyMs: 1, gatewayMs: 0, queueMs: 0, modelMs: 1, request: "{}", response: "{}" });
      }
    }
    await log.flush();
    const table = new InferenceTable(file);
    const ids = (name: string) => table.read(ep(name), 1_000_000).map((r) => r.request_id);
    return { log, table, ids, archive: new FsBlobStore(join(root, `archive-${n}`)) };
  }

  async function archived(store: BlobStore, files: string[]): Promise<InferenceRow[]> {
    const rows: InferenceRow[] = [];
    for (const key of files) {
      const text = gunzipSync((await store.get(key))!).toString("utf8");
      rows.push(...text.trim().split("\n").map((l) => JSON.parse(l) as InferenceRow));
    }
    return rows;
  }

  it("keep: archives then deletes the rows older than the duration, again as the clock moves on", async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    // 100 rows, one every 10 hours: the oldest is 41.25 days old.
    const { log, table, ids, archive } = await fill(clock, ["old", "other"], 100, 10 * 3_600_000);
    try {
      const targets: RetentionTarget[] = [{ where: ep("old"), rule: { keepMs: 30 * DAY }, archive }];
      const first = await applyRetention(log, targets, clock.now(), { limits: { maxRows: 7, maxBytes: 1 << 20 } });
      // Row i is (99 - i) × 10 h old: rows 0..26 are older than 30 days (720 h); row 27, exactly 720 h old, stays.
      assert.equal(first.length, 1);
      assert.equal(first[0]!.rows, 27);
      assert.equal(first[0]!.files.length, 4, "files of at most 7 rows");
      assert.match(first[0]!.files[0]!, /^inference\/p\/dev\/old\/2026-04-20T\d{2}-00-00-000Z-rows-1-7\.jsonl\.gz$/);
      const rows = await archived(archive, first[0]!.files);
      assert.deepEqual(
        rows.map((r) => r.request_id),
        Array.from({ length: 27 }, (_, i) => `old-${i}`),
      );
      assert.deepEqual(Object.keys(rows[0]!).sort(), ["client_request_id", "config_version", "endpoint", "gateway_ms", "latency_ms", "model", "model_ms", "model_version", "project", "queue_ms", "request", "request_id", "response", "status", "target", "timestamp"]);
      assert.deepEqual(ids("old"), Array.from({ length: 73 }, (_, i) => `old-${i + 27}`));
      assert.equal(ids("other").length, 100, "another endpoint's rows stay");

      // Nothing more is due until the clock moves.
      assert.deepEqual(await applyRetention(log, targets, clock.now()), []);
      clock.advance(5 * DAY);
      const second = await applyRetention(log, targets, clock.now());
      // Five days later rows up to 600 h old stay: 27..38 go.
      assert.equal(second[0]!.rows, 12);
      assert.equal(ids("old")[0], "old-39");
    } finally {
      table.close();
      await log.close();
    }
  });

  it("keep_rows: keeps the newest rows; with keep too, a row goes when either rule lets it go", async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const { log, table, ids, archive } = await fill(clock, ["capped", "both", "none"], 50, DAY);
    try {
      const out = await applyRetention(
        log,
        [
          { where: ep("capped"), rule: { keepRows: 20 }, archive },
          { where: ep("both"), rule: { keepRows: 40, keepMs: 10 * DAY }, archive },
          { where: ep("none"), rule: {}, archive },
        ],
        clock.now(),
      );
      assert.deepEqual(
        out.map((o) => [o.where.endpoint, o.rows]),
        [
          ["capped", 30],
          ["both", 39],
        ],
      );
      assert.deepEqual(ids("capped"), Array.from({ length: 20 }, (_, i) => `capped-${i + 30}`));
      // keep_rows alone would keep 40; keep (10 days) keeps the rows up to 10 days old: the newest 11.
      assert.deepEqual(ids("both"), Array.from({ length: 11 }, (_, i) => `both-${i + 39}`));
      assert.equal(ids("none").length, 50, "no rule, no retention");
      assert.deepEqual(
        (await archived(archive, out[0]!.files)).map((r) => r.request_id),
        Array.from({ length: 30 }, (_, i) => `capped-${i}`),
      );
      // Under the bound: nothing to do.
      assert.deepEqual(await applyRetention(log, [{ where: ep("capped"), rule: { keepRows: 20 }, archive }], clock.now()), []);
    } finally {
      table.close();
      await log.close();
    }
  });

  it("deletes nothing whose archive failed, and stops between files when asked to", async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const { log, table, ids, archive } = await fill(clock, ["ep"], 30, DAY);
    try {
      const failing: BlobStore = Object.assign(Object.create(archive) as BlobStore, {
        put: async () => {
          throw new Error("disk full");
        },
      });
      const errors: string[] = [];
      const out = await applyRetention(log, [{ where: ep("ep"), rule: { keepRows: 5 }, archive: failing }], clock.now(), { onError: (w, e) => errors.push(`${w.endpoint}: ${e.message}`) });
      assert.deepEqual(out, []);
      assert.deepEqual(errors, ["ep: disk full"]);
      assert.equal(ids("ep").length, 30, "archive first, delete after");

      const stop = new AbortController();
      let files = 0;
      const counting: BlobStore = Object.assign(Object.create(archive) as BlobStore, {
        put: async (key: string, data: Uint8Array) => {
          await archive.put(key, data);
          if (++files === 2) stop.abort();
        },
      });
      const stopped = await applyRetention(log, [{ where: ep("ep"), rule: { keepRows: 5 }, archive: counting }], clock.now(), { signal: stop.signal, limits: { maxRows: 4, maxBytes: 1 << 20 } });
      assert.equal(stopped[0]!.rows, 8, "two files of 4 rows, then it stopped");
      assert.equal(ids("ep").length, 22);
    } finally {
      table.close();
      await log.close();
    }
  });
});
