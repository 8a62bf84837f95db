// Release pipelines as a user works with them: list the deployed ones, run one (by hand), list its
// runs, show a run, approve or reject an approval stage, read a stage's log.
//
// Where a run advances: `pipelines run` in the embedded CLI runs the stages in the foreground (jobs,
// deploys, destroys, notifications) until the run finishes or only approvals and waits are left; it
// then hands the run to the server of SLIPWAY_HOME (starting it, as deploy does for schedules), whose
// pipelines loop carries on (approvals, waits, timeouts, later stages, triggers). Through the API
// (inServer), or with --detach, the server does it all.
import { servedByHomeServer } from "./background.js";
import { iso } from "../clock.js";
import { InvalidInputError, RefusedError } from "../errors.js";
import type { RuntimeEnv } from "../env.js";
import type { CompiledProject } from "../kinds/compile-project.js";
import { specOf } from "../kinds/index.js";
import type { PipelineSpec, StageSpec } from "../kinds/pipeline/index.js";
import { checkDecision } from "../pipelines/approvals.js";
import type { PlanSummary } from "../pipelines/effects.js";
import { FINISHED_RUN, PipelineEngine } from "../pipelines/engine.js";
import { driveInForeground } from "../pipelines/foreground.js";
import { describeChannel } from "../pipelines/notify.js";
import { ensureServer, runningServer } from "../serving/control.js";
import type { Stores } from "../store/open.js";
import type { PipelineRunRow, PipelineStageRow } from "../store/state/pipeline-store.js";
import { didYouMean } from "../util/suggest.js";
import { compile, compileFor, recordedAccessOf, withStores, type AccessLevel, type OperationContext, type ProjectOptions } from "./context.js";
import { pipelineEffects } from "./pipeline-effects.js";
import { runLogs } from "./runs.js";

export interface PipelineInfo {
  name: string;
  module: string;
  description: string | null;
  stages: Array<{ name: string; type: string; dependsOn: string[]; target: string | null }>;
  triggers: string[];
  concurrency: string;
  params: Record<string, string>;
  lastRun: { id: string; status: string; trigger: string; createdAt: string } | null;
}

export interface PipelineRunSummary {
  id: string;
  project: string;
  target: string;
  pipeline: string;
  status: string;
  trigger: string;
  triggerRef: string | null;
  user: string;
  params: Record<string, string>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  message: string | null;
}

export interface ApprovalInfo {
  target: string;
  approvers: string[];
  required: number;
  preventSelfReview: boolean;
  timeoutAt: string | null;
  message: string | null;
  decisions: Array<{ user: string; decision: string; comment: string | null; at: string }>;
  /** What the stages it gates would change (made when the approval started waiting). */
  plan: PlanSummary[];
}

export interface StageInfo {
  name: string;
  type: string;
  status: string;
  dependsOn: string[];
  when: string | null;
  target: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  message: string | null;
  jobRun: string | null;
  /** What the stage produced (conditions read it as stages.NAME.*). */
  outputs: Record<string, unknown> | null;
  approval: ApprovalInfo | null;
  /** A wait's end, an approval's timeout. */
  dueAt: string | null;
  /** What a deploy or destroy stage changed. */
  plan: PlanSummary | null;
}

export interface PipelineRunDetails extends PipelineRunSummary {
  stages: StageInfo[];
  upstream: Record<string, unknown> | null;
  notifications: Array<{ event: string; channel: string; status: string; attempts: number; at: string; message: string | null }>;
}

export interface PipelinesResult {
  project: string;
  target: string;
  serverRunning: boolean;
  pipelines: PipelineInfo[];
}

/** The engine the CLI (foreground) and the API use on one state store; the server's loop makes its own. */
export function pipelineEngine(env: RuntimeEnv, stores: Stores, log: (line: string) => void, owner = `cli:${env.host}:${process.pid}`): { engine: PipelineEngine; close(): Promise<void> } {
  const effects = pipelineEffects(env);
  const engine = new PipelineEngine({ state: stores.state, clock: env.clock, owner, effects, log, send: { smtpUrl: env.smtpUrl } });
  return {
    engine,
    close: async () => {
      await engine.stop();
      await effects.close();
    },
  };
}

