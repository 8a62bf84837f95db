// The pipeline engine: a run is rows in the state database (src/store/state/pipeline-store.ts) that any
// process may advance, the server's background loop or the CLI in the foreground, one at a time:
//
//   trigger   records a run (queued) with its stages (pending); a trigger key (cron time, upstream run,
//             commit) makes a second trigger of the same thing do nothing
//   admit     concurrency per pipeline and target: the run that holds the pipeline's slot runs; a
//             compare-and-set on the slot row decides, so two processes never start two
//   step      advances one run as far as it can now: starts stages whose dependencies succeeded (or
//             skips them: a failed or skipped dependency, a false `when`), polls job runs, counts
//             approval decisions, ends waits and timed-out approvals, finishes the run
//
// Advancing a run needs its lease (owner + expiry on the run row, renewed while the process works);
// a process that dies leaves it to expire and another takes the run over: a run stage's job run id is
// recorded before the job starts (the taker finds it), a deploy or destroy that was in flight is
// applied again (applies converge), a notification is claimed by one insert (sent at most once).
import { iso, type Clock } from "../clock.js";
import { evaluateCondition, parseCondition } from "../kinds/pipeline/condition.js";
import type { PipelineEvent, PipelineSpec, StageSpec } from "../kinds/pipeline/index.js";
import type { StateStore } from "../store/state/state-store.js";
import { ACTIVE_PIPELINE_STATUSES, OPEN_PIPELINE_STATUSES, type PipelineRunRow, type PipelineStageRow } from "../store/state/pipeline-store.js";
import { newId } from "../util/ids.js";
import { parseDuration } from "../util/duration.js";
import { tally } from "./approvals.js";
import type { ApplyOutcome, PlanSummary, RolloutHealth, RolloutStart, StageEffects } from "./effects.js";
import { planLines } from "./plan-lines.js";
import { describeChannel, sendNotification, type NotificationMessage, type SendOptions } from "./notify.js";

export const FINISHED_STAGE = new Set(["succeeded", "failed", "skipped", "cancelled"]);
export const FINISHED_RUN = new Set(["succeeded", "failed", "cancelled", "skipped"]);

export type TriggerKind = "manual" | "cron" | "after" | "git";

export interface TriggerRequest {
  project: string;
  target: string;
  pipeline: string;
  spec: PipelineSpec;
  /** The project folder its deploy and run stages compile. */
  dir: string;
  trigger: TriggerKind;
  /** The cron due time, the upstream run, the commit. */
  ref?: string | null;
  /** One run per key and pipeline (cron:<due>, after:<run>, git:<commit>). */
  key?: string | null;
  params?: Record<string, string>;
  upstream?: Record<string, unknown> | null;
  user: string;
  /** The run's id, when the caller chose it (a cron fire claims it first). */
  runId?: string;
  /** The caller advances the run itself (the CLI in the foreground): it is recorded with this engine's lease, so a server does not take it meanwhile. */
  hold?: boolean;
}

export interface EngineOptions {
  /** Where pipeline runs live (SLIPWAY_HOME's state for the server). */
  state: StateStore;
  clock: Clock;
  /** Who advances runs (host:pid, or cli:pid). */
  owner: string;
  effects: StageEffects;
  log(line: string): void;
  /** How notifications are sent (retries, the SMTP URL); default: real sends with the default backoff. */
  send?: Omit<SendOptions, "clock" | "secret">;
  /** Lease on a run while advancing it (default 60 s; renewed at each step and every third of it). */
  leaseMs?: number;
}

export interface StepResult {
  run: PipelineRunRow;
  /** Something finished or started: step again at once. */
  moved: boolean;
  /** The earliest time a wait ends or an approval times out (epoch ms). */
  next?: number;
}

/** Scope fields a stage's outputs always carry. */
type Outputs = Record<string, unknown> & { status?: string };

export class PipelineEngine {
  private readonly leaseMs: number;
  /** Deploys, destroys, plans, job starts and notifications running in this process, by run/stage. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Notifications being sent by this process (drain waits for them). */
  private readonly sending = new Set<Promise<void>>();
  /** One step per run at a time in this process. */
  private readonly stepping = new Map<string, Promise<StepResult>>();
  /** Runs to step again once their current step ends. */
  private readonly again = new Set<string>();
  /** Runs whose lease this process holds. */
  private readonly held = new Set<string>();
  private renewTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(readonly o: EngineOptions) {
    this.leaseMs = o.leaseMs ?? 60_000;
  }

  private get store() {
    return this.o.state.pipelines();
  }

  private now(): number {
    return this.o.clock.now();
  }

  // ---- triggers and admission

  /** Records a run (queued) and admits it if its pipeline is free; returns the run as it stands (created: false when its trigger key was seen). */
  async trigger(r: TriggerRequest): Promise<{ run: PipelineRunRow; created: boolean }> {
    const now = this.now();
    const id = r.runId ?? newId("p", now);
    const params: Record<string, string> = { ...Object.fromEntries(Object.entries(r.spec.params).map(([k, v]) => [k, String(v)])), ...r.params };
    const row: PipelineRunRow = {
      id,
      project: r.project,
      target: r.target,
      pipeline: r.pipeline,
      status: "queued",
      trigger: r.trigger,
      trigger_ref: r.ref ?? null,
      trigger_key: r.key ?? null,
      params: JSON.stringify(params),
      spec: JSON.stringify(r.spec),
      dir: r.dir,
      upstream: r.upstream ? JSON.stringify(r.upstream) : null,
      user: r.user,
      created_at: iso(now),
      started_at: null,
      finished_at: null,
      message: null,
      owner: r.hold ? this.o.owner : null,
      lease_expires_at: r.hold ? now + this.leaseMs : null,
    };
    const stages: PipelineStageRow[] = r.spec.stages.map((s) => ({ run_id: id, stage: s.name, type: s.type, status: "pending", started_at: null, finished_at: null, due_at: null, job_run: null, outputs: null, details: null, message: null, log: null }));
    const created = await this.store.insertRun(row, stages);
    if (!created) {
      const existing = (await this.store.run(id)) ?? (await this.store.runs({ project: r.project, target: r.target, pipeline: r.pipeline, limit: 1000 })).find((x) => x.trigger_key === r.key);
      return { run: existing ?? row, created: false };
    }
    if (r.hold) {
      this.held.add(id);
      this.startRenewing();
    }
    this.o.log(`pipeline ${where(row)}: run ${id} triggered (${r.trigger}${r.ref ? ` ${r.ref}` : ""}) by ${r.user}`);
    await this.admit(r.project, r.target, r.pipeline);
    return { run: (await this.store.run(id))!, created: true };
  }

