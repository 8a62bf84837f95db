// The server's pipelines loop: advances every open pipeline run (src/pipelines/engine.ts: admission by
// the pipeline's concurrency, stages, approvals, waits, timeouts, notifications, after-triggers), fires
// the pipelines' cron triggers with the schedules' machinery (a ScheduleLoop whose schedules are
// `pipeline:NAME`: one claim row per due time, the same catch-up policy), and polls git branches (one
// lease per pipeline and poll time; each new commit starts one run).
import { iso, type Clock } from "../../clock.js";
import type { RuntimeEnv } from "../../env.js";
import type { PipelineSpec } from "../../kinds/pipeline/index.js";
import type { ScheduleSpec } from "../../kinds/schedule/index.js";
import { pipelineEffects } from "../../operations/pipeline-effects.js";
import type { StageEffects } from "../../pipelines/effects.js";
import { PipelineEngine } from "../../pipelines/engine.js";
import { branchHead } from "../../pipelines/git.js";
import type { RecordedResource } from "../../resources.js";
import type { Stores } from "../../store/open.js";
import { OPEN_PIPELINE_STATUSES } from "../../store/state/pipeline-store.js";
import { parseDuration } from "../../util/duration.js";
import { runIfDue, type PeriodicUnit } from "./periodic.js";
import { ScheduleLoop, type DeployedSchedule } from "./schedules.js";

type DeployedPipeline = RecordedResource<PipelineSpec> & { project: string; target: string };

export interface PipelineLoopOptions {
  env: RuntimeEnv;
  stores: Stores;
  clock: Clock;
  owner: string;
  log(line: string): void;
  /** Default: the operations' effects (jobs, deploys); the bench passes no-op ones. */
  effects?: StageEffects & { close?(): Promise<void> };
  /** Notification retries (tests shorten them). */
  retryDelaysMs?: readonly number[];
  /** Lease on a run being advanced (default 60 s). */
  leaseMs?: number;
}

export interface PipelineTick {
  advanced: number;
  open: number;
  triggered: number;
  next?: number;
}

export class PipelineLoop {
  readonly engine: PipelineEngine;
  private readonly cron: ScheduleLoop;
  private readonly effects: StageEffects & { close?(): Promise<void> };
  private pipelines?: { fingerprint: string; list: DeployedPipeline[] };

  constructor(private readonly o: PipelineLoopOptions) {
    const state = o.stores.state;
    this.effects = o.effects ?? pipelineEffects(o.env);
    this.engine = new PipelineEngine({ state, clock: o.clock, owner: o.owner, effects: this.effects, log: o.log, send: { smtpUrl: o.env.smtpUrl, retryDelaysMs: o.retryDelaysMs }, leaseMs: o.leaseMs });
    this.cron = new ScheduleLoop({
      state,
      clock: o.clock,
      owner: o.owner,
      log: o.log,
      source: { fingerprint: () => state.kindFingerprint("pipeline"), load: async () => (await this.deployed()).filter((p) => p.spec.triggers.cron).map(asSchedule) },
      owns: (f) => f.schedule.startsWith("pipeline:"),
      noConcurrency: true,
      runExists: async (id) => !!(await state.pipelines().run(id)),
      describe: (s) => `pipeline ${s.spec.job}`,
      start: async (fire, s) => {
        const p = (await this.deployed()).find((x) => x.project === s.project && x.target === s.target && x.name === s.spec.job);
        if (!p) throw new Error(`pipeline ${s.spec.job} is no longer deployed`);
        await this.engine.trigger({ ...(await this.origin(p)), trigger: "cron", ref: fire.due_at, key: `cron:${fire.due_at}`, runId: fire.run_id! });
      },
      cancel: async () => {},
    });
  }

  /** Deployed pipelines, reloaded when their count or latest change moved. */
  async deployed(): Promise<DeployedPipeline[]> {
    const state = this.o.stores.state;
    const fingerprint = await state.kindFingerprint("pipeline");
    if (this.pipelines?.fingerprint !== fingerprint) this.pipelines = { fingerprint, list: ((await state.resourcesOfKind("pipeline")) as unknown as DeployedPipeline[]).filter((p) => p.spec.triggers && Array.isArray(p.spec.stages)) };
    return this.pipelines.list;
  }

