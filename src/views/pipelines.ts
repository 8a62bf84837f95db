// Public JSON of `pipelines list`, `pipelines run`, `pipelines runs`, `pipelines status`,
// `pipelines approve`, `pipelines reject` and `pipelines logs` (the CLI's --json and the API's answers).
import { z } from "zod";
import type { PipelineRunDetails, PipelineRunSummary, PipelinesResult, StageInfo } from "../operations/pipelines.js";
import type { PlanSummary } from "../pipelines/effects.js";
import { failureView, type ErrorJson } from "./error.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

const RUN_STATUSES = ["queued", "running", "waiting", "succeeded", "failed", "cancelled", "skipped"] as const;
const STAGE_STATUSES = ["pending", "running", "waiting", "succeeded", "failed", "skipped", "cancelled"] as const;
const TRIGGERS = ["manual", "cron", "after", "git"] as const;

export const pipelinesSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    target: z.string(),
    /** Approvals, waits, triggers and later stages advance while the server of this SLIPWAY_HOME runs. */
    server_running: z.boolean(),
    pipelines: z.array(
      z.strictObject({
        name: z.string(),
        module: z.string(),
        description: z.string().nullable(),
        stages: z.array(z.strictObject({ name: z.string(), type: z.string(), depends_on: z.array(z.string()), target: z.string().nullable() })),
        /** "manual", `cron "0 6 * * 1" UTC`, "after train succeeded", "git REPO BRANCH every 1m". */
        triggers: z.array(z.string()),
        concurrency: z.enum(["queue", "cancel_previous", "skip"]),
        params: z.record(z.string(), z.string()),
        last_run: z.strictObject({ id: z.string(), status: z.enum(RUN_STATUSES), trigger: z.enum(TRIGGERS), created_at: z.string() }).nullable(),
      }),
    ),
  }),
);

export function pipelinesView(r: PipelinesResult): Infer<typeof pipelinesSchema> {
  return {
    project: r.project,
    target: r.target,
    server_running: r.serverRunning,
    pipelines: r.pipelines.map((p) => ({
      name: p.name,
      module: p.module,
      description: p.description,
      stages: p.stages.map((s) => ({ name: s.name, type: s.type, depends_on: [...s.dependsOn], target: s.target })),
      triggers: [...p.triggers],
      concurrency: p.concurrency as "queue" | "cancel_previous" | "skip",
      params: { ...p.params },
      last_run: p.lastRun ? { id: p.lastRun.id, status: p.lastRun.status as (typeof RUN_STATUSES)[number], trigger: p.lastRun.trigger as (typeof TRIGGERS)[number], created_at: p.lastRun.createdAt } : null,
    })),
  };
}

const runSummaryShape = () => ({
  id: z.string(),
  project: z.string(),
  target: z.string(),
  pipeline: z.string(),
  status: z.enum(RUN_STATUSES),
  trigger: z.enum(TRIGGERS),
  /** The cron due time, the upstream run, or the commit. */
  trigger_ref: z.string().nullable(),
  /** Who triggered it (cron, after and git runs: the target's last deployer). */
  user: z.string(),
  params: z.record(z.string(), z.string()),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().int().nullable(),
  /** Why it ended as it did, or was skipped; null while it runs and when it succeeded. */
  reason: z.string().nullable(),
});

export const pipelineRunSummarySchema = lazy(() => z.strictObject(runSummaryShape()));

function runSummaryView(r: PipelineRunSummary): Infer<typeof pipelineRunSummarySchema> {
  return {
    id: r.id,
    project: r.project,
    target: r.target,
    pipeline: r.pipeline,
    status: r.status as (typeof RUN_STATUSES)[number],
    trigger: r.trigger as (typeof TRIGGERS)[number],
    trigger_ref: r.triggerRef,
    user: r.user,
    params: { ...r.params },
    created_at: r.createdAt,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    duration_ms: r.durationMs,
    reason: r.message,
  };
}

const planSchema = () =>
  z.strictObject({
    target: z.string(),
    create: z.number().int(),
    update: z.number().int(),
    replace: z.number().int(),
    delete: z.number().int(),
    noop: z.number().int(),
    changes: z.array(z.strictObject({ action: z.string(), address: z.string() })),
  });

function planView(p: PlanSummary): z.infer<ReturnType<typeof planSchema>> {
  return { target: p.target, create: p.create, update: p.update, replace: p.replace, delete: p.delete, noop: p.noop, changes: p.changes.map((c) => ({ action: c.action, address: c.address })) };
}