  /** Applies the pipeline's concurrency policy to its queued runs: start one, leave them queued, skip them, or cancel the active run for the newest. */
  async admit(project: string, target: string, pipeline: string): Promise<void> {
    const store = this.store;
    const queued = await store.runs({ project, target, pipeline, status: ["queued"], oldestFirst: true, limit: 1000 });
    if (!queued.length) return;
    const policy = (JSON.parse(queued.at(-1)!.spec) as PipelineSpec).concurrency;
    let active = await store.slot(project, target, pipeline);
    if (active) {
      const holder = await store.run(active);
      if (!holder || !(ACTIVE_PIPELINE_STATUSES as readonly string[]).includes(holder.status)) {
        // The holder finished without freeing the slot (its process died at that moment): free it.
        if (await store.swapSlot(project, target, pipeline, active, null)) active = null;
        else return;
      }
    }
    const start = async (run: PipelineRunRow, from: string | null, message: string | null): Promise<boolean> => {
      if (!(await store.swapSlot(project, target, pipeline, from, run.id))) return false;
      if (!(await store.transitionRun(run.id, ["queued"], { status: "running", started_at: iso(this.now()), message }))) {
        await store.swapSlot(project, target, pipeline, run.id, from);
        return false;
      }
      this.o.log(`pipeline ${where(run)}: run ${run.id} started${message ? ` (${message})` : ""}`);
      return true;
    };
    const skip = async (runs: PipelineRunRow[], message: string) => {
      for (const r of runs) if (await store.transitionRun(r.id, ["queued"], { status: "skipped", finished_at: iso(this.now()), message })) this.o.log(`pipeline ${where(r)}: run ${r.id} skipped: ${message}`);
    };
    if (policy === "cancel_previous") {
      const newest = queued.at(-1)!;
      if (active) {
        // Cancelling frees the slot; the newest run takes it (another process admitting at once would pick the same run).
        await this.cancel(active, `cancelled: run ${newest.id} started (concurrency: cancel_previous)`, false);
        if (!(await start(newest, null, `cancelled the previous run ${active} (concurrency: cancel_previous)`))) return;
      } else if (!(await start(newest, null, null))) return;
      await skip(queued.slice(0, -1), `superseded by run ${newest.id} (concurrency: cancel_previous)`);
      return;
    }
    if (!active) {
      if (!(await start(queued[0]!, null, null))) return;
      if (policy === "skip") await skip(queued.slice(1), `run ${queued[0]!.id} started at the same time (concurrency: skip)`);
      return;
    }
    if (policy === "skip") await skip(queued, `the previous run ${active} still runs (concurrency: skip)`);
    // queue: they wait; the active run's end admits the oldest.
  }

  /** Cancels an open run: its pending and waiting stages, its running job runs; a deploy in flight finishes but nothing starts after it. */
  async cancel(runId: string, message: string, admitNext = true): Promise<PipelineRunRow | undefined> {
    const store = this.store;
    const run = await store.run(runId);
    if (!run || !(await store.transitionRun(runId, OPEN_PIPELINE_STATUSES, { status: "cancelled", finished_at: iso(this.now()), message }))) return run && (await store.run(runId));
    const spec = JSON.parse(run.spec) as PipelineSpec;
    for (const row of await store.stages(runId)) {
      if (FINISHED_STAGE.has(row.status)) continue;
      await store.transitionStage(runId, row.stage, [row.status], { status: "cancelled", finished_at: iso(this.now()), message: "the run was cancelled" });
      const stage = spec.stages.find((s) => s.name === row.stage);
      if (stage?.type === "run" && row.job_run && row.status === "running") await this.o.effects.cancelJob(run, stage, row.job_run).catch((e: Error) => this.o.log(`pipeline ${where(run)}: could not cancel job run ${row.job_run}: ${e.message}`));
      // A rollout under way: the endpoint serves what is deployed again.
      if (stage?.type === "rollout" && row.status !== "pending") await this.o.effects.rolloutRevert(run, stage).catch((e: Error) => this.o.log(`pipeline ${where(run)}: could not revert the rollout of ${stage.endpoint}: ${e.message}`));
    }
    await store.swapSlot(run.project, run.target, run.pipeline, runId, null);
    await store.releaseRun(runId, this.o.owner);
    this.held.delete(runId);
    this.o.log(`pipeline ${where(run)}: run ${runId} ${message}`);
    const done = (await store.run(runId))!;
    if (admitNext) await this.admit(run.project, run.target, run.pipeline);
    return done;
  }

  // ---- advancing runs

  /** Takes (or keeps) the lease on a run; false when another process holds it. */
  async claim(runId: string): Promise<boolean> {
    const now = this.now();
    const ok = await this.store.claimRun(runId, this.o.owner, now, now + this.leaseMs);
    if (ok) {
      this.held.add(runId);
      this.startRenewing();
    } else this.held.delete(runId);
    return ok;
  }

