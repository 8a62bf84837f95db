#!/usr/bin/env node
// `status` and `plan` (nothing to change, 1,010 resources) embedded and through a server, interleaved in
// the same run: each round runs embedded and remote back to back (alternating which goes first), so a
// change in the machine's load hits both alike. Whole processes, wall time. See bench/README.md ("remote").
//
//   node bench/remote/bench.mjs [N=1000] [ROUNDS=9]
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 9);
const root = resolve(new URL("../..", import.meta.url).pathname);
const bin = join(root, "bin", "slipway.cjs");
const work = mkdtempSync(join(tmpdir(), "slipway-bench-remote-"));
const project = join(work, "project");
const token = `swt_bench-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
const homes = { embedded: join(work, "home-embedded"), client: join(work, "home-client"), server: join(work, "home-server") };
const base = { ...process.env, NO_COLOR: "1", SLIPWAY_USER: "admin" };
for (const k of ["SLIPWAY_SERVER", "SLIPWAY_TOKEN"]) delete base[k];

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

let url;
function slipway(mode, args, { check = true } = {}) {
  const env = mode === "embedded" ? { ...base, SLIPWAY_HOME: homes.embedded } : { ...base, SLIPWAY_HOME: homes.client, SLIPWAY_SERVER: url, SLIPWAY_TOKEN: token };
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: project, env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (check && r.status !== 0) throw new Error(`${mode}: slipway ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const server = spawn(process.execPath, [bin, "server", "--json", "--port", "0"], { cwd: work, env: { ...base, SLIPWAY_HOME: homes.server, SLIPWAY_BOOTSTRAP_TOKEN: token }, stdio: ["ignore", "pipe", "ignore"] });
try {
  spawnSync(process.execPath, [join(root, "bench", "engine", "generate.mjs"), project, String(N)], { stdio: "inherit" });
  let out = "";
  server.stdout.on("data", (d) => (out += d));
  for (let i = 0; i < 600 && !url; i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      url = JSON.parse(out).url;
    } catch {
      /* not yet */
    }
  }
  if (!url) throw new Error("the server did not start");
  const resources = JSON.parse(slipway("embedded", ["validate", "--json"]).stdout).resources;
  const first = { embedded: slipway("embedded", ["deploy", "--yes"]).ms, remote: slipway("remote", ["deploy", "--yes"]).ms };
  for (const mode of ["embedded", "remote"]) {
    const plan = JSON.parse(slipway(mode, ["plan", "--json"]).stdout);
    const s = plan.summary;
    if (s.create + s.update + s.replace + s.delete !== 0 || s.noop !== resources) throw new Error(`${mode}: the plan is not empty: ${JSON.stringify(s)}`);
  }
  const load0 = loadavg();
  const commands = { "node -e 0": null, "--version": ["--version"], status: ["status"], "plan (nothing to change)": ["plan"] };
  const times = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [cmd, args] of Object.entries(commands)) {
      const order = round % 2 ? ["remote", "embedded"] : ["embedded", "remote"];
      for (const mode of order) {
        let ms;
        if (!args) {
          const t = process.hrtime.bigint();
          spawnSync(process.execPath, ["-e", "0"]);
          ms = Number(process.hrtime.bigint() - t) / 1e6;
        } else ms = slipway(mode, args).ms;
        ((times[cmd] ??= {})[mode] ??= []).push(ms);
      }
    }
  }
  const load1 = loadavg();
  console.log(`${resources} resources, ${ROUNDS} interleaved rounds; first deploy: embedded ${first.embedded.toFixed(0)} ms, remote (upload included) ${first.remote.toFixed(0)} ms`);
  console.log(`load average before ${load0.map((x) => x.toFixed(2)).join(" ")}, after ${load1.map((x) => x.toFixed(2)).join(" ")}; ${spawnSync("nproc", { encoding: "utf8" }).stdout.trim()} cores; node ${process.version}`);
  console.log("| command | embedded median (ms) | remote median (ms) | remote / embedded |");
  console.log("|---|---:|---:|---:|");
  for (const [cmd, t] of Object.entries(times)) {
    const e = median(t.embedded);
    const r = median(t.remote);
    console.log(`| ${cmd} | ${e.toFixed(0)} | ${r.toFixed(0)} | ${(r / e).toFixed(2)} |`);
  }
} finally {
  if (url) spawnSync(process.execPath, [bin, "server", "stop"], { env: { ...base, SLIPWAY_HOME: homes.server }, stdio: "ignore" });
  server.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}
