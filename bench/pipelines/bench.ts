// 20 no-op stages (notify stages without a channel, chained): how long the engine takes per stage, on
// a real SQLite state, against a raw baseline measured in the same rounds (interleaved).
//
//   raw          the least any scheduler of recorded stages does: per stage, one UPDATE to running and
//                one to succeeded on the same table (no engine)
//   foreground   PipelineEngine.trigger + driveInForeground (what `pipelines run` does embedded)
//   server       the server's background loop (startBackground) advancing a run another process
//                triggered; timed from the first stage's start to the last stage's end (the pickup,
//                up to one loop interval, is reported apart)
// Prints one JSON line per round and a summary with medians.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { iso, systemClock } from "../../src/clock.js";
import { readRuntimeEnvWith } from "../../src/env.js";
import type { PipelineSpec } from "../../src/kinds/pipeline/index.js";
import type { StageEffects } from "../../src/pipelines/effects.js";
import { PipelineEngine } from "../../src/pipelines/engine.js";
import { driveInForeground } from "../../src/pipelines/foreground.js";
import { startBackground } from "../../src/server/background/index.js";
import { openStores } from "../../src/store/open.js";

const STAGES = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const noop: StageEffects = {
  async startJob() {},
  async jobState() {
    return undefined;
  },
  async cancelJob() {},
  async deploy() {
    throw new Error("not used");
  },
  async destroy() {
    throw new Error("not used");
  },
  async plan() {
    throw new Error("not used");
  },
  async promote(): Promise<never> {
    throw new Error("not used");
  },
  async rolloutStart(): Promise<never> {
    throw new Error("not used");
  },
  async rolloutShift(): Promise<never> {
    throw new Error("not used");
  },
  async rolloutHealth(): Promise<never> {
    throw new Error("not used");
  },
  async rolloutRevert(): Promise<never> {
    throw new Error("not used");
  },
  async rolloutFinish(): Promise<never> {
    throw new Error("not used");
  },
  async envValue() {
    return undefined;
  },
  async secrets() {
    return [];
  },
};

const spec: PipelineSpec = {
  module: "bench",
  params: {},
  concurrency: "queue",
  triggers: { manual: true, timezone: "UTC", catch_up: "none" },
  notifications: [],
  stages: Array.from({ length: STAGES }, (_, i) => ({ name: `s${i}`, type: "notify" as const, message: "no-op", depends_on: i ? [`s${i - 1}`] : [] })),
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function round(i: number) {
  const root = mkdtempSync(join(tmpdir(), "slipway-bench-pipelines-"));
  const env = readRuntimeEnvWith({ SLIPWAY_HOME: join(root, "home") });
  const stores = await openStores(env.home);
  const state = stores.state;
  try {
    // raw: 2 UPDATEs per stage on the stage rows of a recorded run
    const engine = new PipelineEngine({ state, clock: systemClock, owner: "bench:fg", effects: noop, log: () => {} });
    const rawRun = (await engine.trigger({ project: "b", target: "dev", pipeline: "raw", spec, dir: root, trigger: "manual", user: "bench" })).run;
    let t = performance.now();
    for (const s of spec.stages) {
      await state.pipelines().transitionStage(rawRun.id, s.name, ["pending"], { status: "running", started_at: iso(Date.now()) });
      await state.pipelines().transitionStage(rawRun.id, s.name, ["running"], { status: "succeeded", finished_at: iso(Date.now()) });
    }
    const raw = performance.now() - t;
    await state.pipelines().transitionRun(rawRun.id, ["running"], { status: "succeeded" });
    await state.pipelines().swapSlot("b", "dev", "raw", rawRun.id, null);

    // foreground
    t = performance.now();
    const fg = (await engine.trigger({ project: "b", target: "dev", pipeline: "fg", spec, dir: root, trigger: "manual", user: "bench" })).run;
    const done = await driveInForeground(engine, fg.id, systemClock);
    const foreground = performance.now() - t;
    if (done.status !== "succeeded") throw new Error(`foreground run ${done.status}: ${done.message}`);
    await engine.stop();

    // server: the background loop advances a run triggered elsewhere
    const bg = startBackground(env, stores, { log: () => {}, pipelines: { effects: noop } });
    const other = new PipelineEngine({ state, clock: systemClock, owner: "bench:api", effects: noop, log: () => {} });
    const triggeredAt = Date.now();
    const sv = (await other.trigger({ project: "b", target: "dev", pipeline: "sv", spec, dir: root, trigger: "manual", user: "bench" })).run;
    for (;;) {
      const r = await state.pipelines().run(sv.id);
      if (r && ["succeeded", "failed", "cancelled"].includes(r.status)) break;
      await new Promise((res) => setTimeout(res, 5));
    }
    await bg.stop();
    const rows = await state.pipelines().stages(sv.id);
    const first = Math.min(...rows.map((r) => Date.parse(r.started_at!)));
    const last = Math.max(...rows.map((r) => Date.parse(r.finished_at!)));
    const server = last - first;
    const pickup = first - triggeredAt;
    const line = { round: i, raw_ms: +raw.toFixed(1), foreground_ms: +foreground.toFixed(1), server_ms: server, server_pickup_ms: pickup };
    console.log(JSON.stringify(line));
    return line;
  } finally {
    await stores.close();
    rmSync(root, { recursive: true, force: true });
  }
}

const lines = [];
for (let i = 0; i < ROUNDS; i++) lines.push(await round(i));
const m = (k: "raw_ms" | "foreground_ms" | "server_ms" | "server_pickup_ms") => median(lines.map((l) => l[k]));
console.log(
  JSON.stringify({
    stages: STAGES,
    rounds: ROUNDS,
    median_raw_ms: m("raw_ms"),
    median_foreground_ms: m("foreground_ms"),
    median_server_ms: m("server_ms"),
    median_server_pickup_ms: m("server_pickup_ms"),
    foreground_per_stage_ms: +(m("foreground_ms") / STAGES).toFixed(2),
    foreground_overhead_per_stage_ms: +((m("foreground_ms") - m("raw_ms")) / STAGES).toFixed(2),
    server_per_stage_ms: +(m("server_ms") / STAGES).toFixed(2),
    target_per_stage_ms: 50,
  }),
);