  /** Lets another process take the run at once (the CLI hands a waiting run to the server). */
  async release(runId: string): Promise<void> {
    if (this.busy(runId)) return;
    this.held.delete(runId);
    await this.store.releaseRun(runId, this.o.owner);
  }

  /** Work of this run still in flight in this process. */
  busy(runId?: string): boolean {
    if (runId === undefined) return this.inflight.size > 0 || this.sending.size > 0;
    for (const key of this.inflight.keys()) if (key.startsWith(`${runId}/`)) return true;
    return false;
  }

  /** Resolves when this run's work in flight in this process (a deploy, a job start, a plan) has ended. */
  async settled(runId: string): Promise<void> {
    for (;;) {
      const mine = [...this.inflight.entries()].filter(([k]) => k.startsWith(`${runId}/`)).map(([, p]) => p);
      if (!mine.length) return;
      await Promise.allSettled(mine);
    }
  }

  /** Resolves when nothing started by this process is in flight (deploys, job starts, notifications). */
  async drain(): Promise<void> {
    while (this.inflight.size || this.sending.size || this.stepping.size) await Promise.allSettled([...this.inflight.values(), ...this.sending, ...this.stepping.values()]);
  }

  /** Stops renewing leases and gives back the runs it holds (their work in flight is awaited first). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.drain();
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    for (const id of [...this.held]) await this.release(id);
  }

  private startRenewing(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      const now = this.now();
      for (const id of this.held) void this.store.claimRun(id, this.o.owner, now, now + this.leaseMs).then((ok) => ok || this.held.delete(id), () => {});
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  /** Advances one run as far as it can now (the caller holds its lease). */
  async step(runId: string): Promise<StepResult> {
    const running = this.stepping.get(runId);
    if (running) {
      // Something changed while a step was reading: step once more when it ends.
      this.again.add(runId);
      return running;
    }
    const p = (async () => {
      let r: StepResult;
      do {
        this.again.delete(runId);
        r = await this.doStep(runId);
      } while (this.again.has(runId));
      return r;
    })().finally(() => this.stepping.delete(runId));
    this.stepping.set(runId, p);
    return p;
  }

  private async doStep(runId: string): Promise<StepResult> {
    const store = this.store;
    let run = (await store.run(runId))!;
    if (!run || run.status === "queued" || FINISHED_RUN.has(run.status)) return { run, moved: false };
    const spec = JSON.parse(run.spec) as PipelineSpec;
    let moved = false;
    let next: number | undefined;
    const soonest = (t: number) => (next = next === undefined ? t : Math.min(next, t));
    for (let pass = 0; pass < spec.stages.length + 1; pass++) {
      const rows = new Map((await store.stages(runId)).map((r) => [r.stage, r]));
      let changed = false;
      for (const stage of spec.stages) {
        const row = rows.get(stage.name)!;
        const outcome = await this.stageStep(run, spec, stage, row, rows);
        if (outcome.changed) changed = true;
        if (outcome.next !== undefined) soonest(outcome.next);
      }
      moved ||= changed;
      if (!changed) break;
      run = (await store.run(runId))!;
      if (FINISHED_RUN.has(run.status)) return { run, moved };
    }
    const rows = await store.stages(runId);
    if (rows.every((r) => FINISHED_STAGE.has(r.status)) && !this.busy(runId)) {
      await this.finish(run, spec, rows);
      return { run: (await store.run(runId))!, moved: true };
    }
    // running while a stage runs; waiting while only approvals and waits are left.
    const status = rows.some((r) => r.status === "running") || this.busy(runId) ? "running" : rows.some((r) => r.status === "waiting") ? "waiting" : "running";
    if (status !== run.status) await store.transitionRun(runId, [run.status], { status });
    return { run: (await store.run(runId))!, moved, next };
  }