  /** What a run triggered by the server starts from: the deployed spec, the folder deploy recorded, the last deployer. */
  private async origin(p: DeployedPipeline) {
    const state = this.o.stores.state;
    const dir = (await state.background().targets()).find((t) => t.project === p.project && t.target === p.target)?.dir;
    if (!dir) throw new Error(`${p.project}/${p.target} has no recorded project folder: deploy it again`);
    const [last] = await state.forTarget(p.project, p.target).listDeployments(1);
    return { project: p.project, target: p.target, pipeline: p.name, spec: p.spec, dir, user: last?.user ?? "slipway" };
  }

  /** One pass: cron fires, git polls, then every open run advanced as far as it goes now. */
  async tick(): Promise<PipelineTick> {
    const fired = await this.cron.tick();
    let triggered = fired.started;
    let next = fired.next;
    for (const p of (await this.deployed()).filter((x) => x.spec.triggers.git)) {
      const r = await runIfDue(this.gitUnit(p, () => triggered++), { state: this.o.stores.state, clock: this.o.clock, owner: this.o.owner, log: this.o.log });
      next = next === undefined ? r.next : Math.min(next, r.next);
    }
    const t = await this.engine.tick();
    if (t.next !== undefined) next = next === undefined ? t.next : Math.min(next, t.next);
    return { advanced: t.advanced, open: t.open, triggered, next };
  }

  private gitUnit(p: DeployedPipeline, onTrigger: () => void): PeriodicUnit {
    const git = p.spec.triggers.git!;
    return {
      unit: `pipeline-git/${p.project}/${p.target}/${p.name}`,
      everyMs: parseDuration(git.every),
      run: async () => {
        const origin = await this.origin(p);
        const repo = git.repo ?? ".";
        const head = await branchHead(repo, git.branch, origin.dir, this.o.env.processEnv);
        const store = this.o.stores.state.pipelines();
        const seen = await store.gitHead(p.project, p.target, p.name);
        const row = { project: p.project, target: p.target, pipeline: p.name, repo, branch: git.branch, commit: head, seen_at: iso(this.o.clock.now()) };
        if (!seen || seen.repo !== repo || seen.branch !== git.branch) {
          await store.putGitHead(row);
          return `${git.branch} is at ${head.slice(0, 12)}: its next commit starts a run`;
        }
        if (seen.commit === head) return `${git.branch} is still at ${head.slice(0, 12)}`;
        const { run, created } = await this.engine.trigger({ ...origin, trigger: "git", ref: head, key: `git:${head}` });
        await store.putGitHead(row);
        if (created) onTrigger();
        return `${git.branch} moved to ${head.slice(0, 12)}: ${created ? `started run ${run.id}` : `run ${run.id} had started for it`}`;
      },
    };
  }

  /** Pipelines keep the server up while they have triggers it fires or runs it advances. */
  async hasWork(): Promise<boolean> {
    if ((await this.deployed()).some((p) => p.spec.triggers.cron || p.spec.triggers.git || p.spec.triggers.after)) return true;
    return (await this.o.stores.state.pipelines().runsWithStatus(OPEN_PIPELINE_STATUSES)).length > 0;
  }

  busy(): boolean {
    return this.engine.busy();
  }

  async stop(): Promise<void> {
    await this.engine.stop();
    await this.effects.close?.();
  }
}

/** A pipeline's cron trigger as a schedule the ScheduleLoop fires (its name holds ":", which no schedule's can). */
function asSchedule(p: DeployedPipeline): DeployedSchedule {
  const t = p.spec.triggers;
  const spec: ScheduleSpec = { module: p.spec.module, job: p.name, cron: t.cron!, timezone: t.timezone, paused: false, catch_up: t.catch_up, concurrency: "queue" };
  return { ...(p as unknown as RecordedResource<ScheduleSpec>), name: `pipeline:${p.name}`, address: `pipeline.${p.name}`, kind: "schedule", spec, project: p.project, target: p.target } as DeployedSchedule;
}

