// Inference-table retention: does `keep_rows` bound inference.db, and what does a pass cost? Writes
// ROWS rows (default 1,000,000; bodies like the quickstart's iris requests) through this checkout's
// InferenceLog (the writer thread) in steps of STEP, and after each step runs one retention pass with
// keep_rows KEEP (default 200,000) into a filesystem archive store, as the server does every minute.
// Prints, per step: rows in the table, the size of inference.db (+ its WAL), the archive's size, the
// rows archived and the pass's wall time. Needs dist/ (npm run build).
//   node bench/serving/retention.mjs [ROWS] [KEEP] [STEP]
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
const { InferenceLog } = await import(join(ROOT, "dist/serving/inference-log.js"));
const { InferenceTable } = await import(join(ROOT, "dist/serving/inference-table.js"));
const { applyRetention } = await import(join(ROOT, "dist/serving/inference-retention.js"));
const { FsBlobStore } = await import(join(ROOT, "dist/store/blobs/fs/fs-blob-store.js"));

const [ROWS, KEEP, STEP] = [Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 200_000), Number(process.argv[4] ?? 100_000)];
const dir = mkdtempSync(join(tmpdir(), "slipway-retention-bench-"));
const file = join(dir, "inference.db");
const archive = new FsBlobStore(join(dir, "archive"));
const where = { project: "quickstart", target: "dev", endpoint: "iris-dev" };
const size = (f) => { try { return statSync(f).size; } catch { return 0; } };
const tree = (d) => { try { return readdirSync(d, { recursive: true }).reduce((n, f) => n + (statSync(join(d, f)).isFile() ? size(join(d, f)) : 0), 0); } catch { return 0; } };
const mb = (b) => (b / 1024 / 1024).toFixed(1);

const log = await InferenceLog.open(file, { maxQueuedRows: STEP + 1 });
const source = log.source({ ...where, config_version: 1, model: "iris", model_version: 1 });
const response = JSON.stringify({ predictions: { probabilities: [[0.9845117330551147, 0.015430239960551262, 0.00005798340862384066]] } });
const t0 = Date.UTC(2026, 10, 1);
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(`retention bench: ${ROWS} rows in steps of ${STEP}, keep_rows ${KEEP}; load average at start ${load()}`);
console.log("| rows written | rows in table | inference.db + WAL (MB) | archive (MB) | archived this pass | pass (ms) |");
console.log("|---:|---:|---:|---:|---:|---:|");
for (let written = 0; written < ROWS; ) {
  for (let i = 0; i < STEP; i++, written++) {
    log.record({ source, requestId: crypto.randomUUID(), clientRequestId: null, time: t0 + written * 5, status: 200, latencyMs: 1.2, gatewayMs: 0.1, queueMs: 0.1, modelMs: 1, request: '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', response });
    if (i % 20_000 === 19_999) await log.flush();
  }
  await log.flush();
  const started = performance.now();
  const [out] = await applyRetention(log, [{ where, rule: { keepRows: KEEP }, archive }], t0 + written * 5);
  const ms = performance.now() - started;
  const table = new InferenceTable(file);
  const rows = table.count(where);
  table.close();
  console.log(`| ${written} | ${rows} | ${mb(size(file) + size(`${file}-wal`))} | ${mb(tree(join(dir, "archive")))} | ${out?.rows ?? 0} | ${ms.toFixed(0)} |`);
}
await log.close();
console.log(`load average at end ${load()}`);
rmSync(dir, { recursive: true, force: true });