  /** One stage: start it, skip it, or look at what it waits for. */
  private async stageStep(run: PipelineRunRow, spec: PipelineSpec, stage: StageSpec, row: PipelineStageRow, rows: Map<string, PipelineStageRow>): Promise<{ changed: boolean; next?: number }> {
    const store = this.store;
    const now = this.now();
    const key = `${run.id}/${stage.name}`;
    if (row.status === "pending") {
      const deps = stage.depends_on.map((d) => rows.get(d)!);
      const blocked = deps.find((d) => d.status !== "succeeded" && FINISHED_STAGE.has(d.status));
      if (blocked) return { changed: await this.settle(run, stage, "skipped", `${blocked.stage} ${blocked.status === "skipped" ? "was skipped" : blocked.status === "cancelled" ? "was cancelled" : "failed"}`) };
      if (!deps.every((d) => d.status === "succeeded")) return { changed: false };
      if (stage.when !== undefined && !evaluateCondition(parseCondition(stage.when), conditionScope(run, rows))) {
        return { changed: await this.settle(run, stage, "skipped", `condition is false: ${stage.when}`) };
      }
      return { changed: await this.start(run, spec, stage), next: undefined };
    }
    if (FINISHED_STAGE.has(row.status)) return { changed: false };
    switch (stage.type) {
      case "run": {
        if (this.inflight.has(key) || !row.job_run) return { changed: false };
        const job = await this.o.effects.jobState(run, stage, row.job_run).catch((e: Error) => ({ status: "unknown", error: e.message, results: null, metrics: null }));
        if (job === undefined) {
          // Claimed, but the job did not start (its process died in between): start it with the id recorded.
          this.track(key, this.startJob(run, stage, row.job_run));
          return { changed: false };
        }
        if (!["succeeded", "failed", "cancelled", "lost"].includes(job.status)) return { changed: false };
        const results = job.results as Record<string, unknown> | null;
        const registration = (results && typeof results === "object" ? results.registration : undefined) as { registered?: boolean; model?: string; version?: number } | undefined;
        const outputs: Outputs = { run: row.job_run, job: stage.job, registered: registration?.registered === true, model: registration?.model ?? null, version: registration?.version ?? null, results: results ?? null, metrics: job.metrics ?? null };
        const ok = job.status === "succeeded";
        return { changed: await this.settle(run, stage, ok ? "succeeded" : "failed", ok ? null : `job run ${row.job_run} ${job.status}${job.error ? `: ${job.error}` : ""}`, outputs) };
      }
      case "approval": {
        const decisions = await store.decisions(run.id);
        const t = tally(stage, decisions);
        if (t.outcome === "rejected") return { changed: await this.settle(run, stage, "failed", `rejected by ${t.rejectedBy!.user}${t.rejectedBy!.comment ? `: ${t.rejectedBy!.comment}` : ""}`, { approved_by: t.approvedBy }) };
        if (t.outcome === "approved") return { changed: await this.settle(run, stage, "succeeded", `approved by ${t.approvedBy.join(", ")}`, { approved_by: t.approvedBy }) };
        if (row.due_at !== null && now >= row.due_at) return { changed: await this.settle(run, stage, "failed", `not approved within ${stage.timeout} (timed out; ${t.approvedBy.length} of ${stage.required} approval(s))`, { approved_by: t.approvedBy }) };
        return { changed: false, next: row.due_at ?? undefined };
      }
      case "wait":
        if (row.due_at !== null && now >= row.due_at) return { changed: await this.settle(run, stage, "succeeded", `waited ${stage.duration}`) };
        return { changed: false, next: row.due_at ?? undefined };
      case "rollout": {
        if (this.inflight.has(key)) return { changed: false };
        const details = row.details ? (JSON.parse(row.details) as RolloutDetails) : undefined;
        if (row.status === "running") {
          // Left by a process that died while it started the rollout or moved a step: do that step again.
          const fresh = (await store.stages(run.id)).find((r) => r.stage === stage.name);
          if (fresh?.status === "running" && !this.inflight.has(key)) this.track(key, details?.start ? this.rolloutStep(run, spec, stage, details, details.step) : this.rolloutBegin(run, spec, stage));
          return { changed: false };
        }
        if (row.due_at !== null && now < row.due_at) return { changed: false, next: row.due_at };
        // The step has baked: judge it (one process: the stage is taken back to running first).
        if (!details || !(await store.transitionStage(run.id, stage.name, ["waiting"], { status: "running" }))) return { changed: false };
        this.track(key, this.rolloutJudge(run, spec, stage, details));
        return { changed: true };
      }
      default: {
        // deploy, destroy, notify: in flight here, or left by a process that died (then done again).
        if (this.inflight.has(key)) return { changed: false };
        // `row` may be older than the in-flight work that just settled the stage here (it leaves
        // `inflight` only after settling): read it again before doing the stage a second time.
        const fresh = (await store.stages(run.id)).find((r) => r.stage === stage.name);
        if (fresh?.status === "running" && !this.inflight.has(key)) this.track(key, this.runInProcess(run, spec, stage));
        return { changed: false };
      }
    }
  }

  /** Moves a pending stage on: a job started, a deploy begun, an approval or a wait waiting. */
  private async start(run: PipelineRunRow, spec: PipelineSpec, stage: StageSpec): Promise<boolean> {
    const store = this.store;
    const now = this.now();
    const key = `${run.id}/${stage.name}`;
    const at = iso(now);
    switch (stage.type) {
      case "run": {
        const jobRun = newId("r", now);
        if (!(await store.transitionStage(run.id, stage.name, ["pending"], { status: "running", started_at: at, job_run: jobRun }))) return false;
        this.track(key, this.startJob(run, stage, jobRun));
        return true;
      }
      case "approval": {
        const due = now + parseDuration(stage.timeout ?? "72h");
        const details = { target: stage.target, approvers: stage.approvers ?? [], required: stage.required ?? 1, prevent_self_review: stage.prevent_self_review !== false, timeout_at: iso(due), message: stage.message ?? null, plan: [] as PlanSummary[] };
        if (!(await store.transitionStage(run.id, stage.name, ["pending"], { status: "waiting", started_at: at, due_at: due, details: JSON.stringify(details) }))) return false;
        this.o.log(`pipeline ${where(run)}: run ${run.id} waits for approval of ${stage.name} (${details.required} of ${details.approvers.join(", ")}, until ${details.timeout_at})`);
        this.track(key, this.approvalWaiting(run, spec, stage, details));
        return true;
      }
      case "rollout": {
        if (!(await store.transitionStage(run.id, stage.name, ["pending"], { status: "running", started_at: at }))) return false;
        this.track(key, this.rolloutBegin(run, spec, stage));
        return true;
      }
      case "wait": {
        const due = now + parseDuration(stage.duration!);
        return store.transitionStage(run.id, stage.name, ["pending"], { status: "waiting", started_at: at, due_at: due, details: JSON.stringify({ until: iso(due) }) });
      }
      default: {
        if (!(await store.transitionStage(run.id, stage.name, ["pending"], { status: "running", started_at: at }))) return false;
        this.track(key, this.runInProcess(run, spec, stage));
        return true;
      }
    }
  }

  private async startJob(run: PipelineRunRow, stage: StageSpec, jobRun: string): Promise<void> {
    const params = { run: JSON.parse(run.params) as Record<string, string>, stage: Object.fromEntries(Object.entries(stage.params ?? {}).map(([k, v]) => [k, String(v)])) };
    try {
      await this.o.effects.startJob(run, stage, jobRun, params);
      this.o.log(`pipeline ${where(run)}: run ${run.id} stage ${stage.name}: started job run ${jobRun} of ${stage.job} on ${stage.target}`);
    } catch (e) {
      await this.settle(run, stage, "failed", `could not start job ${stage.job}: ${(e as Error).message}`);
    }
  }