export async function listPipelines(options: ProjectOptions, ctx: OperationContext): Promise<PipelinesResult> {
  const compiled = compileFor(options, ctx);
  await authorize(compiled, ctx, "CAN_VIEW", "pipelines list");
  const { project } = compiled;
  return withStores(compiled, ctx.env, async (stores) => {
    const recorded = (await stores.state.forTarget(project.name, project.target.name).listResources()).filter((r) => r.kind === "pipeline");
    const pipelines: PipelineInfo[] = [];
    for (const r of recorded) {
      const spec = specOf(r, "pipeline");
      const [last] = await stores.state.pipelines().runs({ project: project.name, target: project.target.name, pipeline: r.name, limit: 1 });
      pipelines.push({
        name: r.name,
        module: spec.module,
        description: spec.description ?? null,
        stages: spec.stages.map((s) => ({ name: s.name, type: s.type, dependsOn: s.depends_on, target: s.target ?? null })),
        triggers: triggersOf(spec),
        concurrency: spec.concurrency,
        params: Object.fromEntries(Object.entries(spec.params ?? {}).map(([k, v]) => [k, String(v)])),
        lastRun: last ? { id: last.id, status: last.status, trigger: last.trigger, createdAt: last.created_at } : null,
      });
    }
    return { project: project.name, target: project.target.name, serverRunning: !!(await runningServer(ctx.env)), pipelines };
  });
}

function triggersOf(spec: PipelineSpec): string[] {
  const t = spec.triggers;
  return [
    ...(t.manual ? ["manual"] : []),
    ...(t.cron ? [`cron "${t.cron}" ${t.timezone}${t.catch_up === "once" ? " (catch_up once)" : ""}`] : []),
    ...(t.after ? [`after ${t.after.pipeline} ${t.after.outcome}`] : []),
    ...(t.git ? [`git ${t.git.repo ?? "(the project's repository)"} ${t.git.branch} every ${t.git.every}`] : []),
  ];
}

export interface RunPipelineOptions extends ProjectOptions {
  name: string;
  params?: Record<string, string>;
  /** Leave every stage to the server (do not run any in the foreground). */
  detach?: boolean;
  /** Lines as the foreground run moves (stage started, succeeded, …). */
  onLine?: (line: string) => void;
}

/** Starts a run of a deployed pipeline by hand (see the top of this file for where it advances). */
export async function runPipeline(options: RunPipelineOptions, ctx: OperationContext): Promise<PipelineRunDetails> {
  const compiled = compileFor(options, ctx);
  const { project } = compiled;
  return withStores(compiled, ctx.env, async (stores) => {
    const spec = await deployedPipeline(compiled, stores, options.name);
    await authorize(compiled, ctx, "CAN_RUN", "pipelines run", `pipeline.${options.name}`);
    // Deploys and destroys no approval gates need the permission to deploy there, like a deploy would.
    for (const target of ungatedTargets(spec)) await authorizeTarget(compiled, ctx, target, "CAN_MANAGE", `pipelines run ${options.name} (deploy/destroy ${target} without an approval)`);
    if (!spec.triggers.manual) throw new RefusedError("manual_trigger_off", `pipeline ${options.name} cannot be run by hand (triggers.manual is false)`, { hint: "it runs from its other triggers; set triggers.manual: true to allow it" });
    const unknown = Object.keys(options.params ?? {}).filter((k) => !Object.hasOwn(spec.params, k));
    if (unknown.length) {
      const declared = Object.keys(spec.params);
      throw new InvalidInputError(unknown.map((k) => ({ message: `--param ${k}: pipeline ${options.name} has no parameter "${k}"`, hint: didYouMean(k, declared) ?? (declared.length ? `its parameters: ${declared.join(", ")}` : "declare it under the pipeline's params:") })), "unknown_param");
    }
    const log = (line: string) => options.onLine?.(line.replace(/^pipeline \S+: /, ""));
    const { engine, close } = pipelineEngine(ctx.env, stores, log);
    let run: PipelineRunRow;
    try {
      ({ run } = await engine.trigger({ project: project.name, target: project.target.name, pipeline: options.name, spec, dir: project.dir, trigger: "manual", params: options.params, user: ctx.actor?.name ?? ctx.env.user, hold: !ctx.inServer && !options.detach }));
      if (!ctx.inServer && !options.detach && run.status === "running") run = await driveInForeground(engine, run.id, ctx.env.clock);
    } finally {
      await close();
    }
    if (!ctx.inServer && !FINISHED_RUN.has(run.status)) await handToServer(compiled, ctx);
    const details = await runDetails(stores, run.id);
    if (details.status === "skipped") throw new RefusedError("pipeline_run_skipped", `run ${details.id} of ${options.name} was skipped: ${details.message}`, { hint: "wait for the previous run to end (or set concurrency: queue or cancel_previous)", details: { run: details.id } });
    return details;
  });
}

