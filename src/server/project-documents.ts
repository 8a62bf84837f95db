// The project commands as documents: each runs its operation (src/operations) and answers with the
// command's view (src/views). The API's project routes answer with these, and the embedded CLI prints
// them, so both print the same bytes (the CLI renders its text from the document too).
import { listArchive } from "../operations/archives.js";
import { archiveListView } from "../views/archives.js";
import { collectGarbage, installArtifact, listArtifacts, listArtifactVersions, type GcPlan } from "../operations/artifacts.js";
import { authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "../operations/context.js";
import { deploy, plan, validate } from "../operations/deploy.js";
import { destroy } from "../operations/destroy.js";
import { endpointLogs, listEndpoints, queryEndpoint, reapExpiredEndpoints } from "../operations/endpoints.js";
import { listJobs } from "../operations/jobs.js";
import { listModels, modelVersions, setModelAlias, showModelVersion } from "../operations/models.js";
import { promoteArtifact, promoteModel } from "../operations/promote.js";
import { decideApproval, listPipelineRuns, listPipelines, pipelineStageLogs, pipelineStatus, runPipeline } from "../operations/pipelines.js";
import { pipelineDecisionView, pipelineLogsView, pipelineRunFailure, pipelineRunsView, pipelineRunView, pipelinesView } from "../views/pipelines.js";
import { history, listSettings, status } from "../operations/queries.js";
import { rollback } from "../operations/rollback.js";
import { cancelRun, listRuns, runLogs, showRun, startRun, startSweep } from "../operations/runs.js";
import { listSchedules, setSchedulePaused } from "../operations/schedules.js";
import { extendTtl, setTtlPinned, showTtl } from "../operations/ttl.js";
import { artifactPromotionView, artifactsOverviewView, artifactVersionsView, gcView, installView } from "../views/artifacts.js";
import { deploymentFailure, deploymentView, historyView, planView, settingsView, statusView, validateView } from "../views/deployments.js";
import type { FieldsOf } from "../views/documents.js";
import type { AuditEvent } from "./auth/audit.js";
import { endpointLogsView, endpointsView, queryFailure, queryView, reapView } from "../views/endpoints.js";
import { appLogsView, appsView } from "../views/apps.js";
import { appLogs, listApps } from "../operations/apps.js";
import type { ErrorJson } from "../views/error.js";
import { modelPromotionView, modelVersionsView, modelVersionView, modelsView } from "../views/models.js";
import { logsView, runDetailsView, runFailure, runResultsView, runsView, runSummaryView, sweepView } from "../views/runs.js";
import { jobsView, schedulePauseView, schedulesView } from "../views/schedules.js";
import { ttlView } from "../views/ttl.js";

interface Apply {
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  killOrphans?: boolean;
}

/** The arguments of each project command (beyond the project, target and variables). */
export interface ProjectArgs {
  validate: Record<string, never>;
  plan: { phase?: number; modules?: string[]; withDeps?: boolean; reconcile?: boolean };
  deploy: { phase?: number; modules?: string[]; withDeps?: boolean; reconcile?: boolean } & Apply;
  destroy: { modules?: string[] } & Apply;
  rollback: { to: number } & Apply;
  status: Record<string, never>;
  history: { limit?: number };
  "settings list": { module?: string };
  /** Starts a run (`run` without --wait; `run --wait` is run, logs with follow, runs show). */
  run: { job: string; params?: Record<string, string>; keepWorkdir?: boolean; noCache?: boolean; fromSource?: boolean; writeBundle?: boolean; /** A `slipway bundle` archive on this machine (embedded only). */ bundleArchive?: string };
  /** Starts one run per combination of `values` (a sweep); `sweep --wait` is this, then runs show of each until all finished. */
  sweep: { job: string; values: Record<string, string[]>; params?: Record<string, string>; noCache?: boolean; fromSource?: boolean };
  runs: { job?: string; limit?: number };
  "runs show": { run: string };
  "runs results": { run: string };
  /** With `follow`, each line goes to `onLine` as it comes and the lines are not in the document. */
  logs: { run: string; task?: string; follow?: boolean; onLine?: (task: string, line: string) => void };
  cancel: { run: string };
  "jobs list": Record<string, never>;
  "schedules list": Record<string, never>;
  "schedules pause": { name: string };
  "schedules unpause": { name: string };
  "ttl show": Record<string, never>;
  "ttl extend": { by: string };
  "ttl pin": Record<string, never>;
  "ttl unpin": Record<string, never>;
  "models list": Record<string, never>;
  "models versions": { model: string };
  "models show": { ref: string };
  "models alias set": { model: string; alias: string; version: number };
  /** Copies REF's version from `from` to `to` (the project's target is not used). */
  "models promote": { ref: string; from: string; to: string; alias?: string };
  "endpoints list": Record<string, never>;
  "endpoints query": { name: string; data: string; token?: string; protocol?: "mlflow" | "oip" };
  "endpoints logs": { name: string; limit?: number };
  "endpoints reap": Record<string, never>;
  "apps list": Record<string, never>;
  "apps logs": { name: string; offset?: number; tail?: number };
  "artifacts list": { name?: string };
  /** One archive kind's blobs for the target, grouped; `run` limits it to one run's. */
  "archives list": { kind: string; run?: string };
  "artifacts install": { library: string; into: string; forceUnlock?: boolean };
  /** `onPlan`: the plan (as the document holds it) before anything is deleted or asked. */
  "artifacts gc": { names?: string[]; keepLast?: number; yes?: boolean; forceUnlock?: boolean; onPlan?: (plan: FieldsOf<"artifacts gc">) => void };
  "artifacts promote": { ref: string; from: string; to: string };
  "pipelines list": Record<string, never>;
  /** Embedded: runs the stages in the foreground (unless `detach`), lines to `onLine`. Remote: the server records the run and answers at once. */
  "pipelines run": { name: string; params?: Record<string, string>; detach?: boolean; onLine?: (line: string) => void };
  "pipelines runs": { name: string; limit?: number };
  "pipelines status": { run: string };
  /** The approver is ctx.actor (the API's caller; embedded: the local user with their groups). */
  "pipelines approve": { run: string; stage: string; comment?: string };
  "pipelines reject": { run: string; stage: string; comment?: string };
  "pipelines logs": { run: string; stage: string };
}

export type ProjectCommand = keyof ProjectArgs;

/** A command's answer: its document's fields, and `error` when it finished unsuccessfully with them. */
export interface ProjectAnswer<C extends ProjectCommand> {
  fields: FieldsOf<C>;
  error?: ErrorJson;
}

export type ProjectCommands = { [C in ProjectCommand]: (ctx: OperationContext, project: ProjectOptions, args: ProjectArgs[C]) => Promise<ProjectAnswer<C>> };

/**
 * The project commands that change something, with their audit log action: the API appends one entry
 * per call of these (src/server/api/app.ts), the embedded CLI the same (src/cli/project.ts).
 */
export const AUDITED_PROJECT_COMMANDS: Partial<Record<ProjectCommand, string>> = {
  deploy: "deploy",
  destroy: "destroy",
  rollback: "rollback",
  run: "run",
  sweep: "sweep",
  cancel: "cancel",
  "schedules pause": "schedules pause",
  "schedules unpause": "schedules unpause",
  "ttl extend": "ttl extend",
  "ttl pin": "ttl pin",
  "ttl unpin": "ttl unpin",
  "models alias set": "alias move",
  "endpoints reap": "endpoints reap",
  "artifacts install": "artifacts install",
  "artifacts gc": "artifacts gc",
  "models promote": "models promote",
  "artifacts promote": "artifacts promote",
};

/** What one audited project command did, for its audit entry (who and from where are the caller's). */
export function projectAuditEntry(
  action: string,
  where: { project?: string; target?: string },
  ref: { run?: string; model?: string; alias?: string; job?: string; name?: string },
  fields: { target?: unknown; revision?: unknown; id?: unknown; version?: unknown } | undefined,
  outcome: string,
): Omit<AuditEvent, "actor" | "client"> {
  const resource = ref.run ?? (ref.model ? `model.${ref.model}${ref.alias ? `@${ref.alias}` : ""}` : undefined) ?? (ref.job ? `job.${ref.job}` : undefined) ?? ref.name;
  const detail: Record<string, unknown> = {};
  if (fields?.revision !== undefined) detail.revision = fields.revision;
  if (action === "run" && fields?.id) detail.run = fields.id;
  if (action === "alias move" && fields?.version !== undefined) detail.version = fields.version;
  const target = typeof fields?.target === "string" ? fields.target : (where.target ?? "");
  return { action, project: where.project, target, resource, outcome, detail };
}

export const projectCommands: ProjectCommands = {
  validate: async (ctx, p) => ({ fields: validateView(validate(p, ctx)) }),
  plan: async (ctx, p, a) => ({ fields: planView(await plan({ ...p, ...a }, ctx)) }),
  deploy: async (ctx, p, a) => {
    const r = await deploy({ ...p, ...a }, ctx);
    return { fields: deploymentView(r), error: deploymentFailure(r, "deploy") };
  },
  destroy: async (ctx, p, a) => {
    const r = await destroy({ ...p, ...a }, ctx);
    return { fields: deploymentView(r), error: deploymentFailure(r, "destroy") };
  },
  rollback: async (ctx, p, a) => {
    const r = await rollback({ ...p, ...a }, ctx);
    return { fields: deploymentView(r), error: deploymentFailure(r, "rollback") };
  },
  status: async (ctx, p) => ({ fields: statusView(await status(p, ctx)) }),
  history: async (ctx, p, a) => ({ fields: historyView(await history({ ...p, limit: a.limit ?? 50 }, ctx)) }),
  "settings list": async (ctx, p, a) => ({ fields: settingsView(await listSettings({ ...p, module: a.module }, ctx)) }),
  run: async (ctx, p, a) => ({ fields: runSummaryView(await startRun({ ...p, job: a.job, params: a.params ?? {}, keepWorkdir: a.keepWorkdir, noCache: a.noCache, fromSource: a.fromSource, bundleArchive: a.bundleArchive, writeBundle: a.writeBundle }, ctx)) }),
  sweep: async (ctx, p, a) => ({ fields: sweepView(await startSweep({ ...p, job: a.job, values: a.values, params: a.params ?? {}, noCache: a.noCache, fromSource: a.fromSource }, ctx)) }),
  runs: async (ctx, p, a) => ({ fields: runsView(await listRuns({ ...p, job: a.job, limit: a.limit ?? 20 }, ctx)) }),
  "runs show": async (ctx, p, a) => ({ fields: runDetailsView(await showRun({ ...p, run: a.run }, ctx)) }),
  "runs results": async (ctx, p, a) => ({ fields: runResultsView(await showRun({ ...p, run: a.run }, ctx)) }),
  logs: async (ctx, p, a) => {
    const lines: Array<{ task: string; line: string }> = [];
    const r = await runLogs({ ...p, run: a.run, task: a.task, follow: a.follow, onLine: (task, line) => (a.onLine ? a.onLine(task, line) : lines.push({ task, line })) }, ctx);
    // Following a run ends with its outcome, like `run --wait`.
    return { fields: logsView(r, lines), error: a.follow ? runFailure(r) : undefined };
  },
  cancel: async (ctx, p, a) => ({ fields: runSummaryView(await cancelRun({ ...p, run: a.run }, ctx)) }),
  "jobs list": async (ctx, p) => ({ fields: jobsView(await listJobs(p, ctx)) }),
  "schedules list": async (ctx, p) => ({ fields: schedulesView(await listSchedules(p, ctx)) }),
  "schedules pause": async (ctx, p, a) => ({ fields: schedulePauseView(await setSchedulePaused({ ...p, name: a.name, paused: true }, ctx)) }),
  "schedules unpause": async (ctx, p, a) => ({ fields: schedulePauseView(await setSchedulePaused({ ...p, name: a.name, paused: false }, ctx)) }),
  "ttl show": async (ctx, p) => ({ fields: ttlView(await showTtl(p, ctx)) }),
  "ttl extend": async (ctx, p, a) => ({ fields: ttlView(await extendTtl({ ...p, by: a.by }, ctx)) }),
  "ttl pin": async (ctx, p) => ({ fields: ttlView(await setTtlPinned({ ...p, pinned: true }, ctx)) }),
  "ttl unpin": async (ctx, p) => ({ fields: ttlView(await setTtlPinned({ ...p, pinned: false }, ctx)) }),
  "models list": async (ctx, p) => ({ fields: modelsView(await listModels(p, ctx)) }),
  "models versions": async (ctx, p, a) => ({ fields: modelVersionsView(a.model, await modelVersions({ ...p, model: a.model }, ctx)) }),
  "models show": async (ctx, p, a) => ({ fields: modelVersionView(await showModelVersion({ ...p, ref: a.ref }, ctx)) }),
  "models alias set": async (ctx, p, a) => ({ fields: modelVersionView(await setModelAlias({ ...p, model: a.model, alias: a.alias, version: a.version }, ctx)) }),
  "models promote": async (ctx, p, a) => ({ fields: modelPromotionView(await promoteModel({ ...p, ref: a.ref, from: a.from, to: a.to, alias: a.alias }, ctx)) }),
  "endpoints list": async (ctx, p) => ({ fields: endpointsView(await listEndpoints(p, ctx)) }),
  "apps list": async (ctx, p) => ({ fields: appsView(await listApps(p, ctx)) }),
  "apps logs": async (ctx, p, a) => ({ fields: appLogsView(await appLogs({ ...p, name: a.name, offset: a.offset, tail: a.tail }, ctx)) }),
  "endpoints query": async (ctx, p, a) => {
    const r = await queryEndpoint({ ...p, name: a.name, data: a.data, token: a.token, protocol: a.protocol ?? "mlflow" }, ctx);
    // A non-2xx answer is still the document; its exit code comes from the registry (query_rejected, …).
    return { fields: queryView(r), error: queryFailure(r) };
  },
  "endpoints logs": async (ctx, p, a) => ({ fields: endpointLogsView(a.name, await endpointLogs({ ...p, name: a.name, limit: a.limit ?? 20 }, ctx)) }),
  "endpoints reap": async (ctx, p) => {
    const compiled = compileFor(p, ctx);
    await authorizeFor(compiled, ctx, "CAN_MANAGE", "endpoints reap");
    const gone = await withStores(compiled, ctx.env, (stores) => reapExpiredEndpoints(stores, ctx.env, ctx, { project: compiled.project.name, target: compiled.project.target.name }));
    return { fields: reapView(gone) };
  },
  "artifacts list": async (ctx, p, a) => ({ fields: a.name === undefined ? artifactsOverviewView(await listArtifacts(p, ctx)) : artifactVersionsView(await listArtifactVersions({ ...p, name: a.name }, ctx)) }),
  "artifacts install": async (ctx, p, a) => ({ fields: installView(await installArtifact({ ...p, library: a.library, into: a.into, forceUnlock: a.forceUnlock }, ctx)) }),
  "artifacts gc": async (ctx, p, a) => {
    const onPlan = a.onPlan && ((plan: GcPlan) => a.onPlan!(gcView({ ...plan, dryRun: false, freedBytes: 0 })));
    return { fields: gcView(await collectGarbage({ ...p, names: a.names, keepLast: a.keepLast, yes: a.yes, forceUnlock: a.forceUnlock, onPlan }, ctx)) };
  },
  "artifacts promote": async (ctx, p, a) => ({ fields: artifactPromotionView(await promoteArtifact({ ...p, ref: a.ref, from: a.from, to: a.to }, ctx)) }),
  "archives list": async (ctx, p, a) => ({ fields: archiveListView(await listArchive({ ...p, kind: a.kind, run: a.run }, ctx)) }),
  "pipelines list": async (ctx, p) => ({ fields: pipelinesView(await listPipelines(p, ctx)) }),
  "pipelines run": async (ctx, p, a) => {
    const r = await runPipeline({ ...p, name: a.name, params: a.params, detach: a.detach, onLine: a.onLine }, ctx);
    return { fields: pipelineRunView(r), error: pipelineRunFailure(r) };
  },
  "pipelines runs": async (ctx, p, a) => ({ fields: pipelineRunsView(await listPipelineRuns({ ...p, name: a.name, limit: a.limit ?? 20 }, ctx)) }),
  "pipelines status": async (ctx, p, a) => ({ fields: pipelineRunView(await pipelineStatus({ ...p, run: a.run }, ctx)) }),
  "pipelines approve": async (ctx, p, a) => ({ fields: pipelineDecisionView(await decideApproval({ ...p, run: a.run, stage: a.stage, decision: "approve", comment: a.comment }, ctx)) }),
  "pipelines reject": async (ctx, p, a) => ({ fields: pipelineDecisionView(await decideApproval({ ...p, run: a.run, stage: a.stage, decision: "reject", comment: a.comment }, ctx)) }),
  "pipelines logs": async (ctx, p, a) => ({ fields: pipelineLogsView(await pipelineStageLogs({ ...p, run: a.run, stage: a.stage }, ctx)) }),
};
