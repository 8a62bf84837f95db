// Bytes stored per change (issue 14, item 1): the job source of the issue (2,000 files, ~195 MB: 20 random
// data shards of 9.2 MiB and 1,980 source files of 1 KiB; bench/lib/source-tree.mjs) is captured into a
// fresh filesystem blob store, with the capture index; then, BENCH_ROUNDS times, one 1 KiB file is given
// new content and the source is captured again. Each round runs this checkout's captureBundle and the
// baseline's (another checkout, e.g. main before this change), one after the other, alternating which
// goes first, each with its own store and index. What each capture stores is measured from the outside:
// bytes added to the blob store folder, and bytes written to the index file (appended: the growth; a
// file replaced by rename: its whole size). The baseline for bytes is the change itself: 1,024 B.
//
//   BENCH_BASELINE=/path/to/baseline-checkout node --import tsx bench/bundles/run.mjs
//
// Knobs: BENCH_ROUNDS (7), BENCH_LAYOUTS (nested,flat), BENCH_KEEP=1 keeps the temp folder.
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { changedPath, writeSourceTree } from "../lib/source-tree.mjs";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const LAYOUTS = (process.env.BENCH_LAYOUTS ?? "nested,flat").split(",");
const SETTLE_MS = 2100; // the index does not trust a file changed less than 2 s before it was hashed
const HERE = new URL(".", import.meta.url).pathname;

async function implementation(label, root) {
  const bundles = ["src/bundles/index.ts", "src/executors/bundle.ts"].map((p) => join(root, p)).find((p) => existsSync(p));
  if (!bundles) throw new Error(`${root}: no src/bundles/index.ts (nor src/executors/bundle.ts)`);
  const { captureBundle } = await import(pathToFileURL(bundles).href);
  const { FsBlobStore } = await import(pathToFileURL(join(root, "src/store/blobs/fs/fs-blob-store.ts")).href);
  return { label, root, captureBundle, FsBlobStore };
}

function folderBytes(dir) {
  let n = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? folderBytes(p) : lstatSync(p).size;
  }
  return n;
}

function fileStamp(file) {
  try {
    const st = statSync(file);
    return { ino: st.ino, size: st.size };
  } catch {
    return { ino: -1, size: 0 };
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n) => Math.round(n).toLocaleString("en-US");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const baselineRoot = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;
const impls = [await implementation("this checkout", resolve(HERE, "../.."))];
if (baselineRoot) impls.unshift(await implementation("baseline", baselineRoot));
else console.error("BENCH_BASELINE is not set: measuring this checkout only");

const load = loadavg().map((x) => x.toFixed(2)).join(", ");
const report = { bench: "bundles", rounds: ROUNDS, load_start: load, baseline: baselineRoot ?? null, layouts: {} };
const tmp = await mkdtemp(join(tmpdir(), "slipway-bench-bundles-"));
try {
  for (const layout of LAYOUTS) {
    const src = join(tmp, `src-${layout}`);
    const source = await writeSourceTree(src, layout);
    await sleep(SETTLE_MS);
    const state = impls.map((impl) => ({ impl, store: join(tmp, `${layout}-${impl.label.replace(/\W/g, "")}-store`), index: join(tmp, `${layout}-${impl.label.replace(/\W/g, "")}-index`) }));
    const capture = async (s) => {
      const storeBefore = folderBytes(s.store);
      const indexBefore = fileStamp(s.index);
      const t = performance.now();
      const r = await s.impl.captureBundle(new s.impl.FsBlobStore(s.store), { sourceDir: src, indexFile: s.index });
      const ms = performance.now() - t;
      const indexAfter = fileStamp(s.index);
      const indexBytes = indexAfter.ino !== indexBefore.ino ? indexAfter.size : indexAfter.size - indexBefore.size;
      return { ms, stored: folderBytes(s.store) - storeBefore, index: indexBytes, hash: r.hash, files: r.manifest.files.length };
    };
    const first = [];
    for (const s of state) first.push(await capture(s));
    const rounds = state.map(() => []);
    const unchanged = state.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      await writeFile(join(src, ...changedPath(layout).split("/")), randomBytes(512).toString("hex")); // 1,024 B of new content
      const order = round % 2 ? [...state.keys()].reverse() : [...state.keys()];
      for (const i of order) rounds[i].push(await capture(state[i]));
      for (const i of order) unchanged[i].push(await capture(state[i]));
    }
    for (const i of state.keys()) {
      const hashes = new Set(rounds[i].map((r) => r.hash));
      if (hashes.size !== ROUNDS) throw new Error(`${state[i].impl.label}: expected a new bundle each round`);
      if (unchanged[i].some((u, k) => u.hash !== rounds[i][k].hash || u.stored !== 0)) throw new Error(`${state[i].impl.label}: an unchanged capture stored something`);
    }
    report.layouts[layout] = {
      source,
      results: state.map((s, i) => ({
        implementation: s.impl.label,
        first: first[i],
        change: {
          stored_median: median(rounds[i].map((r) => r.stored)),
          stored_min: Math.min(...rounds[i].map((r) => r.stored)),
          stored_max: Math.max(...rounds[i].map((r) => r.stored)),
          index_median: median(rounds[i].map((r) => r.index)),
          ms_median: median(rounds[i].map((r) => r.ms)),
          ms_all: rounds[i].map((r) => Math.round(r.ms)),
        },
        unchanged: { stored_max: Math.max(...unchanged[i].map((r) => r.stored)), index_median: median(unchanged[i].map((r) => r.index)), ms_median: median(unchanged[i].map((r) => r.ms)) },
      })),
    };
    await rm(src, { recursive: true, force: true });
    for (const s of state) await rm(s.store, { recursive: true, force: true });
  }
  report.load_end = loadavg().map((x) => x.toFixed(2)).join(", ");

  const out = [];
  out.push(`Rounds: ${ROUNDS} changes of one 1,024 B file per layout, each implementation in every round (order alternating); load average ${load} at the start, ${report.load_end} at the end (1/5/15 min, ${(await import("node:os")).cpus().length} cores).`);
  out.push("");
  out.push("| layout | implementation | first capture: stored | change of 1,024 B: stored (median) | ratio to the change | metadata per change | index written per change | capture time per change (median) | unchanged: stored, index, time |");
  out.push("|---|---|---:|---:|---:|---:|---:|---:|---|");
  for (const [layout, l] of Object.entries(report.layouts)) {
    for (const r of l.results) {
      const c = r.change;
      out.push(
        `| ${layout} (${l.source.files} files, ${(l.source.bytes / 1e6).toFixed(1)} MB) | ${r.implementation} | ${fmt(r.first.stored)} B | ${fmt(c.stored_median)} B (${fmt(c.stored_min)}–${fmt(c.stored_max)}) | ×${(c.stored_median / 1024).toFixed(2)} | ${fmt(c.stored_median - 1024)} B | ${fmt(c.index_median)} B | ${fmt(c.ms_median)} ms | ${fmt(r.unchanged.stored_max)} B, ${fmt(r.unchanged.index_median)} B, ${fmt(r.unchanged.ms_median)} ms |`,
      );
    }
  }
  console.log(out.join("\n"));
  console.log(`\n${JSON.stringify(report)}`);
} finally {
  if (process.env.BENCH_KEEP === "1") console.error(`kept ${tmp}`);
  else await rm(tmp, { recursive: true, force: true });
}
