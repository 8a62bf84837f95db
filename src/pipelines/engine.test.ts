// The pipeline engine on real state stores (SQLite, and PostgreSQL when npm test runs it) with a
// ManualClock and recorded effects (jobs finish when the test says, deploys are recorded): stage order
// and conditions, approvals (approver, self-review, reject, timeout), waits, each concurrency policy,
// after-pipeline chaining with the upstream's results, and two engines on one state advancing a run
// with each stage done once. The real effects (jobs, deploys) are exercised by test/integration.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { iso, ManualClock } from "../clock.js";
import type { PipelineSpec, StageSpec } from "../kinds/pipeline/index.js";
import type { RecordedResource } from "../resources.js";
import type { PipelineRunRow } from "../store/state/pipeline-store.js";
import type { StateStore } from "../store/state/state-store.js";
import { stateBackends } from "../../test/helpers/state-backends.js";
import { checkDecision } from "./approvals.js";
import type { ApplyOutcome, JobState, RolloutHealth, RolloutStart, StageEffects } from "./effects.js";
import { PipelineEngine } from "./engine.js";

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

function spec(stages: Array<Partial<StageSpec> & Pick<StageSpec, "name" | "type">>, extra: Partial<PipelineSpec> = {}): PipelineSpec {
  return {
    module: "ml",
    params: {},
    concurrency: "queue",
    triggers: { manual: true, timezone: "UTC", catch_up: "none" },
    notifications: [],
    stages: stages.map((s, i) => ({ depends_on: i > 0 ? [stages[i - 1]!.name] : [], target: s.type === "approval" ? "prod" : "dev", ...s })) as StageSpec[],
    ...extra,
  };
}

/** Effects that record what they were asked; jobs end when `finishJob` is called. */
class Recorded implements StageEffects {
  jobs = new Map<string, JobState & { job: string; params: unknown }>();
  deploys: string[] = [];
  registered = true;
  async startJob(_run: PipelineRunRow, stage: StageSpec, id: string, params: { run: Record<string, string>; stage: Record<string, string> }) {
    this.jobs.set(id, { job: stage.job!, params, status: "running", results: null, metrics: null, error: null });
  }
  async jobState(_run: PipelineRunRow, _stage: StageSpec, id: string) {
    return this.jobs.get(id);
  }
  async cancelJob(_run: PipelineRunRow, _stage: StageSpec, id: string) {
    this.jobs.get(id)!.status = "cancelled";
  }
  finishJobs(status = "succeeded") {
    for (const j of this.jobs.values()) if (j.status === "running") Object.assign(j, { status, results: { accuracy: 0.9, registration: { model: "m", registered: this.registered, version: this.registered ? 4 : undefined } } });
  }
  async deploy(run: PipelineRunRow, stage: StageSpec, log: (l: string) => void): Promise<ApplyOutcome> {
    this.deploys.push(`${run.id}:${stage.name}`);
    log(`deployed ${stage.target}`);
    return { status: "succeeded", revision: this.deploys.length, changed: true, plan: { target: stage.target!, create: 1, update: 0, replace: 0, delete: 0, noop: 0, changes: [{ action: "create", address: "job.train" }] } };
  }
  async destroy(run: PipelineRunRow, stage: StageSpec, log: (l: string) => void) {
    return this.deploy(run, stage, log);
  }
  async plan(_run: PipelineRunRow, stage: StageSpec) {
    return { target: stage.target!, create: 1, update: 0, replace: 0, delete: 0, noop: 0, changes: [{ action: "create", address: "endpoint.e" }] };
  }
  async promote(): Promise<never> {
    throw new Error("not used");
  }
  /** A rollout's endpoint: the candidate's share over time, and what it answers (set by the test). */
  shares: number[] = [];
  answers: RolloutHealth = { requests: 20, errors: 0, p95_ms: 12 };
  reverted = 0;
  finished: string[] = [];
  async rolloutStart(_run: PipelineRunRow, stage: StageSpec): Promise<RolloutStart> {
    return { model: "m", candidate: 2, champion: 1, gate: stage.gate ? { passed: stage.gate.threshold! <= 0.9, message: `m@2: accuracy 0.9 against ${stage.gate.threshold}` } : null };
  }
  async rolloutShift(_run: PipelineRunRow, _stage: StageSpec, _start: RolloutStart, percent: number) {
    this.shares.push(percent);
    return { mark: this.shares.length * 100 };
  }
  async rolloutHealth(): Promise<RolloutHealth> {
    return this.answers;
  }
  async rolloutRevert() {
    this.reverted++;
    this.shares.push(0);
  }
  async rolloutFinish(run: PipelineRunRow, stage: StageSpec): Promise<ApplyOutcome | null> {
    this.finished.push(stage.name);
    return stage.alias ? this.deploy(run, stage, () => {}) : null;
  }
  async envValue() {
    return undefined;
  }
  async secrets() {
    return [];
  }
}

