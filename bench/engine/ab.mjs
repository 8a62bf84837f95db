#!/usr/bin/env node
// Compares two builds of Slipway on the engine's commands, interleaved (A, B, A, B, …) so that a
// change in the machine's load during the run hits both alike. Each build is a checkout with bin/ and
// a built dist/ (e.g. a `git worktree` of the baseline commit).
//
//   node bench/engine/ab.mjs BASELINE_ROOT CANDIDATE_ROOT [N=1000] [ROUNDS=9]
//
// Prints, per command, the median wall time of whole processes for each build and their ratio, plus
// the load average before and after. "first deploy" creates every resource in a fresh SLIPWAY_HOME
// each round; the other commands run on the home deployed once before the rounds.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const [a, b, nArg = "1000", roundsArg = "9"] = process.argv.slice(2);
if (!a || !b) {
  console.error("usage: node bench/engine/ab.mjs BASELINE_ROOT CANDIDATE_ROOT [N] [ROUNDS]");
  process.exit(2);
}
const builds = { baseline: resolve(a), candidate: resolve(b) };
const N = Number(nArg);
const ROUNDS = Number(roundsArg);
const work = mkdtempSync(join(tmpdir(), "slipway-ab-"));
const project = join(work, "project");
const here = new URL(".", import.meta.url).pathname;

function run(root, home, args, { check = true } = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, "bin", "slipway.cjs"), ...args], { cwd: project, env: { ...process.env, SLIPWAY_HOME: home, NO_COLOR: "1" }, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (check && r.status !== 0) throw new Error(`${root}: slipway ${args.join(" ")} exited ${r.status}\n${r.stderr}`);
  return { ms, stdout: r.stdout };
}
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  const load0 = loadavg();
  spawnSync(process.execPath, [join(here, "generate.mjs"), project, String(N)], { stdio: "inherit" });
  const homes = {};
  for (const [name, root] of Object.entries(builds)) {
    homes[name] = join(work, `home-${name}`);
    run(root, homes[name], ["deploy", "--yes"]);
  }
  const commands = { "node -e 0": null, "--version": ["--version"], validate: ["validate"], plan: ["plan"], "deploy (no-op)": ["deploy"], "first deploy": ["deploy", "--yes"] };
  const times = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [cmd, args] of Object.entries(commands)) {
      // Alternate which build goes first in each round.
      const order = round % 2 ? ["candidate", "baseline"] : ["baseline", "candidate"];
      for (const name of order) {
        let ms;
        if (cmd === "first deploy") {
          const home = join(work, `fresh-${name}-${round}`);
          ms = run(builds[name], home, args).ms;
          rmSync(home, { recursive: true, force: true });
        } else if (!args) {
          const t = process.hrtime.bigint();
          spawnSync(process.execPath, ["-e", "0"]);
          ms = Number(process.hrtime.bigint() - t) / 1e6;
        } else ms = run(builds[name], homes[name], args).ms;
        ((times[cmd] ??= {})[name] ??= []).push(ms);
      }
    }
  }
  const load1 = loadavg();
  console.log(`N = ${N} settings (${N + 10} resources), ${ROUNDS} interleaved rounds; load average before ${load0.map((x) => x.toFixed(2)).join(" ")}, after ${load1.map((x) => x.toFixed(2)).join(" ")}`);
  console.log("| command | baseline median (ms) | candidate median (ms) | candidate / baseline |");
  console.log("|---|---|---|---|");
  for (const [cmd, t] of Object.entries(times)) {
    const mb = median(t.baseline);
    const mc = median(t.candidate);
    console.log(`| ${cmd} | ${mb.toFixed(0)} | ${mc.toFixed(0)} | ${(mc / mb).toFixed(2)} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
