// The project commands as documents: each runs its operation (src/operations) and answers with the
// command's view (src/views). The API's project routes answer with these, and the embedded CLI prints
// them, so both print the same bytes (the CLI renders its text from the document too).
import type { GcPlan } from "../operations/artifacts.js";
import type { OperationContext, ProjectOptions } from "../operations/context.js";
import type { FieldsOf } from "../views/documents.js";
import type { ErrorJson } from "../views/error.js";

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

export { AUDITED_PROJECT_COMMANDS, projectAuditEntry } from "./project-audit.js";

// Each command imports its operation and view when it is called: the CLI runs one command per process,
// and loading every operation (the gateway, pipelines, artifacts...) for `validate` or `run` was most of
// their start-up (bench/startup). The server pays each import once.
export const projectCommands: ProjectCommands = {
  validate: async (ctx, p) => {
    const { validate } = await import("../operations/deploy.js");
    const { validateView } = await import("../views/deployments.js");
    return { fields: validateView(validate(p, ctx)) };
  },
  plan: async (ctx, p, a) => {
    const { plan } = await import("../operations/deploy.js");
    const { planView } = await import("../views/deployments.js");
    return { fields: planView(await plan({ ...p, ...a }, ctx)) };
  },
  deploy: async (ctx, p, a) => {
    const { deploy } = await import("../operations/deploy.js");
    const { deploymentFailure, deploymentView } = await import("../views/deployments.js");
    const r = await deploy({ ...p, ...a }, ctx);
    return { fields: deploymentView(r), error: deploymentFailure(r, "deploy") };
  },
  destroy: async (ctx, p, a) => {
    const { destroy } = await import("../operations/destroy.js");
    const { deploymentFailure, deploymentView } = await import("../views/deployments.js");
    const r = await destroy({ ...p, ...a }, ctx);
    return { fields: deploymentView(r), error: deploymentFailure(r, "destroy") };
  },
  rollback: async (ctx, p, a) => {
    const { rollback } = await import("../operations/rollback.js");
    const { deploymentFailure, deploymentView } = await import("../views/deployments.js");
    const r = await rollback({ ...p, ...a }, ctx);
    return { fields: deploymentView(r), error: deploymentFailure(r, "rollback") };
  },
  status: async (ctx, p) => {
    const { status } = await import("../operations/queries.js");
    const { statusView } = await import("../views/deployments.js");
    return { fields: statusView(await status(p, ctx)) };
  },
  history: async (ctx, p, a) => {
    const { history } = await import("../operations/queries.js");
    const { historyView } = await import("../views/deployments.js");
    return { fields: historyView(await history({ ...p, limit: a.limit ?? 50 }, ctx)) };
  },
  "settings list": async (ctx, p, a) => {
    const { listSettings } = await import("../operations/queries.js");
    const { settingsView } = await import("../views/deployments.js");
    return { fields: settingsView(await listSettings({ ...p, module: a.module }, ctx)) };
  },
  run: async (ctx, p, a) => {
    const { startRun } = await import("../operations/runs.js");
    const { runSummaryView } = await import("../views/runs.js");
    return { fields: runSummaryView(await startRun({ ...p, job: a.job, params: a.params ?? {}, keepWorkdir: a.keepWorkdir, noCache: a.noCache, fromSource: a.fromSource, bundleArchive: a.bundleArchive, writeBundle: a.writeBundle }, ctx)) };
  },
  sweep: async (ctx, p, a) => {
    const { startSweep } = await import("../operations/runs.js");
    const { sweepView } = await import("../views/runs.js");
    return { fields: sweepView(await startSweep({ ...p, job: a.job, values: a.values, params: a.params ?? {}, noCache: a.noCache, fromSource: a.fromSource }, ctx)) };
  },
  runs: async (ctx, p, a) => {
    const { listRuns } = await import("../operations/runs.js");
    const { runsView } = await import("../views/runs.js");
    return { fields: runsView(await listRuns({ ...p, job: a.job, limit: a.limit ?? 20 }, ctx)) };
  },
  "runs show": async (ctx, p, a) => {
    const { showRun } = await import("../operations/runs.js");
    const { runDetailsView } = await import("../views/runs.js");
    return { fields: runDetailsView(await showRun({ ...p, run: a.run }, ctx)) };
  },
  "runs results": async (ctx, p, a) => {
    const { showRun } = await import("../operations/runs.js");
    const { runResultsView } = await import("../views/runs.js");
    return { fields: runResultsView(await showRun({ ...p, run: a.run }, ctx)) };
  },
  logs: async (ctx, p, a) => {
    const { runLogs } = await import("../operations/runs.js");
    const { logsView, runFailure } = await import("../views/runs.js");
    const lines: Array<{ task: string; line: string }> = [];
    const r = await runLogs({ ...p, run: a.run, task: a.task, follow: a.follow, onLine: (task, line) => (a.onLine ? a.onLine(task, line) : lines.push({ task, line })) }, ctx);
    // Following a run ends with its outcome, like `run --wait`.
    return { fields: logsView(r, lines), error: a.follow ? runFailure(r) : undefined };
  },
  cancel: async (ctx, p, a) => {
    const { cancelRun } = await import("../operations/runs.js");
    const { runSummaryView } = await import("../views/runs.js");
    return { fields: runSummaryView(await cancelRun({ ...p, run: a.run }, ctx)) };
  },
  "jobs list": async (ctx, p) => {
    const { listJobs } = await import("../operations/jobs.js");
    const { jobsView } = await import("../views/schedules.js");
    return { fields: jobsView(await listJobs(p, ctx)) };
  },
  "schedules list": async (ctx, p) => {
    const { listSchedules } = await import("../operations/schedules.js");
    const { schedulesView } = await import("../views/schedules.js");
    return { fields: schedulesView(await listSchedules(p, ctx)) };
  },
  "schedules pause": async (ctx, p, a) => {
    const { setSchedulePaused } = await import("../operations/schedules.js");
    const { schedulePauseView } = await import("../views/schedules.js");
    return { fields: schedulePauseView(await setSchedulePaused({ ...p, name: a.name, paused: true }, ctx)) };
  },
  "schedules unpause": async (ctx, p, a) => {
    const { setSchedulePaused } = await import("../operations/schedules.js");
    const { schedulePauseView } = await import("../views/schedules.js");
    return { fields: schedulePauseView(await setSchedulePaused({ ...p, name: a.name, paused: false }, ctx)) };
  },
  "ttl show": async (ctx, p) => {
    const { showTtl } = await import("../operations/ttl.js");
    const { ttlView } = await import("../views/ttl.js");
    return { fields: ttlView(await showTtl(p, ctx)) };
  },
  "ttl extend": async (ctx, p, a) => {
    const { extendTtl } = await import("../operations/ttl.js");
    const { ttlView } = await import("../views/ttl.js");
    return { fields: ttlView(await extendTtl({ ...p, by: a.by }, ctx)) };
  },
  "ttl pin": async (ctx, p) => {
    const { setTtlPinned } = await import("../operations/ttl.js");
    const { ttlView } = await import("../views/ttl.js");
    return { fields: ttlView(await setTtlPinned({ ...p, pinned: true }, ctx)) };
  },
  "ttl unpin": async (ctx, p) => {
    const { setTtlPinned } = await import("../operations/ttl.js");
    const { ttlView } = await import("../views/ttl.js");
    return { fields: ttlView(await setTtlPinned({ ...p, pinned: false }, ctx)) };
  },
  "models list": async (ctx, p) => {
    const { listModels } = await import("../operations/models.js");
    const { modelsView } = await import("../views/models.js");
    return { fields: modelsView(await listModels(p, ctx)) };
  },
  "models versions": async (ctx, p, a) => {
    const { modelVersions } = await import("../operations/models.js");
    const { modelVersionsView } = await import("../views/models.js");
    return { fields: modelVersionsView(a.model, await modelVersions({ ...p, model: a.model }, ctx)) };
  },
  "models show": async (ctx, p, a) => {
    const { showModelVersion } = await import("../operations/models.js");
    const { modelVersionView } = await import("../views/models.js");
    return { fields: modelVersionView(await showModelVersion({ ...p, ref: a.ref }, ctx)) };
  },
  "models alias set": async (ctx, p, a) => {
    const { setModelAlias } = await import("../operations/models.js");
    const { modelVersionView } = await import("../views/models.js");
    return { fields: modelVersionView(await setModelAlias({ ...p, model: a.model, alias: a.alias, version: a.version }, ctx)) };
  },
  "models promote": async (ctx, p, a) => {
    const { promoteModel } = await import("../operations/promote.js");
    const { modelPromotionView } = await import("../views/models.js");
    return { fields: modelPromotionView(await promoteModel({ ...p, ref: a.ref, from: a.from, to: a.to, alias: a.alias }, ctx)) };
  },
  "endpoints list": async (ctx, p) => {
    const { listEndpoints } = await import("../operations/endpoints.js");
    const { endpointsView } = await import("../views/endpoints.js");
    return { fields: endpointsView(await listEndpoints(p, ctx)) };
  },
  "apps list": async (ctx, p) => {
    const { listApps } = await import("../operations/apps.js");
    const { appsView } = await import("../views/apps.js");
    return { fields: appsView(await listApps(p, ctx)) };
  },
  "apps logs": async (ctx, p, a) => {
    const { appLogs } = await import("../operations/apps.js");
    const { appLogsView } = await import("../views/apps.js");
    return { fields: appLogsView(await appLogs({ ...p, name: a.name, offset: a.offset, tail: a.tail }, ctx)) };
  },
  "endpoints query": async (ctx, p, a) => {
    const { queryEndpoint } = await import("../operations/endpoints.js");
    const { queryFailure, queryView } = await import("../views/endpoints.js");
    const r = await queryEndpoint({ ...p, name: a.name, data: a.data, token: a.token, protocol: a.protocol ?? "mlflow" }, ctx);
    // A non-2xx answer is still the document; its exit code comes from the registry (query_rejected, …).
    return { fields: queryView(r), error: queryFailure(r) };
  },
  "endpoints logs": async (ctx, p, a) => {
    const { endpointLogs } = await import("../operations/endpoints.js");
    const { endpointLogsView } = await import("../views/endpoints.js");
    return { fields: endpointLogsView(a.name, await endpointLogs({ ...p, name: a.name, limit: a.limit ?? 20 }, ctx)) };
  },
  "endpoints reap": async (ctx, p) => {
    const { authorizeFor, compileFor, withStores } = await import("../operations/context.js");
    const { reapExpiredEndpoints } = await import("../operations/endpoints.js");
    const { reapView } = await import("../views/endpoints.js");
    const compiled = compileFor(p, ctx);
    await authorizeFor(compiled, ctx, "CAN_MANAGE", "endpoints reap");
    const gone = await withStores(compiled, ctx.env, (stores) => reapExpiredEndpoints(stores, ctx.env, ctx, { project: compiled.project.name, target: compiled.project.target.name }));
    return { fields: reapView(gone) };
  },
  "artifacts list": async (ctx, p, a) => {
    const { listArtifactVersions, listArtifacts } = await import("../operations/artifacts.js");
    const { artifactVersionsView, artifactsOverviewView } = await import("../views/artifacts.js");
    return { fields: a.name === undefined ? artifactsOverviewView(await listArtifacts(p, ctx)) : artifactVersionsView(await listArtifactVersions({ ...p, name: a.name }, ctx)) };
  },
  "artifacts install": async (ctx, p, a) => {
    const { installArtifact } = await import("../operations/artifacts.js");
    const { installView } = await import("../views/artifacts.js");
    return { fields: installView(await installArtifact({ ...p, library: a.library, into: a.into, forceUnlock: a.forceUnlock }, ctx)) };
  },
  "artifacts gc": async (ctx, p, a) => {
    const { collectGarbage } = await import("../operations/artifacts.js");
    const { plan } = await import("../operations/deploy.js");
    const { gcView } = await import("../views/artifacts.js");
    const onPlan = a.onPlan && ((plan: GcPlan) => a.onPlan!(gcView({ ...plan, dryRun: false, freedBytes: 0 })));
    return { fields: gcView(await collectGarbage({ ...p, names: a.names, keepLast: a.keepLast, yes: a.yes, forceUnlock: a.forceUnlock, onPlan }, ctx)) };
  },
  "artifacts promote": async (ctx, p, a) => {
    const { promoteArtifact } = await import("../operations/promote.js");
    const { artifactPromotionView } = await import("../views/artifacts.js");
    return { fields: artifactPromotionView(await promoteArtifact({ ...p, ref: a.ref, from: a.from, to: a.to }, ctx)) };
  },
  "archives list": async (ctx, p, a) => {
    const { listArchive } = await import("../operations/archives.js");
    const { archiveListView } = await import("../views/archives.js");
    return { fields: archiveListView(await listArchive({ ...p, kind: a.kind, run: a.run }, ctx)) };
  },
  "pipelines list": async (ctx, p) => {
    const { listPipelines } = await import("../operations/pipelines.js");
    const { pipelinesView } = await import("../views/pipelines.js");
    return { fields: pipelinesView(await listPipelines(p, ctx)) };
  },
  "pipelines run": async (ctx, p, a) => {
    const { runPipeline } = await import("../operations/pipelines.js");
    const { pipelineRunFailure, pipelineRunView } = await import("../views/pipelines.js");
    const r = await runPipeline({ ...p, name: a.name, params: a.params, detach: a.detach, onLine: a.onLine }, ctx);
    return { fields: pipelineRunView(r), error: pipelineRunFailure(r) };
  },
  "pipelines runs": async (ctx, p, a) => {
    const { listPipelineRuns } = await import("../operations/pipelines.js");
    const { pipelineRunsView } = await import("../views/pipelines.js");
    return { fields: pipelineRunsView(await listPipelineRuns({ ...p, name: a.name, limit: a.limit ?? 20 }, ctx)) };
  },
  "pipelines status": async (ctx, p, a) => {
    const { pipelineStatus } = await import("../operations/pipelines.js");
    const { pipelineRunView } = await import("../views/pipelines.js");
    return { fields: pipelineRunView(await pipelineStatus({ ...p, run: a.run }, ctx)) };
  },
  "pipelines approve": async (ctx, p, a) => {
    const { decideApproval } = await import("../operations/pipelines.js");
    const { pipelineDecisionView } = await import("../views/pipelines.js");
    return { fields: pipelineDecisionView(await decideApproval({ ...p, run: a.run, stage: a.stage, decision: "approve", comment: a.comment }, ctx)) };
  },
  "pipelines reject": async (ctx, p, a) => {
    const { decideApproval } = await import("../operations/pipelines.js");
    const { pipelineDecisionView } = await import("../views/pipelines.js");
    return { fields: pipelineDecisionView(await decideApproval({ ...p, run: a.run, stage: a.stage, decision: "reject", comment: a.comment }, ctx)) };
  },
  "pipelines logs": async (ctx, p, a) => {
    const { pipelineStageLogs } = await import("../operations/pipelines.js");
    const { pipelineLogsView } = await import("../views/pipelines.js");
    return { fields: pipelineLogsView(await pipelineStageLogs({ ...p, run: a.run, stage: a.stage }, ctx)) };
  },
};
