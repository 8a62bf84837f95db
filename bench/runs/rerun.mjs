// Unchanged re-run of a job with a large source (issue 14, item 2): `slipway run JOB --wait` of a
// 16 ms task (`sleep 0.016`) whose source is the issue's 2,000-file, ~195 MB folder
// (bench/lib/source-tree.mjs), nothing changed since the last run; with this checkout's CLI and a
// baseline's (e.g. main before this change), each with its own SLIPWAY_HOME, against `bash -c` of
// the same task. The same job with a 20-file source shows what depends on the source's size, and
// `slipway --version` the fixed start-up of any command. Whole processes, timed from spawn to exit,
// interleaved: every round runs every command once, in an order that rotates from round to round.
//
//   BENCH_BASELINE=/path/to/built-baseline node bench/runs/rerun.mjs
//
// A third CLI is this checkout with the home's server running (`slipway server`): `run` hands the launch
// to it (bin/run-handoff.cjs); the other two run in-process (SLIPWAY_RUN_IN_PROCESS=1 for this checkout).
//
// Knobs: BENCH_ROUNDS (7), BENCH_KEEP=1 keeps the temp folder, BENCH_SERVED=0 leaves out the server.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { writeSourceTree } from "../lib/source-tree.mjs";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const TASK = "sleep 0.016";
const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const BASE = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;
if (!BASE) console.error("BENCH_BASELINE is not set: measuring this checkout only");