  /** Deploy, destroy, promote and notify stages run in this process. */
  private async runInProcess(run: PipelineRunRow, spec: PipelineSpec, stage: StageSpec): Promise<void> {
    const lines: string[] = [];
    const secrets = await this.o.effects.secrets(run).catch(() => [] as string[]);
    const log = (line: string) => lines.push(mask(line, secrets));
    const flush = () => this.store.updateStage(run.id, stage.name, { log: lines.join("\n") });
    try {
      if (stage.type === "notify") {
        const sent = await this.notifyNow(run, spec, "notify", `notify:${stage.name}`, { stage: stage.name, title: `${spec.description ?? run.pipeline}: ${stage.message}`, lines: [stage.message ?? ""] }, log);
        await flush();
        await this.settle(run, stage, sent.failed && !sent.sent ? "failed" : "succeeded", sent.channels === 0 ? "no notification channel takes notify: the message is in this stage's log" : `sent on ${sent.sent} of ${sent.channels} channel(s)`, {});
        return;
      }
      if (stage.type === "promote") {
        const r = await this.o.effects.promote(run, stage, log);
        await flush();
        const settled = await this.settle(run, stage, "succeeded", r.message, r.outputs);
        if (settled && r.outputs.promoted) this.notifyLater(run, spec, "promoted", `promoted:${stage.name}`, { stage: stage.name, title: `${run.pipeline}: ${r.message}`, lines: [r.message] });
        return;
      }
      const outcome: ApplyOutcome = stage.type === "deploy" ? await this.o.effects.deploy(run, stage, log) : await this.o.effects.destroy(run, stage, log);
      await flush();
      const outputs: Outputs = { target: stage.target, revision: outcome.revision, changed: outcome.changed };
      const details = { plan: outcome.plan };
      await this.store.updateStage(run.id, stage.name, { details: JSON.stringify(details) });
      const ok = outcome.status === "succeeded";
      const message = ok ? `${stage.type === "deploy" ? "deployed" : "destroyed"} ${stage.target}${outcome.revision !== null ? `: revision ${outcome.revision}` : ": no changes"}` : `${stage.type} of ${stage.target} failed: ${outcome.error ?? "see the stage's log"}`;
      const settled = await this.settle(run, stage, ok ? "succeeded" : "failed", message, outputs);
      if (settled && ok && stage.type === "deploy") {
        this.notifyLater(run, spec, "deployed", `deployed:${stage.name}`, { stage: stage.name, title: `${run.pipeline} deployed ${run.project}/${stage.target}${outcome.revision !== null ? ` (revision ${outcome.revision})` : " (no changes)"}`, lines: [message, ...planLines(outcome.plan)] });
      }
    } catch (e) {
      log(`error: ${(e as Error).message}`);
      await flush();
      await this.settle(run, stage, "failed", mask(`${stage.type} failed: ${(e as Error).message}`, secrets));
    }
  }

  // ---- rollouts: a stage that waits (like a wait stage) between steps, its state in the stage's details

  /** Resolves the candidate and the champion, checks the metric gate, then moves the first step. */
  private async rolloutBegin(run: PipelineRunRow, spec: PipelineSpec, stage: StageSpec): Promise<void> {
    let start: RolloutStart;
    try {
      start = await this.o.effects.rolloutStart(run, stage);
    } catch (e) {
      await this.settle(run, stage, "failed", `rollout of ${stage.endpoint} could not start: ${(e as Error).message}`, rolloutOutputs(stage, null, 0, false));
      return;
    }
    const details: RolloutDetails = { start, step: 0, percent: 0, mark: 0, until: null, steps: [], log: [] };
    if (start.gate) details.log.push(`gate: ${start.gate.message}`);
    if (start.gate && !start.gate.passed) {
      await this.store.updateStage(run.id, stage.name, { details: JSON.stringify(details), log: details.log.join("\n") });
      await this.settle(run, stage, "failed", `the metric gate failed: ${start.gate.message}; no traffic moved`, rolloutOutputs(stage, start, 0, false));
      return;
    }
    await this.rolloutStep(run, spec, stage, details, 0);
  }

  /** Serves the candidate at step `index`'s share, then waits `bake`. */
  private async rolloutStep(run: PipelineRunRow, spec: PipelineSpec, stage: StageSpec, details: RolloutDetails, index: number): Promise<void> {
    const steps = stage.steps!;
    const percent = steps[index]!;
    try {
      const { mark } = await this.o.effects.rolloutShift(run, stage, details.start, percent);
      const due = this.now() + parseDuration(stage.bake!);
      const next: RolloutDetails = { ...details, step: index, percent, mark, until: iso(due) };
      next.log = [...details.log, `${iso(this.now())} step ${index + 1}/${steps.length}: ${details.start.model}@${details.start.candidate} serves ${percent}%${details.start.champion !== null ? ` (the rest: as deployed, ${details.start.model}@${details.start.champion})` : ""}, baking until ${next.until}`];
      const message = `step ${index + 1}/${steps.length}: ${details.start.model}@${details.start.candidate} at ${percent}% until ${next.until}`;
      if (await this.store.transitionStage(run.id, stage.name, ["running"], { status: "waiting", due_at: due, details: JSON.stringify(next), message, log: next.log.join("\n") })) this.o.log(`pipeline ${where(run)}: run ${run.id} stage ${stage.name}: ${message}`);
    } catch (e) {
      await this.rollBack(run, spec, stage, details, `moving to ${percent}% failed: ${(e as Error).message}`);
    }
  }