/** The server of SLIPWAY_HOME carries the run on (approvals, waits, later stages); started when none runs. */
async function handToServer(compiled: CompiledProject, ctx: OperationContext): Promise<void> {
  if (!servedByHomeServer(compiled, ctx)) {
    ctx.reporter.warn(`${compiled.project.name}/${compiled.project.target.name} keeps its state outside this home's state database: the run goes on only in a server whose home uses that state (SLIPWAY_HOME/config.yaml, state:)`);
    return;
  }
  if (await runningServer(ctx.env)) return;
  const server = await ensureServer(ctx.env);
  ctx.reporter.info(`started the Slipway server at ${server.url}: it carries the pipeline run on`);
}

/** The targets a run deploys to, destroys, promotes into or rolls out on without an approval stage before it. */
export function ungatedTargets(spec: PipelineSpec): string[] {
  const deps = new Map(spec.stages.map((s) => [s.name, s.depends_on]));
  const type = new Map(spec.stages.map((s) => [s.name, s.type]));
  const gated = (name: string, seen = new Set<string>()): boolean =>
    (deps.get(name) ?? []).some((d) => {
      if (seen.has(d)) return false;
      seen.add(d);
      return type.get(d) === "approval" || gated(d, seen);
    });
  const changes = (s: PipelineSpec["stages"][number]) => s.type === "deploy" || s.type === "destroy" || s.type === "promote" || s.type === "rollout";
  return [...new Set(spec.stages.filter((s) => changes(s) && !gated(s.name)).map((s) => (s.type === "promote" ? s.to! : s.target!)))];
}

async function deployedPipeline(compiled: CompiledProject, stores: Stores, name: string): Promise<PipelineSpec> {
  const { project } = compiled;
  const where = `${project.name}/${project.target.name}`;
  const recorded = (await stores.state.forTarget(project.name, project.target.name).listResources()).filter((r) => r.kind === "pipeline");
  const deployed = recorded.find((r) => r.name === name);
  if (deployed) return specOf(deployed, "pipeline");
  const declared = compiled.resources.find((r) => r.address === `pipeline.${name}`);
  if (declared) {
    throw new RefusedError("pipeline_not_deployed", `pipeline ${name} is not deployed to ${where}${declared.phase > 0 ? ` (it is in phase ${declared.phase})` : ""}`, { hint: `deploy it first: slipway deploy -t ${project.target.name}${declared.phase > 0 ? ` --phase ${declared.phase}` : ""}` });
  }
  const names = [...new Set([...recorded.map((r) => r.name), ...compiled.resources.filter((r) => r.kind === "pipeline").map((r) => r.name)])].sort();
  throw new InvalidInputError([{ message: `no pipeline "${name}" in ${project.name}`, hint: didYouMean(name, names) ?? (names.length ? `pipelines: ${names.join(", ")}` : "declare one under resources.pipelines in a module.yaml") }], "unknown_pipeline");
}

export async function listPipelineRuns(options: ProjectOptions & { name: string; limit?: number }, ctx: OperationContext): Promise<{ project: string; target: string; pipeline: string; runs: PipelineRunSummary[] }> {
  const compiled = compileFor(options, ctx);
  await authorize(compiled, ctx, "CAN_VIEW", "pipelines runs");
  const { project } = compiled;
  return withStores(compiled, ctx.env, async (stores) => {
    const rows = await stores.state.pipelines().runs({ project: project.name, target: project.target.name, pipeline: options.name, limit: options.limit ?? 20 });
    if (!rows.length) await deployedPipeline(compiled, stores, options.name);
    return { project: project.name, target: project.target.name, pipeline: options.name, runs: rows.map(runSummary) };
  });
}

