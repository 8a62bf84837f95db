// Incremental-bundle benchmark (issue 3, "Bundles"): a ~200 MB source folder is captured into a fresh
// filesystem blob store, one 1 KiB file is changed, and it is captured again; then once more with no
// change. Prints a markdown table of time, bytes written and blobs written for each capture.
//
//   node --import tsx bench/bundles/run.mjs
//
// Environment knobs (all optional):
//   BENCH_BUNDLE_BIG=20          number of large random files
//   BENCH_BUNDLE_BIG_MB=10       size of each large file, MiB
//   BENCH_BUNDLE_SMALL=50        number of 1 KiB files
//   BENCH_BUNDLE_SETTLE_MS=2100  pause between writing the source and the first capture (the index does not
//                                trust a file modified less than 2 s before it was hashed; a real source
//                                tree has been at rest for longer than that)
//   BENCH_BUNDLE_KEEP=1          keep the temp folder
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { captureBundle, materializeBundle, packBundle, unpackArchive } from "../../src/executors/bundle.ts";
import { FsBlobStore } from "../../src/store/blobs/fs/fs-blob-store.ts";

const BIG = Number(process.env.BENCH_BUNDLE_BIG ?? 20);
const BIG_MB = Number(process.env.BENCH_BUNDLE_BIG_MB ?? 10);
const SMALL = Number(process.env.BENCH_BUNDLE_SMALL ?? 50);
const SETTLE_MS = Number(process.env.BENCH_BUNDLE_SETTLE_MS ?? 2100);

const MiB = 1024 * 1024;
const fmtBytes = (n) => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(2)} KiB` : `${n} B`);
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

const root = await mkdtemp(join(tmpdir(), "slipway-bench-bundles-"));
try {
  const src = join(root, "src");
  const blobs = new FsBlobStore(join(root, "blobs"));
  const indexFile = join(root, "index", "bundle-index.json");

  // --- the source folder --------------------------------------------------------------------------
  const t0 = performance.now();
  await mkdir(join(src, "data"), { recursive: true });
  await mkdir(join(src, "src"), { recursive: true });
  for (let i = 0; i < BIG; i++) await writeFile(join(src, "data", `shard-${String(i).padStart(2, "0")}.bin`), randomBytes(BIG_MB * MiB));
  for (let i = 0; i < SMALL; i++) await writeFile(join(src, "src", `module_${String(i).padStart(2, "0")}.py`), randomBytes(512).toString("hex"));
  await writeFile(join(src, ".gitignore"), "__pycache__/\n*.pyc\n");
  const sourceBytes = BIG * BIG_MB * MiB + SMALL * 1024;
  const genMs = performance.now() - t0;
  if (SETTLE_MS > 0) await new Promise((r) => setTimeout(r, SETTLE_MS));

  const rows = [];
  const capture = async (label, opts = { sourceDir: src, indexFile }) => {
    const start = performance.now();
    const r = await captureBundle(blobs, opts);
    const ms = performance.now() - start;
    rows.push({ label, ms, bytesWritten: r.bytesWritten, filesWritten: r.filesWritten, bytesTotal: r.bytesTotal, files: r.manifest.files.length, hash: r.hash });
    return r;
  };

  const first = await capture("1. first capture (empty store, no index)");
  await writeFile(join(src, "src", "module_07.py"), randomBytes(512).toString("hex")); // one 1 KiB file changes
  const second = await capture("2. one 1 KiB file changed");
  const third = await capture("3. nothing changed");
  // the same change again, without the index: every file is read and hashed, still ~1 KiB is written
  await writeFile(join(src, "src", "module_07.py"), randomBytes(512).toString("hex"));
  await capture("4. one 1 KiB file changed, no index (re-hash all)", { sourceDir: src });

  if (second.hash === first.hash || third.hash !== second.hash) throw new Error("bundle hashes do not behave: expected new hash after a change and the same hash without one");

  // executor side, for scale: write the bundle into a working folder; pack it and unpack it
  const m0 = performance.now();
  await materializeBundle(blobs, third.hash, join(root, "work-materialized"));
  const materializeMs = performance.now() - m0;
  const p0 = performance.now();
  const archive = await packBundle(blobs, third.hash);
  const packMs = performance.now() - p0;
  const u0 = performance.now();
  await unpackArchive(archive, join(root, "work-unpacked"));
  const unpackMs = performance.now() - u0;

  const out = [];
  out.push(`Source: ${BIG} × ${BIG_MB} MiB random files + ${SMALL} × 1 KiB files = ${fmtBytes(sourceBytes)} (${BIG + SMALL + 1} files; generated in ${fmtMs(genMs)}), blob store: FsBlobStore on ${tmpdir()}, Node ${process.version}.`);
  out.push("");
  out.push("| capture | time | bytes written to blob store | file blobs written | bundle size |");
  out.push("|---|---:|---:|---:|---:|");
  for (const r of rows) out.push(`| ${r.label} | ${fmtMs(r.ms)} | ${r.bytesWritten.toLocaleString("en-US")} B (${fmtBytes(r.bytesWritten)}) | ${r.filesWritten} | ${fmtBytes(r.bytesTotal)} in ${r.files} files |`);
  out.push("");
  out.push(`Executor side: materializeBundle ${fmtMs(materializeMs)}; packBundle ${fmtMs(packMs)} (${fmtBytes(archive.length)} .tar.gz); unpackArchive ${fmtMs(unpackMs)}.`);
  console.log(out.join("\n"));
  console.log(`\n${JSON.stringify({ bench: "bundles", sourceBytes, rows, materializeMs, packMs, archiveBytes: archive.length, unpackMs })}`);
} finally {
  if (process.env.BENCH_BUNDLE_KEEP === "1") console.error(`kept ${root}`);
  else await rm(root, { recursive: true, force: true });
}