  /** A step has baked: roll back when a threshold is crossed, wait for more requests, move on, or finish. */
  private async rolloutJudge(run: PipelineRunRow, spec: PipelineSpec, stage: StageSpec, details: RolloutDetails): Promise<void> {
    const steps = stage.steps!;
    let health: RolloutHealth;
    try {
      health = await this.o.effects.rolloutHealth(run, stage, details.start, details.mark);
    } catch (e) {
      await this.rollBack(run, spec, stage, details, `the inference table could not be read: ${(e as Error).message}`);
      return;
    }
    const rate = health.requests ? health.errors / health.requests : 0;
    const seen = `${health.requests} request(s), ${health.errors} error(s) (${(rate * 100).toFixed(1)}%), p95 ${health.p95_ms === null ? "-" : `${Math.round(health.p95_ms)} ms`}`;
    const judged: RolloutDetails = { ...details, steps: [...details.steps, { percent: details.percent, ...health, at: iso(this.now()) }], log: [...details.log, `${iso(this.now())} step ${details.step + 1}/${steps.length} at ${details.percent}%: ${seen}`] };
    if (health.requests > 0 && rate > stage.max_error_rate!) return this.rollBack(run, spec, stage, judged, `error rate ${(rate * 100).toFixed(1)}% at ${details.percent}% is above max_error_rate ${stage.max_error_rate! * 100}% (${seen})`);
    if (stage.max_latency_ms !== undefined && health.p95_ms !== null && health.p95_ms > stage.max_latency_ms) return this.rollBack(run, spec, stage, judged, `p95 latency ${Math.round(health.p95_ms)} ms at ${details.percent}% is above max_latency_ms ${stage.max_latency_ms} (${seen})`);
    if (health.requests < stage.min_requests!) {
      // Not enough traffic to judge yet: look again a tenth of the bake later (at least 1 s).
      const due = this.now() + Math.max(1000, Math.floor(parseDuration(stage.bake!) / 10));
      const waiting = { ...details, log: [...details.log, `${iso(this.now())} step ${details.step + 1}/${steps.length}: ${health.requests} of ${stage.min_requests} request(s) needed to judge it; looking again at ${iso(due)}`] };
      await this.store.transitionStage(run.id, stage.name, ["running"], { status: "waiting", due_at: due, details: JSON.stringify(waiting), log: waiting.log.join("\n") });
      return;
    }
    if (details.step + 1 < steps.length) return this.rolloutStep(run, spec, stage, judged, details.step + 1);
    let outcome: ApplyOutcome | null;
    const lines = [...judged.log];
    try {
      outcome = await this.o.effects.rolloutFinish(run, stage, details.start, (l) => lines.push(l));
    } catch (e) {
      await this.store.updateStage(run.id, stage.name, { details: JSON.stringify(judged), log: lines.join("\n") });
      await this.settle(run, stage, "failed", `${details.start.model}@${details.start.candidate} serves ${details.percent}%, but making it durable failed: ${(e as Error).message}`, rolloutOutputs(stage, details.start, details.percent, false));
      return;
    }
    await this.store.updateStage(run.id, stage.name, { details: JSON.stringify(judged), log: lines.join("\n") });
    const revision = outcome?.revision ?? null;
    const durable = stage.alias ? `; ${details.start.model}@${stage.alias} -> ${details.start.candidate}${outcome ? (outcome.status === "succeeded" ? `, deployed${revision !== null ? ` (revision ${revision})` : " (no changes)"}` : `, but the deploy failed: ${outcome.error ?? "see the log"}`) : ""}` : " (until the next deploy of the endpoint)";
    const ok = !outcome || outcome.status === "succeeded";
    await this.settle(run, stage, ok ? "succeeded" : "failed", `rolled out ${details.start.model}@${details.start.candidate} to ${details.percent}% of ${stage.endpoint} in ${steps.length} step(s)${durable}`, rolloutOutputs(stage, details.start, details.percent, false));
  }

  /** Serves the endpoint as deployed again, fails the stage and sends `rolled_back`. */
  private async rollBack(run: PipelineRunRow, spec: PipelineSpec, stage: StageSpec, details: RolloutDetails, why: string): Promise<void> {
    let reverted = "the endpoint serves what is deployed again";
    try {
      await this.o.effects.rolloutRevert(run, stage);
    } catch (e) {
      reverted = `reverting failed too: ${(e as Error).message}`;
    }
    const log = [...details.log, `${iso(this.now())} rolled back: ${why}; ${reverted}`];
    await this.store.updateStage(run.id, stage.name, { details: JSON.stringify({ ...details, log }), log: log.join("\n") });
    const message = `rolled back ${details.start.model}@${details.start.candidate} on ${stage.endpoint}: ${why}; ${reverted}`;
    if (await this.settle(run, stage, "failed", message, rolloutOutputs(stage, details.start, 0, true))) {
      this.notifyLater(run, spec, "rolled_back", `rolled_back:${stage.name}`, { stage: stage.name, title: `${run.pipeline} on ${run.project}/${stage.target}: rolled back ${details.start.model}@${details.start.candidate} on ${stage.endpoint}`, lines: [message, ...log] });
    }
  }