export async function pipelineStatus(options: ProjectOptions & { run: string }, ctx: OperationContext): Promise<PipelineRunDetails> {
  const compiled = compileFor(options, ctx);
  await authorize(compiled, ctx, "CAN_VIEW", "pipelines status");
  return withStores(compiled, ctx.env, async (stores) => runDetails(stores, (await findPipelineRun(compiled, stores, options.run)).id));
}

export interface DecisionOptions extends ProjectOptions {
  run: string;
  stage: string;
  decision: "approve" | "reject";
  comment?: string;
}

/** Records an approver's decision; the run moves on in whichever process advances it (the server's loop). */
export async function decideApproval(options: DecisionOptions, ctx: OperationContext): Promise<PipelineRunDetails & { decision: { stage: string; user: string; decision: string; comment: string | null; at: string } }> {
  const compiled = compileFor(options, ctx);
  return withStores(compiled, ctx.env, async (stores) => {
    const run = await findPipelineRun(compiled, stores, options.run);
    const spec = JSON.parse(run.spec) as PipelineSpec;
    const stage = stageOf(spec, run, options.stage);
    // The permission to deploy where the gated stage deploys, then the rules of the stage itself.
    await authorizeTarget(compiled, ctx, stage.target ?? run.target, "CAN_MANAGE", `${options.decision} stage ${stage.name} of pipeline run ${run.id}`);
    const store = stores.state.pipelines();
    const row = (await store.stages(run.id)).find((r) => r.stage === stage.name)!;
    const who = ctx.actor ?? { name: ctx.env.user, groups: [] };
    checkDecision(run, stage, row, await store.decisions(run.id), who, options.decision);
    const decision = { run_id: run.id, stage: stage.name, user: who.name, decision: options.decision, comment: options.comment ?? null, at: iso(ctx.env.clock.now()) };
    if (!(await store.decide(decision))) throw new RefusedError("already_decided", `${who.name} has already decided on stage ${stage.name} of pipeline run ${run.id}`, { hint: "each approver decides once" });
    // The run as the decision leaves it (read before the server is woken, which then moves it on).
    const details = await runDetails(stores, run.id);
    if (!ctx.inServer) await handToServer(compiled, ctx);
    return { ...details, decision: { stage: stage.name, user: who.name, decision: options.decision, comment: decision.comment, at: decision.at } };
  });
}

/** A stage's log: a run stage's job run's lines (by task), the others' own log. */
export async function pipelineStageLogs(options: ProjectOptions & { run: string; stage: string }, ctx: OperationContext): Promise<{ run: string; stage: string; status: string; jobRun: string | null; lines: Array<{ task: string | null; line: string }> }> {
  const compiled = compileFor(options, ctx);
  await authorize(compiled, ctx, "CAN_VIEW", "pipelines logs");
  return withStores(compiled, ctx.env, async (stores) => {
    const run = await findPipelineRun(compiled, stores, options.run);
    const stage = stageOf(JSON.parse(run.spec) as PipelineSpec, run, options.stage);
    const row = (await stores.state.pipelines().stages(run.id)).find((r) => r.stage === stage.name)!;
    const lines: Array<{ task: string | null; line: string }> = [];
    if (stage.type === "run" && row.job_run) {
      await runLogs({ dir: run.dir, target: stage.target, run: row.job_run, onLine: (task, line) => lines.push({ task, line }) }, { ...ctx, authorize: undefined }).catch((e: Error) => lines.push({ task: null, line: `(the job run's logs could not be read: ${e.message})` }));
    } else if (row.log) {
      for (const line of row.log.split("\n")) lines.push({ task: null, line });
    }
    return { run: run.id, stage: stage.name, status: row.status, jobRun: row.job_run, lines };
  });
}

function stageOf(spec: PipelineSpec, run: PipelineRunRow, name: string): StageSpec {
  const stage = spec.stages.find((s) => s.name === name);
  if (stage) return stage;
  const names = spec.stages.map((s) => s.name);
  throw new InvalidInputError([{ message: `pipeline run ${run.id} (${run.pipeline}) has no stage "${name}"`, hint: didYouMean(name, names) ?? `its stages: ${names.join(", ")}` }], "unknown_stage");
}