const tmp = mkdtempSync(join(tmpdir(), "slipway-bench-rerun-"));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
let impls = [];
try {
  const project = join(tmp, "project");
  mkdirSync(join(project, "modules", "m", "small"), { recursive: true });
  writeFileSync(join(project, "slipway.yaml"), "project: rerun\ninclude: [modules/*/module.yaml]\ntargets:\n  dev:\n    default: true\n");
  writeFileSync(
    join(project, "modules", "m", "module.yaml"),
    `module: m\nresources:\n  jobs:\n    big:\n      source: big\n      command: "${TASK}"\n    small:\n      source: small\n      command: "${TASK}"\n`,
  );
  const source = await writeSourceTree(join(project, "modules", "m", "big"), "nested");
  for (let i = 0; i < 20; i++) writeFileSync(join(project, "modules", "m", "small", `file${i}.txt`), `${"x".repeat(2000)} ${i}\n`);

  impls = [
    ...(BASE ? [{ label: "baseline", bin: join(BASE, "bin", "slipway.cjs"), home: join(tmp, "home-baseline") }] : []),
    { label: "this checkout", bin: join(ROOT, "bin", "slipway.cjs"), home: join(tmp, "home-branch"), env: { SLIPWAY_RUN_IN_PROCESS: "1" } },
    // The same checkout with the home's server running: `run` hands the launch to it (bin/run-handoff.cjs).
    // The CPU column then counts the client only (the server's share is not in it).
    ...(process.env.BENCH_SERVED === "0" ? [] : [{ label: "this checkout, server running", bin: join(ROOT, "bin", "slipway.cjs"), home: join(tmp, "home-served"), served: true }]),
  ];
  // CPU time (user + system) of each slipway process, read by a preloaded module at its exit: it is
  // what the machine's load changes least (the task runs in a child process, not counted). Each CLI's
  // compile cache lives in the temp folder, so both start from the same state whatever ran before.
  const cpuFile = join(tmp, "cpu-at-exit");
  const cpuHook = join(tmp, "cpu-at-exit.cjs");
  writeFileSync(cpuHook, `process.on("exit", () => { const c = process.cpuUsage(); require("node:fs").writeFileSync(${JSON.stringify(cpuFile)}, String((c.user + c.system) / 1000)); });\n`);
  // Each CLI runs as installed: the bin file itself, through its #! line (the hook comes in NODE_OPTIONS).
  const cli = (bin, ...args) => [bin, ...args];
  let lastCpu = NaN;
  const exec = (argv, env = {}) => {
    rmSync(cpuFile, { force: true });
    const t = performance.now();
    const r = spawnSync(argv[0], argv.slice(1), { cwd: project, env: { ...process.env, NO_COLOR: "1", SLIPWAY_COMPILE_CACHE: join(tmp, "compile-cache"), NODE_OPTIONS: `--require ${cpuHook}`, ...env }, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stdout}${r.stderr}`);
    lastCpu = existsSync(cpuFile) ? Number(readFileSync(cpuFile, "utf8")) : NaN;
    return ms;
  };
  const commands = [{ name: `bash -c "${TASK}" (the task alone)`, run: () => exec(["bash", "-c", TASK]) }];
  for (const impl of impls) {
    const env = { SLIPWAY_HOME: impl.home, ...impl.env };
    if (impl.served) {
      mkdirSync(impl.home, { recursive: true });
      impl.server = spawn(process.execPath, [impl.bin, "server", "--port", "0", "--no-bootstrap", "--idle-exit", "0"], { cwd: project, env: { ...process.env, NO_COLOR: "1", SLIPWAY_COMPILE_CACHE: join(tmp, "compile-cache"), ...env }, stdio: "ignore" });
      const info = join(impl.home, "server.json");
      for (let i = 0; i < 300 && !(existsSync(info) && readFileSync(info, "utf8").includes('"build"')); i++) await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(info)) throw new Error("the server did not start");
    }
    commands.push({ name: `${impl.label}: slipway --version`, run: () => exec(cli(impl.bin, "--version"), env) });
    commands.push({ name: `${impl.label}: slipway run small --wait (20 files, unchanged)`, run: () => exec(cli(impl.bin, "run", "small", "--wait"), env) });
    commands.push({ name: `${impl.label}: slipway run big --wait (${source.files} files, ${(source.bytes / 1e6).toFixed(0)} MB, unchanged)`, run: () => exec(cli(impl.bin, "run", "big", "--wait"), env) });
    // `run` executes the jobs deployed to the target: deploy both first
    exec(cli(impl.bin, "deploy"), env);
    // first runs: store the bundles (hashing 195 MB); then wait out the capture index's 2 s racy window
    // and run once more so the index trusts every file, as it would for a source at rest
    const firstMs = exec(cli(impl.bin, "run", "big", "--wait"), env);
    exec(cli(impl.bin, "run", "small", "--wait"), env);
    impl.firstMs = firstMs;
  }
  await new Promise((r) => setTimeout(r, 2100));
  for (const impl of impls) {
    exec(cli(impl.bin, "run", "big", "--wait"), { SLIPWAY_HOME: impl.home, ...impl.env });
    exec(cli(impl.bin, "run", "small", "--wait"), { SLIPWAY_HOME: impl.home, ...impl.env });
  }

  const loadStart = loadavg().map((x) => x.toFixed(2)).join(", ");
  const times = commands.map(() => []);
  const cpu = commands.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < commands.length; k++) {
      const i = (k + round) % commands.length;
      times[i].push(commands[i].run());
      cpu[i].push(lastCpu);
    }
  }
  const loadEnd = loadavg().map((x) => x.toFixed(2)).join(", ");
  // The served home's runs did run in its server (their handle says so), and the others' did not.
  for (const impl of impls.filter((i) => i.label !== "baseline")) {
    const env = { ...process.env, SLIPWAY_HOME: impl.home, ...impl.env };
    const id = JSON.parse(spawnSync(process.execPath, [impl.bin, "runs", "--json", "--limit", "1"], { cwd: project, env, encoding: "utf8" }).stdout).runs[0].id;
    const handle = JSON.parse(spawnSync(process.execPath, [impl.bin, "runs", "show", id, "--json"], { cwd: project, env, encoding: "utf8" }).stdout).handle;
    if (!!handle?.in_server !== !!impl.served) throw new Error(`${impl.label}: run ${id} has handle ${JSON.stringify(handle)}`);
  }
  const task = median(times[0]);
  const out = [];
  out.push(`${ROUNDS} rounds, every command once per round (rotating order); ${cpus().length} cores, load average ${loadStart} before the rounds, ${loadEnd} after (1/5/15 min); ${process.version}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? `set (${process.env.NODE_EXTRA_CA_CERTS})` : "unset"}; each CLI run as installed (its bin file).`);
  out.push(`First run of the big job (stores the bundle): ${impls.map((i) => `${i.label} ${(i.firstMs / 1000).toFixed(2)} s`).join(", ")}.`);
  out.push("");
  out.push("| command | median ms | min | max | above the task (median) | CPU ms (median) | CPU min |");
  out.push("|---|---:|---:|---:|---:|---:|---:|");
  const cpuCell = (xs) => (xs.some((x) => Number.isNaN(x)) ? "" : median(xs).toFixed(1));
  const cpuMin = (xs) => (xs.some((x) => Number.isNaN(x)) ? "" : Math.min(...xs).toFixed(1));
  commands.forEach((c, i) => out.push(`| ${c.name} | ${median(times[i]).toFixed(0)} | ${Math.min(...times[i]).toFixed(0)} | ${Math.max(...times[i]).toFixed(0)} | ${(median(times[i]) - task).toFixed(0)} | ${cpuCell(cpu[i])} | ${cpuMin(cpu[i])} |`));
  // what depends on the source: the big job minus the small one, same CLI, same rounds
  out.push("");
  for (const impl of impls) {
    const i = commands.findIndex((c) => c.name.startsWith(`${impl.label}: slipway run big`));
    const j = commands.findIndex((c) => c.name.startsWith(`${impl.label}: slipway run small`));
    out.push(`${impl.label}: big minus small job: wall ${(median(times[i]) - median(times[j])).toFixed(0)} ms (medians), ${(Math.min(...times[i]) - Math.min(...times[j])).toFixed(0)} ms (min to min); CPU ${(median(cpu[i]) - median(cpu[j])).toFixed(1)} ms (medians), ${(Math.min(...cpu[i]) - Math.min(...cpu[j])).toFixed(1)} ms (min to min).`);
  }
  for (const impl of impls) {
    const pool = join(impl.home, "cache", "workdirs");
    if (existsSync(pool)) out.push(`\n${impl.label}: working folders kept in ${readdirSync(pool).length} pool(s) under SLIPWAY_HOME/cache/workdirs.`);
  }
  console.log(out.join("\n"));
  console.log(`\n${JSON.stringify({ bench: "runs-rerun", rounds: ROUNDS, loadStart, loadEnd, source, commands: commands.map((c, i) => ({ name: c.name, ms: times[i].map((x) => Math.round(x)), cpuMs: cpu[i].map((x) => (Number.isNaN(x) ? null : Math.round(x * 10) / 10)) })) })}`);
} finally {
  for (const impl of impls) if (impl.server?.exitCode === null) spawnSync(process.execPath, [impl.bin, "server", "stop"], { env: { ...process.env, SLIPWAY_HOME: impl.home }, stdio: "ignore" });
  if (process.env.BENCH_KEEP === "1") console.error(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