  /** An approval is waiting: record what the stages it gates would change, then tell the approvers. */
  private async approvalWaiting(run: PipelineRunRow, spec: PipelineSpec, stage: StageSpec, details: { approvers: string[]; required: number; timeout_at: string; plan: PlanSummary[] } & Record<string, unknown>): Promise<void> {
    const gated = spec.stages.filter((s) => (s.type === "deploy" || s.type === "destroy") && s.depends_on.includes(stage.name));
    for (const s of gated) {
      try {
        details.plan.push(await this.o.effects.plan(run, s));
      } catch (e) {
        details.plan.push({ target: s.target ?? run.target, create: 0, update: 0, replace: 0, delete: 0, noop: 0, changes: [{ action: "unknown", address: `the plan could not be made: ${(e as Error).message}` }] });
      }
    }
    await this.store.updateStage(run.id, stage.name, { details: JSON.stringify(details) });
    const lines = [
      `Run ${run.id} of ${run.pipeline} (${run.project}/${run.target}), triggered by ${run.user} (${run.trigger}), waits for ${details.required} approval(s) of stage ${stage.name} until ${details.timeout_at}.`,
      ...(stage.message ? [stage.message] : []),
      `Approvers: ${details.approvers.join(", ")}.`,
      ...details.plan.flatMap((p) => [`Would change ${run.project}/${p.target}:`, ...planLines(p)]),
      `Approve: slipway pipelines approve ${run.id} --stage ${stage.name} -t ${run.target}`,
      `Reject:  slipway pipelines reject ${run.id} --stage ${stage.name} --comment "why" -t ${run.target}`,
    ];
    this.notifyLater(run, spec, "approval_waiting", `approval_waiting:${stage.name}`, { stage: stage.name, title: `${run.pipeline} on ${run.project}/${run.target}: approval waiting for stage ${stage.name}`, lines, approval: { approvers: details.approvers, required: details.required, timeout_at: details.timeout_at, plan: details.plan } });
  }

  /** Ends a stage once (guarded by its status); tells whether this call did. */
  private async settle(run: PipelineRunRow, stage: StageSpec, status: string, message: string | null, outputs?: Outputs): Promise<boolean> {
    const ok = await this.store.transitionStage(run.id, stage.name, ["pending", "running", "waiting"], { status, finished_at: iso(this.now()), message, outputs: JSON.stringify({ ...outputs, status }) });
    if (ok) this.o.log(`pipeline ${where(run)}: run ${run.id} stage ${stage.name} ${status}${message ? `: ${message}` : ""}`);
    return ok;
  }

  private async finish(run: PipelineRunRow, spec: PipelineSpec, rows: PipelineStageRow[]): Promise<void> {
    const failed = rows.filter((r) => r.status === "failed" || r.status === "cancelled");
    const status = failed.length ? "failed" : "succeeded";
    const message = failed.length ? `stage ${failed.map((f) => f.stage).join(", ")} failed${failed[0]!.message ? `: ${failed[0]!.message}` : ""}` : null;
    if (!(await this.store.transitionRun(run.id, OPEN_PIPELINE_STATUSES, { status, finished_at: iso(this.now()), message }))) return;
    await this.store.swapSlot(run.project, run.target, run.pipeline, run.id, null);
    await this.store.releaseRun(run.id, this.o.owner);
    this.held.delete(run.id);
    this.o.log(`pipeline ${where(run)}: run ${run.id} ${status}${message ? `: ${message}` : ""}`);
    const done = (await this.store.run(run.id))!;
    await this.notifyRun(done, spec, status as "succeeded" | "failed", message);
    await this.triggerAfter(done, rows);
    await this.admit(run.project, run.target, run.pipeline);
  }

  private async notifyRun(run: PipelineRunRow, spec: PipelineSpec, event: "succeeded" | "failed", message: string | null): Promise<void> {
    const started = Date.parse(run.started_at ?? run.created_at);
    const took = run.finished_at ? ` in ${Math.round((Date.parse(run.finished_at) - started) / 1000)} s` : "";
    const stages = await this.store.stages(run.id);
    this.notifyLater(run, spec, event, event, {
      stage: null,
      title: `${run.pipeline} on ${run.project}/${run.target}: run ${run.id} ${run.status}`,
      lines: [`Run ${run.id} of ${run.pipeline} (${run.trigger}, by ${run.user}) ${run.status}${took}.`, ...(message ? [message] : []), ...spec.stages.map((s) => `  ${s.name.padEnd(16)} ${stages.find((r) => r.stage === s.name)?.status ?? "?"}`)],
    });
  }

  /** Runs of the pipelines deployed to this target that run after this one ended (with its results as `upstream`). */
  private async triggerAfter(run: PipelineRunRow, rows: PipelineStageRow[]): Promise<void> {
    const deployed = (await this.o.state.forTarget(run.project, run.target).listResources()).filter((r) => r.kind === "pipeline");
    for (const p of deployed) {
      const spec = p.spec as unknown as PipelineSpec;
      const after = spec.triggers?.after;
      if (!after || after.pipeline !== run.pipeline || (after.outcome !== "any" && after.outcome !== run.status)) continue;
      const upstream = {
        pipeline: run.pipeline,
        run: run.id,
        outcome: run.status,
        params: JSON.parse(run.params),
        stages: Object.fromEntries(rows.map((r) => [r.stage, { ...(r.outputs ? JSON.parse(r.outputs) : {}), status: r.status }])),
      };
      const dir = (await this.o.state.background().targets()).find((t) => t.project === run.project && t.target === run.target)?.dir ?? run.dir;
      await this.trigger({ project: run.project, target: run.target, pipeline: p.name, spec, dir, trigger: "after", ref: run.id, key: `after:${run.id}`, upstream, user: run.user });
    }
  }

  // ---- notifications

  /** Sends an event on the pipeline's channels that take it, without waiting (drain waits). */
  private notifyLater(run: PipelineRunRow, spec: PipelineSpec, event: PipelineEvent, key: string, m: Pick<NotificationMessage, "stage" | "title" | "lines" | "approval">): void {
    const p = this.notifyNow(run, spec, event, key, m).then(
      () => {},
      (e: Error) => this.o.log(`pipeline ${where(run)}: notification ${key}: ${e.message}`),
    );
    this.sending.add(p);
    void p.finally(() => this.sending.delete(p));
  }

