#!/usr/bin/env node
// Whole-process wall times, interleaved: each round runs every command once, in an order shuffled per
// round, so load from other work on the machine falls on all commands alike. Prints medians per
// command, and for each pair "baseline: X" / "this checkout: X" the ratio and the difference.
//   node bench/startup/measure.mjs SPEC.json ROUNDS OUT.json
// SPEC.json: [{ "name": "...", "argv": ["node", "-e", "0"], "env": {...}, "cwd": "..." }, ...]
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";

const [specFile, roundsArg = "9", outFile] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specFile, "utf8"));
const rounds = Number(roundsArg);

function once(c) {
  const t = process.hrtime.bigint();
  const r = spawnSync(c.argv[0], c.argv.slice(1), { cwd: c.cwd, env: { ...process.env, ...c.env }, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${c.name}: exit ${r.status}\n${r.stderr}`);
  return ms;
}

const load = { before: loadavg() };
for (const c of spec) once(c); // warm-up: page cache, compile caches
const times = new Map(spec.map((c) => [c.name, []]));
for (let round = 0; round < rounds; round++) {
  const order = spec.map((c) => [Math.random(), c]).sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  for (const c of order) times.get(c.name).push(once(c));
}
load.after = loadavg();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = spec.map((c) => ({ name: c.name, median: median(times.get(c.name)), min: Math.min(...times.get(c.name)), max: Math.max(...times.get(c.name)), runs: times.get(c.name) }));
if (outFile) writeFileSync(outFile, JSON.stringify({ rounds, load, results }, null, 2));

const f = (x) => x.toFixed(0);
const byName = new Map(results.map((r) => [r.name, r]));
const shell = byName.get("bash -c true")?.median ?? 0;
const node = byName.get("`node -e 0`")?.median ?? 0;
console.log(`Load average (1/5/15 min) before: ${load.before.map((x) => x.toFixed(2)).join(", ")}; after: ${load.after.map((x) => x.toFixed(2)).join(", ")}. ${rounds} interleaved rounds.\n`);
console.log("| command | median (ms) | min | max | minus `bash -c true` (ms) | minus `node -e 0` (ms) |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const r of results) console.log(`| ${r.name} | ${f(r.median)} | ${f(r.min)} | ${f(r.max)} | ${f(r.median - shell)} | ${f(r.median - node)} |`);
const pairs = results.filter((r) => r.name.startsWith("this checkout: ")).map((r) => [byName.get(r.name.replace("this checkout: ", "baseline: ")), r]).filter(([b]) => b);
if (pairs.length) {
  console.log("\n| command | baseline median (ms) | this checkout median (ms) | this / baseline | difference (ms) |");
  console.log("|---|---:|---:|---:|---:|");
  for (const [b, c] of pairs) console.log(`| ${c.name.replace("this checkout: ", "")} | ${f(b.median)} | ${f(c.median)} | ${(c.median / b.median).toFixed(2)} | ${f(c.median - b.median)} |`);
}
