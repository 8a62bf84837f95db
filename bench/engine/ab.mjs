#!/usr/bin/env node
// Compares builds of Slipway on the engine's commands, interleaved (A, B, A, B, …) so that a change
// in the machine's load during the run hits them alike. Each build is a checkout with bin/ and a
// built dist/ (e.g. a `git worktree` of the baseline commit, or `git archive` of it, built).
//
//   node bench/engine/ab.mjs BASELINE_ROOT CANDIDATE_ROOT [N=1000] [ROUNDS=9]
//   node bench/engine/ab.mjs BASELINE_ROOT OTHER_ROOT… CANDIDATE_ROOT [N] [ROUNDS]   (three or more builds)
//
// Prints, per command, the median wall time of whole processes for each build and their ratio to the
// first build, plus the load average before and after; for "first deploy" also the median CPU time
// (user + system of the process, from /usr/bin/time when it is installed). "first deploy" creates
// every resource in a fresh SLIPWAY_HOME each round; the other commands run on the home deployed once
// before the rounds. AB_COMMANDS="first deploy" (a comma-separated list) times only those commands.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";

const args = process.argv.slice(2);
const numbers = args.filter((x) => /^\d+$/.test(x));
const roots = args.filter((x) => !/^\d+$/.test(x));
if (roots.length < 2) {
  console.error("usage: node bench/engine/ab.mjs BASELINE_ROOT [OTHER_ROOT…] CANDIDATE_ROOT [N] [ROUNDS]");
  process.exit(2);
}
const [nArg = "1000", roundsArg = "9"] = numbers;
// Named baseline and candidate (first and last); builds in between by their folder's name.
const builds = Object.fromEntries(roots.map((r, i) => [i === 0 ? "baseline" : i === roots.length - 1 ? "candidate" : basename(resolve(r)), resolve(r)]));
const names = Object.keys(builds);
const N = Number(nArg);
const ROUNDS = Number(roundsArg);
const work = mkdtempSync(join(tmpdir(), "slipway-ab-"));
const project = join(work, "project");
const here = new URL(".", import.meta.url).pathname;
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

function run(root, home, args, { check = true } = {}) {
  const timeFile = join(work, "time.txt");
  const cli = [process.execPath, join(root, "bin", "slipway.cjs"), ...args];
  const [cmd, ...argv] = TIME ? [TIME, "-o", timeFile, "-f", "%U %S", ...cli] : cli;
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd: project, env: { ...process.env, SLIPWAY_HOME: home, NO_COLOR: "1" }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (check && r.status !== 0) throw new Error(`${root}: slipway ${args.join(" ")} exited ${r.status}\n${r.stderr}`);
  const cpuMs = TIME ? readFileSync(timeFile, "utf8").trim().split("\n").pop().split(" ").reduce((a, x) => a + Number(x) * 1000, 0) : NaN;
  return { ms, cpuMs, stdout: r.stdout };
}
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  const load0 = loadavg();
  spawnSync(process.execPath, [join(here, "generate.mjs"), project, String(N)], { stdio: "inherit" });
  const homes = {};
  const needsHome = !process.env.AB_COMMANDS || process.env.AB_COMMANDS.split(",").some((c) => ["validate", "plan", "deploy (no-op)"].includes(c.trim()));
  for (const [name, root] of Object.entries(builds)) {
    homes[name] = join(work, `home-${name}`);
    if (needsHome) run(root, homes[name], ["deploy", "--yes"]);
  }
  const all = { "node -e 0": null, "--version": ["--version"], validate: ["validate"], plan: ["plan"], "deploy (no-op)": ["deploy"], "first deploy": ["deploy", "--yes"] };
  const only = process.env.AB_COMMANDS?.split(",").map((c) => c.trim());
  const commands = Object.fromEntries(Object.entries(all).filter(([cmd]) => !only || only.includes(cmd)));
  const times = {};
  const cpu = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [cmd, args] of Object.entries(commands)) {
      // Rotate which build goes first in each round.
      const order = names.map((_, i) => names[(i + round) % names.length]);
      for (const name of order) {
        let ms;
        if (cmd === "first deploy") {
          const home = join(work, `fresh-${name}-${round}`);
          const r = run(builds[name], home, args);
          ms = r.ms;
          ((cpu[cmd] ??= {})[name] ??= []).push(r.cpuMs);
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
  console.log(`builds: ${names.map((n) => `${n} = ${builds[n]}`).join(", ")}`);
  const others = names.slice(1);
  console.log(`| command | ${names.map((n) => `${n} median (ms)`).join(" | ")} | ${others.map((n) => `${n} / baseline`).join(" | ")} |`);
  console.log(`|---|${names.map(() => "---:").join("|")}|${others.map(() => "---:").join("|")}|`);
  const row = (label, t) => {
    const m = Object.fromEntries(names.map((n) => [n, median(t[n])]));
    console.log(`| ${label} | ${names.map((n) => m[n].toFixed(0)).join(" | ")} | ${others.map((n) => (m[n] / m.baseline).toFixed(2)).join(" | ")} |`);
  };
  for (const [cmd, t] of Object.entries(times)) {
    row(cmd, t);
    if (cpu[cmd] && TIME) row(`${cmd}: CPU time (user + sys)`, cpu[cmd]);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
