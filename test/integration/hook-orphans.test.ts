// Random kill -9 trials against hooks that outlive the CLI (issue 9, point 1): `slipway deploy` is
// killed at a random moment while hook scripts run; the next deploy must adopt each orphan's outcome
// (waiting for it, or killing it with --kill-orphans), never run a hook to completion twice, leave no
// hook running unobserved, and converge.
//
// SLIPWAY_TRIALS sets the number of trials (default 3, for CI); scripts/hook-trials.sh runs 25.
// SLIPWAY_TRIAL_SEED replays a run (each trial prints its seed).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { processAlive } from "../../src/util/run-script.js";
import { exited, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { homeStateNumber } from "../helpers/home-backends.js";

const TRIALS = Math.max(1, Number(process.env.SLIPWAY_TRIALS ?? 3) || 3);
const SEED = Number(process.env.SLIPWAY_TRIAL_SEED ?? Date.now() % 1_000_000);

// Each hook logs its start (with its pid) and its end; the durations make a deploy take ~3 s.
const HOOKS: Array<{ module: string; name: string; seconds: string }> = [
  { module: "core", name: "prepare", seconds: "0.4" },
  { module: "core", name: "migrate", seconds: "1.2" },
  { module: "app", name: "publish", seconds: "0.6" },
  { module: "app", name: "notify", seconds: "0.3" },
];

const script = (name: string, seconds: string) => `#!/usr/bin/env bash
set -euo pipefail
d="$SLIPWAY_HOME/.."
echo "start ${name} $$" >> "$d/events.log"
echo "${name} is working"
sleep ${seconds}
echo "${name} is done"
echo "end ${name}" >> "$d/events.log"
`;

function project(): Record<string, string> {
  const files: Record<string, string> = {
    "slipway.yaml": "project: orphans\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
  };
  for (const module of ["core", "app"]) {
    const hooks = HOOKS.filter((h) => h.module === module);
    files[`modules/${module}/module.yaml`] =
      `module: ${module}\n${module === "app" ? "depends_on: [core]\n" : ""}hooks:\n${hooks.map((h) => `  - { name: ${h.name}, deploy: ${h.name}.sh }`).join("\n")}\nsettings:\n  ready: "yes"\n`;
    for (const h of hooks) files[`modules/${module}/${h.name}.sh`] = script(h.name, h.seconds);
  }
  return files;
}

function events(box: Sandbox): string[] {
  const file = join(box.home, "..", "events.log");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
}

/** mulberry32: a small seeded generator, so a failing trial can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface TrialResult {
  killed: boolean;
  orphansWaitedFor: number;
  orphansKilled: number;
  adopted: number;
  startedAgain: number;
}

async function trial(seed: number): Promise<TrialResult> {
  const rand = random(seed);
  const box = sandbox(project());
  try {
    // Kill after a random number of hook events (0 = as soon as the first hook starts), plus a random
    // 0-250 ms, so kills land inside scripts, between a script's end and its record, and between hooks.
    const afterEvents = 1 + Math.floor(rand() * (HOOKS.length * 2 - 1));
    const jitterMs = Math.floor(rand() * 250);
    const killOrphans = rand() < 0.25;
    const child = box.start(["deploy"]);
    const done = exited(child);
    let finished = false;
    void done.then(() => (finished = true));
    await waitFor(() => finished || events(box).length >= afterEvents, 60_000, `${afterEvents} hook events`);
    if (!finished) {
      await new Promise((r) => setTimeout(r, jitterMs));
      child.kill("SIGKILL");
    }
    const first = await done;
    const killed = first.signal === "SIGKILL";
    if (!killed) assert.equal(first.code, 0, first.stderr);

    const recovered = box.run(killOrphans ? ["deploy", "--kill-orphans"] : ["deploy"]);
    assert.equal(recovered.code, 0, `seed ${seed}: ${recovered.stderr}`);

    // No hook is left running unobserved: every script that started has ended.
    const log = events(box);
    for (const line of log.filter((l) => l.startsWith("start "))) {
      const pid = Number(line.split(" ")[2]);
      assert.ok(!processAlive(pid), `seed ${seed}: ${line} is still running after the recovering deploy`);
    }
    // No hook runs to completion twice, and every hook completed.
    for (const h of HOOKS) {
      const ends = log.filter((l) => l === `end ${h.name}`).length;
      assert.equal(ends, 1, `seed ${seed}: hook ${h.name} completed ${ends} times; events: ${log.join(" | ")}\n${recovered.stderr}`);
    }
    // State converges: nothing left to do, no deployment left running, no lock held.
    const plan = box.json(["plan"]).doc;
    assert.equal(plan.actions.length, 0, `seed ${seed}: ${JSON.stringify(plan.summary)}`);
    // The home's state database: SQLite, or PostgreSQL under the backend matrix.
    assert.equal(homeStateNumber(box.home, "select count(*) n from deployments where status = 'running'"), 0);
    assert.equal(homeStateNumber(box.home, "select count(*) n from locks"), 0);
    assert.equal(homeStateNumber(box.home, "select count(*) n from settings"), 2);
    const count = (re: RegExp) => (recovered.stderr.match(re) ?? []).length;
    return {
      killed,
      orphansWaitedFor: count(/is still running: waiting for it to finish/g),
      orphansKilled: count(/left running by the interrupted deployment \S+ \(--kill-orphans\)/g),
      adopted: count(/finished on its own \(exit 0\)/g),
      startedAgain: log.filter((l) => l.startsWith("start ")).length - HOOKS.length,
    };
  } finally {
    box.cleanup();
  }
}

describe("random kill -9 of deploy while hooks run", () => {
  it(`${TRIALS} trial(s): no hook completes twice, none is left running, state converges`, async (t) => {
    const totals: TrialResult = { killed: false, orphansWaitedFor: 0, orphansKilled: 0, adopted: 0, startedAgain: 0 };
    let killed = 0;
    for (let i = 0; i < TRIALS; i++) {
      const seed = SEED + i;
      const r = await trial(seed);
      if (r.killed) killed++;
      totals.orphansWaitedFor += r.orphansWaitedFor;
      totals.orphansKilled += r.orphansKilled;
      totals.adopted += r.adopted;
      totals.startedAgain += r.startedAgain;
      t.diagnostic(`trial ${i + 1} (seed ${seed}): ${r.killed ? "killed" : "finished before the kill"}; waited for ${r.orphansWaitedFor}, killed ${r.orphansKilled}, adopted ${r.adopted}, started again ${r.startedAgain}`);
    }
    t.diagnostic(
      `${TRIALS} trials, ${killed} killed mid-deploy: orphans waited for ${totals.orphansWaitedFor}, killed with --kill-orphans ${totals.orphansKilled}, outcomes adopted ${totals.adopted}, hooks started again ${totals.startedAgain}; no hook completed twice`,
    );
  });
});
