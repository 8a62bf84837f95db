// The inference log's writer on its two tables: SQLite (SLIPWAY_HOME/inference.db) and PostgreSQL (a
// PostgreSQL home's state database). Records ROWS rows (default 200,000; bodies like the quickstart's
// iris requests) through this checkout's InferenceLog as fast as the thread can, in steps of 20,000
// with a flush after each (the queue's bound is 100,000), and prints per table: the main thread's time
// in record() per row (what a request pays; the writer is another thread), the wall time until every
// row is written and the rows written per second, write failures and drops, and one retention pass
// with keep_rows ROWS/2 into a filesystem archive store (the pass's wall time). PostgreSQL: a fresh
// database on SLIPWAY_BENCH_PG_URL's server (migrated, dropped at the end); skipped without it.
// Needs dist/ (npm run build).
//   SLIPWAY_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/serving/inference-backends.mjs [ROWS] [ROUNDS]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
const { InferenceLog } = await import(join(ROOT, "dist/serving/inference-log.js"));
const { openPostgresState } = await import(join(ROOT, "dist/store/state/postgres/postgres-state.js"));
const { applyRetention } = await import(join(ROOT, "dist/serving/inference-retention.js"));
const { FsBlobStore } = await import(join(ROOT, "dist/store/blobs/fs/fs-blob-store.js"));
const pg = createRequire(join(ROOT, "package.json"))("pg");

const ROWS = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const STEP = 20_000;
const where = { project: "quickstart", target: "dev", endpoint: "iris-dev" };
const response = JSON.stringify({ predictions: { probabilities: [[0.9845117330551147, 0.015430239960551262, 0.00005798340862384066]] } });
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

async function once(place) {
  const log = await InferenceLog.open(place);
  const source = log.source({ ...where, config_version: 1, model: "iris", model_version: 1 });
  const t0 = Date.UTC(2026, 10, 1);
  let recordMs = 0;
  const start = performance.now();
  for (let written = 0; written < ROWS; ) {
    const r0 = performance.now();
    for (let i = 0; i < STEP && written < ROWS; i++, written++) {
      log.record({ source, requestId: crypto.randomUUID(), clientRequestId: null, time: t0 + written, status: 200, latencyMs: 1.2, gatewayMs: 0.1, queueMs: 0.1, modelMs: 1, request: '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', response });
    }
    recordMs += performance.now() - r0;
    await log.flush();
  }
  const wall = performance.now() - start;
  const stats = log.stats();
  const p0 = performance.now();
  const [pass] = await applyRetention(log, [{ where, rule: { keepRows: ROWS / 2 }, archive: new FsBlobStore(join(dir, `archive-${++n}`)) }], t0 + ROWS);
  const passMs = performance.now() - p0;
  if (pass?.rows !== ROWS / 2) throw new Error(`the pass archived ${pass?.rows} rows, not ${ROWS / 2}`);
  await log.close();
  return { passMs, recordUs: (recordMs * 1000) / ROWS, wall, perSecond: (stats.written / wall) * 1000, failures: stats.write_failures, dropped: stats.dropped, written: stats.written };
}

const places = [];
const dir = mkdtempSync(join(tmpdir(), "slipway-inference-backends-"));
let n = 0;
places.push(["sqlite", () => ({ type: "sqlite", file: join(dir, `inference-${++n}.db`) }), async () => {}]);
const adminUrl = process.env.SLIPWAY_BENCH_PG_URL;
const databases = [];
const admin = async (sql) => {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
};
if (adminUrl) {
  places.push([
    "postgres",
    async () => {
      const name = `slipway_bench_inf_${process.pid}_${++n}`;
      await admin(`CREATE DATABASE ${name}`);
      databases.push(name);
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      const state = await openPostgresState(u.toString());
      await state.migrate();
      await state.close();
      return { type: "postgres", url: u.toString() };
    },
  ]);
} else console.log("SLIPWAY_BENCH_PG_URL is not set: PostgreSQL skipped");

console.log(`inference writer: ${ROWS} rows per run, ${ROUNDS} round(s) in turns; load average at start ${load()}`);
console.log("| table | round | record() µs/row (main thread) | wall (ms) | rows written/s | write failures | dropped | retention pass of ROWS/2 (ms) |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, make] of places) {
      const r = await once(await make());
      if (r.written !== ROWS) throw new Error(`${name}: ${r.written} of ${ROWS} rows written`);
      console.log(`| ${name} | ${round} | ${r.recordUs.toFixed(2)} | ${r.wall.toFixed(0)} | ${Math.round(r.perSecond)} | ${r.failures} | ${r.dropped} | ${r.passMs.toFixed(0)} |`);
    }
  }
} finally {
  for (const name of databases) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  console.log(`load average at end ${load()}`);
}