async function findPipelineRun(compiled: CompiledProject, stores: Stores, id: string): Promise<PipelineRunRow> {
  const store = stores.state.pipelines();
  const exact = await store.run(id);
  const matches = exact ? [exact] : await store.runsByPrefix(id);
  const { project } = compiled;
  if (matches.length === 1) {
    const run = matches[0]!;
    if (run.project === project.name && run.target === project.target.name) return run;
    throw new InvalidInputError([{ message: `pipeline run ${run.id} belongs to ${run.project}/${run.target}, not ${project.name}/${project.target.name}`, hint: `add -t ${run.target}` }], "unknown_run");
  }
  throw new InvalidInputError(
    [{ message: matches.length ? `pipeline run id "${id}" is ambiguous` : `no pipeline run "${id}"`, hint: matches.length ? `it starts ${matches.map((m) => m.id).join(", ")}; type more of it` : "see `slipway pipelines runs NAME` for run ids" }],
    "unknown_run",
  );
}

async function runDetails(stores: Stores, id: string): Promise<PipelineRunDetails> {
  const store = stores.state.pipelines();
  const run = (await store.run(id))!;
  const spec = JSON.parse(run.spec) as PipelineSpec;
  const rows = new Map((await store.stages(id)).map((r) => [r.stage, r]));
  const decisions = await store.decisions(id);
  const notifications = await store.notifications(id);
  return {
    ...runSummary(run),
    stages: spec.stages.map((s) => stageInfo(s, rows.get(s.name)!, decisions)),
    upstream: run.upstream ? JSON.parse(run.upstream) : null,
    notifications: notifications.map((n) => ({ event: n.event, channel: spec.notifications[n.channel] ? describeChannel(spec.notifications[n.channel]!) : `channel ${n.channel}`, status: n.status, attempts: n.attempts, at: n.at, message: n.message })),
  };
}

function stageInfo(s: StageSpec, row: PipelineStageRow, decisions: Array<{ stage: string; user: string; decision: string; comment: string | null; at: string }>): StageInfo {
  const details = row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null;
  return {
    name: s.name,
    type: s.type,
    status: row.status,
    dependsOn: s.depends_on,
    when: s.when ?? null,
    target: s.target ?? null,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.started_at && row.finished_at ? Date.parse(row.finished_at) - Date.parse(row.started_at) : null,
    message: row.message,
    jobRun: row.job_run,
    outputs: row.outputs ? JSON.parse(row.outputs) : null,
    approval:
      s.type === "approval"
        ? {
            target: s.target ?? "",
            approvers: s.approvers ?? [],
            required: s.required ?? 1,
            preventSelfReview: s.prevent_self_review !== false,
            timeoutAt: row.due_at !== null ? iso(row.due_at) : null,
            message: s.message ?? null,
            decisions: decisions.filter((d) => d.stage === s.name).map((d) => ({ user: d.user, decision: d.decision, comment: d.comment, at: d.at })),
            plan: (details?.plan as PlanSummary[] | undefined) ?? [],
          }
        : null,
    dueAt: row.due_at !== null ? iso(row.due_at) : null,
    plan: s.type === "deploy" || s.type === "destroy" ? ((details?.plan as PlanSummary | undefined) ?? null) : null,
  };
}

function runSummary(r: PipelineRunRow): PipelineRunSummary {
  return {
    id: r.id,
    project: r.project,
    target: r.target,
    pipeline: r.pipeline,
    status: r.status,
    trigger: r.trigger,
    triggerRef: r.trigger_ref,
    user: r.user,
    params: JSON.parse(r.params),
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.started_at && r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : null,
    message: r.message,
  };
}

async function authorize(compiled: CompiledProject, ctx: OperationContext, level: AccessLevel, operation: string, address?: string): Promise<void> {
  await authorizeTarget(compiled, ctx, compiled.project.target.name, level, operation, address);
}

/** Asks ctx.authorize for a level on a target of the project (another than the compiled one: its recorded grants are read from its own state). */
async function authorizeTarget(compiled: CompiledProject, ctx: OperationContext, target: string, level: AccessLevel, operation: string, address?: string): Promise<void> {
  if (!ctx.authorize) return;
  const other = target === compiled.project.target.name ? compiled : compile({ dir: compiled.project.dir, target }, ctx.env);
  await ctx.authorize({ level, project: compiled.project.name, target, address, operation }, () => withStores(other, ctx.env, (stores) => recordedAccessOf(stores, compiled.project.name, target)));
}

