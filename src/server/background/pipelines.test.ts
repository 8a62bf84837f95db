// The server's pipelines loop with a ManualClock on a real SQLite state: cron triggers fire at their
// due times in their zone (once per time, also with two loops), catch_up once after the server was
// down, and a git branch polled at its interval starts one run per new commit (a real repository made
// with git here). Stage effects are recorded (the engine's own tests cover stages).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { iso, ManualClock } from "../../clock.js";
import { readRuntimeEnvWith, type RuntimeEnv } from "../../env.js";
import type { PipelineSpec } from "../../kinds/pipeline/index.js";
import type { StageEffects } from "../../pipelines/effects.js";
import type { RecordedResource } from "../../resources.js";
import { openStores, type Stores } from "../../store/open.js";
import { PipelineLoop } from "./pipelines.js";

const T0 = Date.UTC(2026, 0, 5, 4, 59, 30); // Monday 04:59:30 UTC = 05:59:30 in Paris
const MIN = 60_000;

const effects: StageEffects = {
  async startJob() {},
  async jobState() {
    return { status: "succeeded", results: null, metrics: null, error: null };
  },
  async cancelJob() {},
  async deploy(_run, stage) {
    return { status: "succeeded", revision: 1, changed: true, plan: { target: stage.target!, create: 0, update: 0, replace: 0, delete: 0, noop: 0, changes: [] } };
  },
  async destroy(_run, stage) {
    return { status: "succeeded", revision: 1, changed: true, plan: { target: stage.target!, create: 0, update: 0, replace: 0, delete: 0, noop: 0, changes: [] } };
  },
  async plan(_run, stage) {
    return { target: stage.target!, create: 0, update: 0, replace: 0, delete: 0, noop: 0, changes: [] };
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

function pipeline(name: string, triggers: Partial<PipelineSpec["triggers"]>): RecordedResource {
  const spec: PipelineSpec = { module: "ml", params: {}, concurrency: "queue", triggers: { manual: true, timezone: "UTC", catch_up: "none", ...triggers }, notifications: [], stages: [{ name: "dev", type: "deploy", target: "dev", depends_on: [], mode: "create_or_update" }] };
  return { address: `pipeline.${name}`, kind: "pipeline", name, module: "ml", phase: 0, spec: spec as unknown as Record<string, unknown>, specHash: name, dependsOn: [], outputs: {}, createdAt: iso(T0), updatedAt: iso(T0) };
}

describe("pipelines loop: cron and git triggers", () => {
  let root: string;
  let env: RuntimeEnv;
  let clock: ManualClock;
  let stores: Stores;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), "slipway-pipeline-loop-"));
    clock = new ManualClock(T0);
    env = { ...readRuntimeEnvWith({ SLIPWAY_HOME: join(root, "home") }), clock };
    stores = await openStores(env.home);
  });
  after(async () => {
    await stores.close();
    rmSync(root, { recursive: true, force: true });
  });
  const loop = (owner = "s:1") => new PipelineLoop({ env, stores, clock, owner, log: () => {}, effects });
  const runsOf = async (project: string, name: string) => (await stores.state.pipelines().runs({ project, target: "dev", pipeline: name, oldestFirst: true })).map((r) => [r.trigger, r.trigger_ref, r.status]);
  const deployTo = async (project: string, ...resources: RecordedResource[]) => {
    for (const r of resources) await stores.state.forTarget(project, "dev").commitPut(r);
    await stores.state.background().putTarget({ project, target: "dev", dir: root, retention: null, updated_at: iso(T0) });
  };

  it("a cron trigger starts a run at each due time in its zone, once, even with two servers", async () => {
    await deployTo("c1", pipeline("nightly", { cron: "0 6 * * *", timezone: "Europe/Paris" }));
    const a = loop("a:1");
    const b = loop("b:1");
    assert.equal((await a.tick()).triggered, 0, "05:59:30 in Paris");
    clock.advance(30_000);
    const [ta, tb] = await Promise.all([a.tick(), b.tick()]);
    assert.equal(ta.triggered + tb.triggered, 1, "06:00 Paris fires once across the two loops");
    await Promise.all([a.tick(), b.tick(), a.engine.drain(), b.engine.drain()]);
    await Promise.all([a.tick(), b.tick()]);
    assert.deepEqual(await runsOf("c1", "nightly"), [["cron", "2026-01-05T05:00:00.000Z", "succeeded"]]);
    clock.advance(24 * 60 * MIN);
    await a.tick();
    await a.tick();
    assert.equal((await runsOf("c1", "nightly")).length, 2, "the next day's time fires too");
    await a.stop();
    await b.stop();
  });

  it("catch_up once: times missed while no server ran start one run; none: they are skipped", async () => {
    clock = new ManualClock(T0);
    env = { ...env, clock };
    await deployTo("c2", pipeline("hourly-once", { cron: "30 * * * *", catch_up: "once" }), pipeline("hourly-none", { cron: "30 * * * *" }));
    clock.advance(4 * 60 * MIN); // no server from 04:59:30 to 08:59:30: 05:30 … 08:30 missed
    const l = loop();
    await l.tick();
    await l.tick();
    assert.deepEqual(await runsOf("c2", "hourly-once"), [["cron", "2026-01-05T08:30:00.000Z", "succeeded"]]);
    assert.deepEqual(await runsOf("c2", "hourly-none"), []);
    await l.stop();
  });

  it("a git trigger polls its branch at its interval; each new commit starts one run", async () => {
    clock = new ManualClock(T0);
    env = { ...env, clock };
    const repo = join(root, "repo");
    const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@x", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@x" } }).trim();
    execFileSync("git", ["init", "-q", "-b", "main", repo]);
    const commit = (text: string) => {
      writeFileSync(join(repo, "file.txt"), text);
      git("add", "file.txt");
      git("commit", "-q", "-m", text);
      return git("rev-parse", "HEAD");
    };
    commit("one");
    git("checkout", "-q", "-b", "develop");
    const first = commit("two");
    await deployTo("g1", pipeline("on-commit", { git: { repo, branch: "develop", every: "1m" } }));
    const l = loop();
    await l.tick();
    assert.deepEqual(await runsOf("g1", "on-commit"), [], "the head when first seen is not a new commit");
    const head = await stores.state.pipelines().gitHead("g1", "dev", "on-commit");
    assert.equal(head?.commit, first);
    const second = commit("three");
    await l.tick();
    assert.deepEqual(await runsOf("g1", "on-commit"), [], "not polled again before its interval");
    clock.advance(MIN);
    await l.tick();
    await l.tick();
    assert.deepEqual(await runsOf("g1", "on-commit"), [["git", second, "succeeded"]]);
    clock.advance(MIN);
    await l.tick();
    assert.equal((await runsOf("g1", "on-commit")).length, 1, "the same commit does not start a second run");
    git("checkout", "-q", "main");
    commit("on main");
    clock.advance(MIN);
    await l.tick();
    assert.equal((await runsOf("g1", "on-commit")).length, 1, "commits on other branches do not count");
    await l.stop();
  });
});
