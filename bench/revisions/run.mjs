#!/usr/bin/env node
// Bytes stored per revision when one setting of a 1,000-resource project changes (issue: revisions
// share unchanged resources). Through the real CLI (dist/): deploy the generated project, then change
// one setting and deploy again, ROUNDS times (a different setting each round); count the files and
// bytes each deploy added under SLIPWAY_HOME/blobs. The baseline, in the same run, is what format 1
// stored for the same revision: the whole snapshot gzipped (computed from the revision read back).
//
//   node --import tsx bench/revisions/run.mjs [SETTINGS=1000] [ROUNDS=7]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { FsBlobStore } from "../../src/store/blobs/fs/fs-blob-store.ts";
import { readSnapshot } from "../../src/store/revisions.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const settings = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 7);
const work = mkdtempSync(join(tmpdir(), "slipway-bench-revisions-"));
const project = join(work, "project");
const home = join(work, "home");
const env = { ...process.env, SLIPWAY_HOME: home, SLIPWAY_USER: "bench", NO_COLOR: "1" };
const cli = (...args) => execFileSync(process.execPath, [join(ROOT, "bin", "slipway.cjs"), ...args], { cwd: project, env, encoding: "utf8" });

function files(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(join(home, "blobs"), p), statSync(p).size);
    }
  };
  walk(join(home, "blobs"));
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  execFileSync(process.execPath, [join(ROOT, "bench/engine/generate.mjs"), project, String(settings)]);
  const resources = JSON.parse(cli("validate", "--json")).resources;
  cli("deploy", "--yes");
  const rows = [];
  for (let round = 0; round < rounds; round++) {
    const before = files();
    // Change one setting's value in module m1..m9 (a different module and key each round).
    const file = join(project, "modules", `m${1 + (round % 9)}`, "module.yaml");
    const text = readFileSync(file, "utf8");
    const changed = text.replace(/^(\s+key_\d+: )"(value-[^"\n]*)"$/m, (_, key, value) => `${key}"${value}-r${round}"`);
    if (changed === text) throw new Error(`no setting to change in ${file}`);
    writeFileSync(file, changed);
    cli("deploy", "--yes");
    const after = files();
    const added = [...after].filter(([k]) => !before.has(k));
    const bytes = added.reduce((n, [, size]) => n + size, 0);
    const root = added.find(([k]) => k.startsWith("snapshots/"))?.[0];
    if (!root) throw new Error("no new snapshot after a changed deploy");
    const snapshot = await readSnapshot(new FsBlobStore(join(home, "blobs")), root);
    const format1 = gzipSync(JSON.stringify(snapshot)).length;
    rows.push({ files: added.length, bytes, format1 });
  }
  console.log(`revisions: one setting changed in a ${resources}-resource project, ${rounds} rounds (load: ${readFileSync("/proc/loadavg", "utf8").trim()})`);
  console.log("| round | new blobs | bytes stored (format 2) | format 1 (whole snapshot, gzipped) |");
  console.log("|---:|---:|---:|---:|");
  rows.forEach((r, i) => console.log(`| ${i + 1} | ${r.files} | ${r.bytes} | ${r.format1} |`));
  console.log(`| median | ${median(rows.map((r) => r.files))} | ${median(rows.map((r) => r.bytes))} | ${median(rows.map((r) => r.format1))} |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