let n = 0;
for (const backend of stateBackends()) {
  describe(`pipeline engine (${backend.name})`, { skip: backend.skip }, () => {
    after(() => backend.cleanup());
    const setup = async (owner = "test:1") => {
      const { state, open } = await backend.create();
      const clock = new ManualClock(T0);
      const effects = new Recorded();
      const lines: string[] = [];
      const engine = new PipelineEngine({ state, clock, owner, effects, log: (l) => lines.push(l) });
      return { state, open, clock, effects, engine, lines, project: `p${++n}` };
    };
    const trigger = (engine: PipelineEngine, project: string, s: PipelineSpec, extra: Partial<Parameters<PipelineEngine["trigger"]>[0]> = {}) =>
      engine.trigger({ project, target: "dev", pipeline: "release", spec: s, dir: "/nowhere", trigger: "manual", user: "ann", ...extra });
    /**
     * Steps until nothing moves and nothing is in flight, twice in a row: a stage's end steps its run
     * from the effect's own continuation, which on a loaded machine can start after one quiet step.
     */
    const settle = async (engine: PipelineEngine, id: string) => {
      let quiet = 0;
      for (let i = 0; i < 50; i++) {
        await engine.claim(id);
        const r = await engine.step(id);
        await engine.drain();
        quiet = !r.moved && !engine.busy(id) ? quiet + 1 : 0;
        if (quiet === 2) return r.run;
      }
      throw new Error("the run did not settle");
    };
    const statuses = async (state: StateStore, id: string) => Object.fromEntries((await state.pipelines().stages(id)).map((s) => [s.stage, s.status]));

    it("runs stages in order; a condition on the run stage's registration decides the deploy", async () => {
      const { state, engine, effects, project } = await setup();
      const s = spec([
        { name: "train", type: "run", job: "train", params: { epochs: 3 } },
        { name: "dev", type: "deploy", when: "stages.train.registered == true && stages.train.results.accuracy >= 0.9" },
        { name: "note", type: "notify", message: "done" },
      ], { params: { candidate: "latest" } });
      const { run } = await trigger(engine, project, s, { params: { candidate: "v2" } });
      assert.equal(run.status, "running");
      await settle(engine, run.id);
      assert.deepEqual(await statuses(state, run.id), { train: "running", dev: "pending", note: "pending" });
      const [job] = effects.jobs.values();
      assert.deepEqual(job!.params, { run: { candidate: "v2" }, stage: { epochs: "3" } });
      effects.finishJobs();
      const done = await settle(engine, run.id);
      assert.equal(done.status, "succeeded");
      assert.deepEqual(await statuses(state, run.id), { train: "succeeded", dev: "succeeded", note: "succeeded" });
      const train = (await state.pipelines().stages(run.id)).find((x) => x.stage === "train")!;
      assert.deepEqual(JSON.parse(train.outputs!).registered, true);
      assert.deepEqual(effects.deploys, [`${run.id}:dev`]);

      // Not registered: the deploy is skipped, and so is what depends on it; the run still succeeds.
      effects.registered = false;
      const second = (await trigger(engine, project, s)).run;
      await settle(engine, second.id);
      effects.finishJobs();
      assert.equal((await settle(engine, second.id)).status, "succeeded");
      const rows = await state.pipelines().stages(second.id);
      assert.deepEqual(Object.fromEntries(rows.map((r) => [r.stage, [r.status, r.message]])), {
        train: ["succeeded", null],
        dev: ["skipped", "condition is false: stages.train.registered == true && stages.train.results.accuracy >= 0.9"],
        note: ["skipped", "dev was skipped"],
      });
      assert.equal(effects.deploys.length, 1);
    });

    it("rollout: each step serves its share for `bake` (the clock moves), then the next; the last moves the alias and deploys", async () => {
      const { state, engine, effects, clock, project } = await setup();
      const s = spec([{ name: "roll", type: "rollout", endpoint: "e", model: "m@challenger", steps: [10, 50, 100], bake: "10m", min_requests: 5, max_error_rate: 0.1, alias: "champion" }]);
      const { run } = await trigger(engine, project, s);
      await settle(engine, run.id);
      assert.deepEqual(effects.shares, [10]);
      assert.equal((await state.pipelines().run(run.id))!.status, "waiting", "a baking step leaves the run to whoever advances waits");
      clock.advance(9 * 60_000);
      await settle(engine, run.id);
      assert.deepEqual(effects.shares, [10], "not before the bake has passed");
      clock.advance(60_000);
      await settle(engine, run.id);
      assert.deepEqual(effects.shares, [10, 50]);
      // Too few requests to judge: the step waits for them.
      effects.answers = { requests: 2, errors: 0, p95_ms: 10 };
      clock.advance(10 * 60_000);
      await settle(engine, run.id);
      assert.deepEqual(effects.shares, [10, 50]);
      const row = async () => (await state.pipelines().stages(run.id))[0]!;
      assert.match((await row()).log!, /2 of 5 request\(s\) needed to judge it/);
      effects.answers = { requests: 30, errors: 1, p95_ms: 10 };
      clock.advance(60_000);
      await settle(engine, run.id);
      assert.deepEqual(effects.shares, [10, 50, 100]);
      clock.advance(10 * 60_000);
      const done = await settle(engine, run.id);
      assert.equal(done.status, "succeeded");
      assert.deepEqual(effects.finished, ["roll"]);
      const r = await row();
      assert.match(r.message!, /^rolled out m@2 to 100% of e in 3 step\(s\); m@champion -> 2, deployed \(revision 1\)$/);
      assert.deepEqual(JSON.parse(r.outputs!), { endpoint: "e", target: "dev", version: 2, percent: 100, rolled_back: false, status: "succeeded" });
      assert.equal(effects.reverted, 0);
    });

    it("rollout: an error rate above max_error_rate rolls back at once (rolled_back), and the run fails; a failed gate moves no traffic", async () => {
      const { state, engine, effects, clock, project } = await setup();
      const s = spec([{ name: "roll", type: "rollout", endpoint: "e", model: "m@challenger", steps: [10, 100], bake: "5m", min_requests: 0, max_error_rate: 0.05 }]);
      const { run } = await trigger(engine, project, s);
      await settle(engine, run.id);
      effects.answers = { requests: 10, errors: 3, p95_ms: 15 };
      clock.advance(5 * 60_000);
      const done = await settle(engine, run.id);
      assert.equal(done.status, "failed");
      assert.deepEqual(effects.shares, [10, 0], "back to what is deployed");
      const r = (await state.pipelines().stages(run.id))[0]!;
      assert.match(r.message!, /^rolled back m@2 on e: error rate 30\.0% at 10% is above max_error_rate 5% \(10 request\(s\), 3 error\(s\)/);
      assert.equal(JSON.parse(r.outputs!).rolled_back, true);

      effects.shares = [];
      const gated = spec([{ name: "roll", type: "rollout", endpoint: "e", model: "m@challenger", steps: [100], bake: "1m", min_requests: 0, max_error_rate: 0.05, gate: { metric: "accuracy", threshold: 0.95 } }]);
      const second = (await trigger(engine, project, gated)).run;
      assert.equal((await settle(engine, second.id)).status, "failed");
      assert.deepEqual(effects.shares, []);
      assert.match((await state.pipelines().stages(second.id))[0]!.message!, /^the metric gate failed: m@2: accuracy 0\.9 against 0\.95; no traffic moved$/);
    });

    it("a failed stage fails the run and skips what depends on it; independent stages still run", async () => {
      const { state, engine, effects, project } = await setup();
      const { run } = await trigger(engine, project, spec([{ name: "train", type: "run", job: "train" }, { name: "dev", type: "deploy" }, { name: "side", type: "deploy", depends_on: [] }]));
      await settle(engine, run.id);
      effects.finishJobs("failed");
      const done = await settle(engine, run.id);
      assert.equal(done.status, "failed");
      assert.match(done.message!, /^stage train failed: job run r\w+ failed/);
      assert.deepEqual(await statuses(state, run.id), { train: "failed", dev: "skipped", side: "succeeded" });
    });

    it("approvals: only listed approvers, not the one who triggered it, each once; enough approvals pass; the plan is shown", async () => {
      const { state, engine, effects, project } = await setup();
      const s = spec([{ name: "ok", type: "approval", approvers: ["user:bob", "group:release", "user:ann"], required: 2, prevent_self_review: true, timeout: "1h" }, { name: "prod", type: "deploy", target: "prod" }]);
      const { run } = await trigger(engine, project, s);
      await settle(engine, run.id);
      const fresh = (await state.pipelines().run(run.id))!;
      assert.equal(fresh.status, "waiting");
      const row = () => state.pipelines().stages(run.id).then((r) => r.find((x) => x.stage === "ok")!);
      const details = JSON.parse((await row()).details!);
      assert.deepEqual(details.plan, [{ target: "prod", create: 1, update: 0, replace: 0, delete: 0, noop: 0, changes: [{ action: "create", address: "endpoint.e" }] }], "the approval shows what the gated deploy would change");
      const decide = async (name: string, groups: string[], decision: "approve" | "reject") => {
        checkDecision(fresh, s.stages[0]!, await row(), await state.pipelines().decisions(run.id), { name, groups }, decision);
        await state.pipelines().decide({ run_id: run.id, stage: "ok", user: name, decision, comment: null, at: iso(T0) });
      };
      await assert.rejects(decide("eve", ["ml"], "approve"), { code: "forbidden", message: `eve is not an approver of stage ok of pipeline run ${run.id}` });
      await assert.rejects(decide("ann", [], "approve"), { code: "self_review" });
      await decide("bob", [], "approve");
      await assert.rejects(decide("bob", [], "approve"), { code: "already_decided" });
      await settle(engine, run.id);
      assert.equal((await row()).status, "waiting", "1 of 2 approvals");
      await decide("carol", ["release"], "approve");
      const done = await settle(engine, run.id);
      assert.equal(done.status, "succeeded");
      assert.equal((await row()).message, "approved by bob, carol");
      assert.deepEqual(effects.deploys, [`${run.id}:prod`]);
      await assert.rejects(decide("dave", ["release"], "approve"), { code: "approval_not_waiting" });
    });

    it("approvals: a rejection fails the stage; no decision within the timeout fails it too", async () => {
      const { state, engine, clock, effects, project } = await setup();
      const s = spec([{ name: "ok", type: "approval", approvers: ["user:bob"], required: 1, prevent_self_review: true, timeout: "1h" }, { name: "prod", type: "deploy" }]);
      const rejected = (await trigger(engine, project, s)).run;
      await settle(engine, rejected.id);
      await state.pipelines().decide({ run_id: rejected.id, stage: "ok", user: "bob", decision: "reject", comment: "not today", at: iso(T0) });
      const r1 = await settle(engine, rejected.id);
      assert.equal(r1.status, "failed");
      assert.equal(r1.message, "stage ok failed: rejected by bob: not today");

      const slow = (await trigger(engine, project, s)).run;
      const stepped = await settle(engine, slow.id);
      assert.equal(stepped.status, "waiting");
      clock.advance(3_600_000 - 1);
      assert.equal((await settle(engine, slow.id)).status, "waiting");
      clock.advance(1);
      const r2 = await settle(engine, slow.id);
      assert.equal(r2.status, "failed");
      assert.match(r2.message!, /not approved within 1h \(timed out; 0 of 1 approval\(s\)\)/);
      assert.deepEqual(effects.deploys, []);
    });

    it("a wait ends when the clock has moved past it", async () => {
      const { engine, clock, effects, project } = await setup();
      const { run } = await trigger(engine, project, spec([{ name: "pause", type: "wait", duration: "10m" }, { name: "dev", type: "deploy" }]));
      const r = await settle(engine, run.id);
      assert.equal(r.status, "waiting");
      const step = await engine.step(run.id);
      assert.equal(step.next, T0 + 600_000);
      clock.advance(600_000);
      assert.equal((await settle(engine, run.id)).status, "succeeded");
      assert.equal(effects.deploys.length, 1);
    });

    it("concurrency: queue waits for the previous run, skip records the new one as skipped, cancel_previous cancels the running one", async () => {
      const { state, engine, effects, project, lines } = await setup();
      const long = (c: PipelineSpec["concurrency"]) => spec([{ name: "train", type: "run", job: "train" }], { concurrency: c });

      const q1 = (await trigger(engine, project, long("queue"), { pipeline: "q" })).run;
      const q2 = (await trigger(engine, project, long("queue"), { pipeline: "q" })).run;
      assert.deepEqual([q1.status, q2.status], ["running", "queued"]);
      await settle(engine, q1.id);
      effects.finishJobs();
      await settle(engine, q1.id);
      assert.equal((await state.pipelines().run(q1.id))!.status, "succeeded");
      assert.equal((await state.pipelines().run(q2.id))!.status, "running", `the queued run starts when the previous ends\n${lines.join("\n")}`);

      const s1 = (await trigger(engine, project, long("skip"), { pipeline: "s" })).run;
      const s2 = (await trigger(engine, project, long("skip"), { pipeline: "s" })).run;
      assert.equal(s1.status, "running");
      assert.equal(s2.status, "skipped");
      assert.equal(s2.message, `the previous run ${s1.id} still runs (concurrency: skip)`);

      const c1 = (await trigger(engine, project, long("cancel_previous"), { pipeline: "c" })).run;
      await settle(engine, c1.id);
      const job = (await state.pipelines().stages(c1.id))[0]!.job_run!;
      const c2 = (await trigger(engine, project, long("cancel_previous"), { pipeline: "c" })).run;
      assert.equal(c2.status, "running");
      const cancelled = (await state.pipelines().run(c1.id))!;
      assert.equal(cancelled.status, "cancelled");
      assert.equal(cancelled.message, `cancelled: run ${c2.id} started (concurrency: cancel_previous)`);
      assert.equal(effects.jobs.get(job)!.status, "cancelled", "its job run is cancelled too");
      assert.equal(await state.pipelines().slot(project, "dev", "c"), c2.id);
    });

    it("after-pipeline: a run that ends starts the pipelines that run after it, once, with its results as upstream", async () => {
      const { state, engine, effects, project } = await setup();
      const train = spec([{ name: "train", type: "run", job: "train" }]);
      const ship = spec([{ name: "dev", type: "deploy", when: "upstream.stages.train.registered == true" }], { triggers: { manual: false, timezone: "UTC", catch_up: "none", after: { pipeline: "train", outcome: "succeeded" } } });
      const record = async (name: string, s: PipelineSpec) => {
        const r: RecordedResource = { address: `pipeline.${name}`, kind: "pipeline", name, module: "ml", phase: 0, spec: s as unknown as Record<string, unknown>, specHash: name, dependsOn: [], outputs: {}, createdAt: iso(T0), updatedAt: iso(T0) };
        await state.forTarget(project, "dev").commitPut(r);
      };
      await record("train", train);
      await record("ship", ship);
      const { run } = await trigger(engine, project, train, { pipeline: "train" });
      await settle(engine, run.id);
      effects.finishJobs();
      await settle(engine, run.id);
      const [chained] = await state.pipelines().runs({ project, target: "dev", pipeline: "ship" });
      assert.ok(chained, "ship was triggered");
      assert.equal(chained.trigger, "after");
      assert.equal(chained.trigger_ref, run.id);
      assert.equal(JSON.parse(chained.upstream!).stages.train.registered, true);
      assert.equal((await settle(engine, chained.id)).status, "succeeded");
      assert.deepEqual(effects.deploys, [`${chained.id}:dev`]);
      // The same upstream run never triggers twice (its trigger key is taken).
      const again = await trigger(engine, project, ship, { pipeline: "ship", trigger: "after", key: `after:${run.id}` });
      assert.equal(again.created, false);
      assert.equal(again.run.id, chained.id);
    });

    it("two engines on one state: each run advanced by one at a time, each deploy done once", async () => {
      const { state, open, clock, effects, project } = await setup();
      const other = await open();
      const a = new PipelineEngine({ state, clock, owner: "a:1", effects, log: () => {} });
      const b = new PipelineEngine({ state: other, clock, owner: "b:1", effects, log: () => {} });
      const s = spec(Array.from({ length: 6 }, (_, i) => ({ name: `d${i}`, type: "deploy" as const })));
      const runs = [];
      for (let i = 0; i < 4; i++) runs.push((await a.trigger({ project, target: "dev", pipeline: `p${i}`, spec: s, dir: "/x", trigger: "manual", user: "ann" })).run);
      for (let i = 0; i < 30; i++) {
        await Promise.all([a.tick(), b.tick()]);
        await Promise.all([a.drain(), b.drain()]);
      }
      for (const r of runs) assert.equal((await state.pipelines().run(r.id))!.status, "succeeded");
      assert.equal(effects.deploys.length, 24);
      assert.equal(new Set(effects.deploys).size, 24, "no stage was deployed twice");
      await a.stop();
      await b.stop();
      await other.close();
    });
  });
}