const stageSchema = () =>
  z.strictObject({
    name: z.string(),
    type: z.enum(["run", "deploy", "destroy", "approval", "wait", "notify", "promote", "rollout"]),
    status: z.enum(STAGE_STATUSES),
    depends_on: z.array(z.string()),
    when: z.string().nullable(),
    target: z.string().nullable(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
    /** What happened: "approved by bob", "condition is false: …", "deployed prod: revision 3", why it failed. */
    message: z.string().nullable(),
    /** A run stage's job run (see `slipway runs show`). */
    job_run: z.string().nullable(),
    /** What the stage produced; conditions read it as stages.NAME.FIELD. */
    outputs: z.record(z.string(), z.unknown()).nullable(),
    /** When a wait ends or an approval times out. */
    due_at: z.string().nullable(),
    /** What a deploy or destroy stage changed. */
    plan: planSchema().nullable(),
    approval: z
      .strictObject({
        /** The target it gates: approvers need CAN_MANAGE there. */
        target: z.string(),
        approvers: z.array(z.string()),
        required: z.number().int(),
        prevent_self_review: z.boolean(),
        timeout_at: z.string().nullable(),
        message: z.string().nullable(),
        decisions: z.array(z.strictObject({ user: z.string(), decision: z.enum(["approve", "reject"]), comment: z.string().nullable(), at: z.string() })),
        /** What the stages it gates would change. */
        plan: z.array(planSchema()),
      })
      .nullable(),
  });

function stageView(s: StageInfo): z.infer<ReturnType<typeof stageSchema>> {
  return {
    name: s.name,
    type: s.type as z.infer<ReturnType<typeof stageSchema>>["type"],
    status: s.status as (typeof STAGE_STATUSES)[number],
    depends_on: [...s.dependsOn],
    when: s.when,
    target: s.target,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    duration_ms: s.durationMs,
    message: s.message,
    job_run: s.jobRun,
    outputs: s.outputs ? { ...s.outputs } : null,
    due_at: s.dueAt,
    plan: s.plan ? planView(s.plan) : null,
    approval: s.approval
      ? {
          target: s.approval.target,
          approvers: [...s.approval.approvers],
          required: s.approval.required,
          prevent_self_review: s.approval.preventSelfReview,
          timeout_at: s.approval.timeoutAt,
          message: s.approval.message,
          decisions: s.approval.decisions.map((d) => ({ user: d.user, decision: d.decision as "approve" | "reject", comment: d.comment, at: d.at })),
          plan: s.approval.plan.map(planView),
        }
      : null,
  };
}

export const pipelineRunSchema = lazy(() =>
  z.strictObject({
    ...runSummaryShape(),
    stages: z.array(stageSchema()),
    /** The run that triggered this one (after-trigger): pipeline, run, outcome, params and its stages' results. */
    upstream: z.record(z.string(), z.unknown()).nullable(),
    notifications: z.array(z.strictObject({ event: z.string(), channel: z.string(), status: z.enum(["sending", "sent", "failed"]), attempts: z.number().int(), at: z.string(), reason: z.string().nullable() })),
  }),
);

export function pipelineRunView(r: PipelineRunDetails): Infer<typeof pipelineRunSchema> {
  return {
    ...runSummaryView(r),
    stages: r.stages.map(stageView),
    upstream: r.upstream ? { ...r.upstream } : null,
    notifications: r.notifications.map((n) => ({ event: n.event, channel: n.channel, status: n.status as "sending" | "sent" | "failed", attempts: n.attempts, at: n.at, reason: n.message })),
  };
}

/** A run that ended without succeeding, as the document's error (`pipelines run` in the foreground, `status`). */
export function pipelineRunFailure(r: PipelineRunDetails): ErrorJson | undefined {
  if (r.status !== "failed" && r.status !== "cancelled") return undefined;
  return failureView("pipeline_failed", `pipeline run ${r.id} of ${r.pipeline} ${r.status}${r.message ? `: ${r.message}` : ""}`, `see its stages: slipway pipelines status ${r.id} -t ${r.target}`);
}

export const pipelineRunsSchema = lazy(() => z.strictObject({ project: z.string(), target: z.string(), pipeline: z.string(), runs: z.array(pipelineRunSummarySchema()) }));

export function pipelineRunsView(r: { project: string; target: string; pipeline: string; runs: PipelineRunSummary[] }): Infer<typeof pipelineRunsSchema> {
  return { project: r.project, target: r.target, pipeline: r.pipeline, runs: r.runs.map(runSummaryView) };
}

export const pipelineDecisionSchema = lazy(() =>
  z.strictObject({
    decision: z.strictObject({ stage: z.string(), user: z.string(), decision: z.enum(["approve", "reject"]), comment: z.string().nullable(), at: z.string() }),
    run: pipelineRunSchema(),
  }),
);

export function pipelineDecisionView(r: PipelineRunDetails & { decision: { stage: string; user: string; decision: string; comment: string | null; at: string } }): Infer<typeof pipelineDecisionSchema> {
  return { decision: { stage: r.decision.stage, user: r.decision.user, decision: r.decision.decision as "approve" | "reject", comment: r.decision.comment, at: r.decision.at }, run: pipelineRunView(r) };
}

export const pipelineLogsSchema = lazy(() =>
  z.strictObject({
    run: z.string(),
    stage: z.string(),
    status: z.enum(STAGE_STATUSES),
    job_run: z.string().nullable(),
    /** task: the job's task for a run stage's lines, null for the stage's own log. */
    lines: z.array(z.strictObject({ task: z.string().nullable(), line: z.string() })),
  }),
);

export function pipelineLogsView(r: { run: string; stage: string; status: string; jobRun: string | null; lines: Array<{ task: string | null; line: string }> }): Infer<typeof pipelineLogsSchema> {
  return { run: r.run, stage: r.stage, status: r.status as (typeof STAGE_STATUSES)[number], job_run: r.jobRun, lines: r.lines.map((l) => ({ task: l.task, line: l.line })) };
}
