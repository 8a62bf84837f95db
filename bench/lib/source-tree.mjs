// The benchmark job source of issue 14: 2,000 files, ~195 MB. 20 data shards of 9.2 MiB (random, so
// incompressible), and 1,980 source files of 1 KiB (random hex), either nested (20 packages of 99
// files, the usual shape) or flat (all 1,980 in one folder: the worst case for per-folder listings).
//
//   node bench/lib/source-tree.mjs DIR [nested|flat]
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const SHARDS = 20;
export const SHARD_BYTES = Math.round(9.2 * 1024 * 1024);
export const SMALL = 1980;
export const SMALL_BYTES = 1024;

/** Path (relative) of the i-th small file. */
export function smallPath(i, layout) {
  const n = String(i).padStart(4, "0");
  return layout === "flat" ? `src/module_${n}.py` : `src/pkg${String(i % 20).padStart(2, "0")}/module_${n}.py`;
}

/** The file the benchmarks change: one 1 KiB source file. */
export function changedPath(layout) {
  return smallPath(707, layout);
}

export async function writeSourceTree(dir, layout = "nested") {
  await mkdir(join(dir, "data"), { recursive: true });
  for (let i = 0; i < SHARDS; i++) await writeFile(join(dir, "data", `shard-${String(i).padStart(2, "0")}.bin`), randomBytes(SHARD_BYTES));
  for (let i = 0; i < SMALL; i++) {
    const p = join(dir, ...smallPath(i, layout).split("/"));
    await mkdir(join(p, ".."), { recursive: true });
    await writeFile(p, randomBytes(SMALL_BYTES / 2).toString("hex"));
  }
  return { files: SHARDS + SMALL, bytes: SHARDS * SHARD_BYTES + SMALL * SMALL_BYTES };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [dir, layout = "nested"] = process.argv.slice(2);
  if (!dir) throw new Error("usage: node bench/lib/source-tree.mjs DIR [nested|flat]");
  const r = await writeSourceTree(dir, layout);
  console.log(`${dir}: ${r.files} files, ${r.bytes} bytes (${layout})`);
}