  private async notifyNow(run: PipelineRunRow, spec: PipelineSpec, event: PipelineEvent, key: string, m: Pick<NotificationMessage, "stage" | "title" | "lines" | "approval">, log?: (line: string) => void): Promise<{ channels: number; sent: number; failed: number }> {
    const channels = spec.notifications.map((c, i) => ({ c, i })).filter(({ c }) => c.events.includes(event));
    if (!channels.length) {
      log?.(`${m.title}\n${m.lines.join("\n")}`);
      return { channels: 0, sent: 0, failed: 0 };
    }
    const secrets = await this.o.effects.secrets(run).catch(() => [] as string[]);
    const current = (await this.store.run(run.id)) ?? run;
    const message: NotificationMessage = {
      event,
      project: run.project,
      target: run.target,
      pipeline: run.pipeline,
      run: run.id,
      status: current.status,
      stage: m.stage,
      title: mask(m.title, secrets),
      lines: m.lines.map((l) => mask(l, secrets)),
      at: iso(this.now()),
      ...(m.approval ? { approval: m.approval } : {}),
      trigger: { kind: run.trigger, user: run.user, ref: run.trigger_ref },
    };
    let sent = 0;
    let failed = 0;
    await Promise.all(
      channels.map(async ({ c, i }) => {
        const claim = { run_id: run.id, event: key, channel: i };
        if (!(await this.store.claimNotification({ ...claim, status: "sending", attempts: 0, at: iso(this.now()), message: null }))) return;
        try {
          const attempts = await sendNotification(c, message, `${run.id}/${key}/${i}`, { ...this.o.send, clock: this.o.clock, secret: (name) => this.o.effects.envValue(run, name) });
          await this.store.updateNotification(claim, { status: "sent", attempts, at: iso(this.now()) });
          log?.(`sent on ${describeChannel(c)}`);
          sent++;
        } catch (e) {
          const error = mask((e as Error).message, secrets);
          await this.store.updateNotification(claim, { status: "failed", attempts: (e as { attempts?: number }).attempts ?? 1, at: iso(this.now()), message: error });
          this.o.log(`pipeline ${where(run)}: run ${run.id}: ${key} not sent on ${describeChannel(c)}: ${error}`);
          log?.(`not sent on ${describeChannel(c)}: ${error}`);
          failed++;
        }
      }),
    );
    return { channels: channels.length, sent, failed };
  }

  /**
   * Work of a stage running in this process; when it ends, the run is stepped again at once (while this
   * process holds it), so the next stage does not wait for the loop's next pass.
   */
  private track(key: string, p: Promise<void>): void {
    const runId = key.slice(0, key.indexOf("/"));
    const tracked = p
      .catch((e: Error) => this.o.log(`pipeline stage ${key}: ${e.message}`))
      .finally(() => {
        this.inflight.delete(key);
        if (this.held.has(runId) && !this.stopped) void this.step(runId).catch((e: Error) => this.o.log(`pipeline run ${runId}: ${e.message}`));
      });
    this.inflight.set(key, tracked);
  }

  // ---- the loop's pass

  /**
   * One pass over every open run: admits queued runs, then advances each run whose lease this
   * process holds or can take. Returns when to look again (a wait's end, an approval's timeout).
   */
  async tick(): Promise<{ advanced: number; open: number; next?: number }> {
    const store = this.store;
    const open = await store.runsWithStatus(OPEN_PIPELINE_STATUSES);
    const queuedPipelines = new Set(open.filter((r) => r.status === "queued").map((r) => `${r.project}\u0000${r.target}\u0000${r.pipeline}`));
    for (const k of queuedPipelines) {
      const [project, target, pipeline] = k.split("\u0000") as [string, string, string];
      await this.admit(project, target, pipeline);
    }
    let advanced = 0;
    let next: number | undefined;
    for (const r of await store.runsWithStatus(ACTIVE_PIPELINE_STATUSES)) {
      if (!(await this.claim(r.id))) continue;
      const result = await this.step(r.id);
      if (result.moved) advanced++;
      if (result.next !== undefined) next = next === undefined ? result.next : Math.min(next, result.next);
    }
    return { advanced, open: open.length, next };
  }
}

/** The condition scope of a run: its stages' results, parameters, trigger and upstream. */
export function conditionScope(run: PipelineRunRow, rows: Map<string, PipelineStageRow>): Record<string, unknown> {
  const stages: Record<string, unknown> = Object.create(null);
  for (const [name, r] of rows) stages[name] = { ...(r.outputs ? JSON.parse(r.outputs) : {}), status: r.status };
  const upstream = run.upstream ? JSON.parse(run.upstream) : null;
  const git = (JSON.parse(run.spec) as PipelineSpec).triggers?.git;
  return {
    stages,
    params: JSON.parse(run.params),
    trigger: { kind: run.trigger, user: run.user, commit: run.trigger === "git" ? run.trigger_ref : null, due_at: run.trigger === "cron" ? run.trigger_ref : null, pipeline: upstream?.pipeline ?? null, run: upstream?.run ?? null, branch: run.trigger === "git" ? (git?.branch ?? null) : null },
    upstream,
  };
}

/** A rollout stage's state between steps (the stage row's details). */
export interface RolloutDetails {
  start: RolloutStart;
  /** The step serving now (0-based), its share, and the inference table's mark when it began. */
  step: number;
  percent: number;
  mark: number;
  until: string | null;
  /** Each step judged: its share and what the candidate answered. */
  steps: Array<{ percent: number; at: string } & RolloutHealth>;
  log: string[];
}

function rolloutOutputs(stage: StageSpec, start: RolloutStart | null, percent: number, rolledBack: boolean): Outputs {
  return { endpoint: stage.endpoint, target: stage.target, version: start?.candidate ?? null, percent, rolled_back: rolledBack };
}

export { planLines };

function where(r: Pick<PipelineRunRow, "project" | "target" | "pipeline">): string {
  return `${r.project}/${r.target}/${r.pipeline}`;
}

function mask(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("***");
  return out;
}
