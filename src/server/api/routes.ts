// Every route of /api/v1, as data: method, path, the command whose document it answers with, the access
// it needs, its input schema, whether it is an audited change, and its handler. The Hono app (app.ts)
// registers them and the OpenAPI document (openapi.ts) is generated from the same table.
import { z } from "zod";
import { silentReporter } from "../../engine/reporter.js";
import { collectGarbage, installArtifact, listArtifacts, listArtifactVersions } from "../../operations/artifacts.js";
import type { OperationContext, ProjectOptions } from "../../operations/context.js";
import { deploy, plan, validate } from "../../operations/deploy.js";
import { destroy } from "../../operations/destroy.js";
import { endpointLogs, listEndpoints, queryEndpoint, reapExpiredEndpoints } from "../../operations/endpoints.js";
import { listModels, modelVersions, setModelAlias, showModelVersion } from "../../operations/models.js";
import { history, listSettings, status } from "../../operations/queries.js";
import { rollback } from "../../operations/rollback.js";
import { cancelRun, listRuns, runLogs, showRun, startRun, startSweep } from "../../operations/runs.js";
import { authorizeFor, compileFor, withStores } from "../../operations/context.js";
import { gcView, installView, artifactsOverviewView, artifactVersionsView } from "../../views/artifacts.js";
import { deploymentFailure, deploymentView, historyView, planView, settingsView, statusView, validateView } from "../../views/deployments.js";
import type { CommandName } from "../../views/documents.js";
import { endpointLogsView, endpointsView, queryFailure, queryView, reapView } from "../../views/endpoints.js";
import type { ErrorJson } from "../../views/error.js";
import { modelVersionsView, modelVersionView, modelsView } from "../../views/models.js";
import { logsView, runDetailsView, runFailure, runResultsView, runsView, runSummaryView, sweepView } from "../../views/runs.js";
import { auditVerifyFailure } from "../../views/identity.js";
import type { Actor } from "../auth/actor.js";
import type { ControlPlane } from "../control-plane.js";
import { identityCommands, type IdentityCommand } from "../identity-documents.js";
import type { SourceStore } from "./sources.js";
import { toUserName, type RuntimeEnv } from "../../env.js";
import { decideApproval, listPipelineRuns, listPipelines, pipelineStageLogs, pipelineStatus, runPipeline } from "../../operations/pipelines.js";
import { pipelineDecisionView, pipelineLogsView, pipelineRunFailure, pipelineRunsView, pipelineRunView, pipelinesView } from "../../views/pipelines.js";
import { InvalidInputError } from "../../errors.js";

export interface ApiDeps {
  /** The server's environment; each call runs as its actor (env.user). */
  env: RuntimeEnv;
  cp: ControlPlane;
  sources: SourceStore;
}

export interface Call {
  actor: Actor;
  /** The bearer token the call came with (to query endpoints as the caller). */
  token: string;
  params: Record<string, string>;
  /** Raw request body (file uploads). */
  raw: Uint8Array;
  deps: ApiDeps;
}

export interface Result {
  fields: object;
  error?: ErrorJson;
  /** Values to mask in the answer (the project's secrets). */
  secrets?: readonly string[];
}

/** A streamed answer: newline-delimited JSON, one object per line (`logs` with follow). */
export interface Stream {
  stream: (write: (line: object) => void) => Promise<void>;
}

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface Route {
  method: Method;
  /** Under /api/v1, with :params. */
  path: string;
  /** The document it answers with (the CLI command's --json document); null: its own small document. */
  command: CommandName | null;
  summary: string;
  /** Who may call it, for the docs (the check itself is the Authorizer's). */
  access: string;
  /** Query parameters (GET, DELETE) or JSON body (POST, PUT) schema. */
  input?: () => z.ZodObject;
  /** A raw body (file upload) instead of JSON. */
  rawBody?: true;
  /** An audited change: the audit log's action name. */
  audit?: string;
  /** Answers the route without a token. */
  public?: true;
  handle(call: Call, input: any): Promise<Result | Stream>;
}

// ---- inputs shared by project routes
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 (64 lowercase hex digits)");
const projectQuery = {
  target: z.string().min(1).optional().describe("target (default: the one marked default)"),
  source: hex64.optional().describe("a source uploaded with POST /sources (default: the project's latest)"),
  var: z.array(z.string()).optional().describe("NAME=value (repeatable), like --var"),
};
const projectBody = {
  target: z.string().min(1).optional().describe("target (default: the one marked default)"),
  source: hex64.optional().describe("a source uploaded with POST /sources (default: the project's latest)"),
  vars: z.record(z.string(), z.string()).optional().describe("variables, like --var"),
};
const applyBody = { yes: z.boolean().optional().describe("confirm deletes and replaces"), force: z.boolean().optional(), force_unlock: z.boolean().optional() };
const int = z.coerce.number().int().min(0);
const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);

async function projectOf(call: Call, input: { target?: string; source?: string; var?: string[]; vars?: Record<string, string> }): Promise<ProjectOptions> {
  const vars: Record<string, string> = { ...input.vars };
  for (const pair of input.var ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidInputError([{ message: `var "${pair}" is not NAME=value`, hint: "var=catalog=main" }], "invalid_request");
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { dir: await call.deps.sources.dirFor(call.params.project!, input.source), target: input.target, vars };
}

/** The operation context of a call: the server's environment as the actor, secrets collected, every operation authorized. */
function contextOf(call: Call): { ctx: OperationContext; secrets: string[] } {
  const secrets: string[] = [];
  const { cp } = call.deps;
  const ctx: OperationContext = {
    env: { ...call.deps.env, user: toUserName(call.actor.name, "the signed-in user"), token: undefined },
    reporter: { ...silentReporter, secrets: (values) => void secrets.push(...values) },
    authorize: (request, recorded) => cp.authorizer.authorize(call.actor, request, recorded),
  };
  return { ctx, secrets };
}

/** A project route: the project's source, an authorized context, the document. */
function op<I>(run: (ctx: OperationContext, project: ProjectOptions, input: I, call: Call) => Promise<{ fields: object; error?: ErrorJson }>): (call: Call, input: I) => Promise<Result> {
  return async (call, input) => {
    const { ctx, secrets } = contextOf(call);
    const project = await projectOf(call, input as never);
    return { ...(await run(ctx, project, input, call)), secrets };
  };
}

const P = "/projects/:project";

function identity<C extends IdentityCommand>(command: C, args: (call: Call, input: any) => unknown): (call: Call, input: any) => Promise<Result> {
  return async (call, input) => ({ fields: await (identityCommands(call.deps.cp, call.actor)[command] as (a: unknown) => Promise<object>)(args(call, input)) });
}

const grantInput = () =>
  z.strictObject({
    level: z.enum(["CAN_VIEW", "CAN_RUN", "CAN_MANAGE", "CAN_QUERY"]),
    project: z.string().min(1),
    target: z.string().optional().describe("one target (default: every target of the project)"),
    resource: z.string().optional().describe("one resource of the target, e.g. endpoint.churn"),
    user: z.string().optional(),
    group: z.string().optional(),
    service_principal: z.string().optional(),
  });

function grantArgs(_call: Call, i: z.infer<ReturnType<typeof grantInput>>) {
  const [principalKind, principal] = i.user !== undefined ? ["user", i.user] : i.group !== undefined ? ["group", i.group] : i.service_principal !== undefined ? ["service_principal", i.service_principal] : [];
  if (!principalKind || [i.user, i.group, i.service_principal].filter((x) => x !== undefined).length !== 1) throw new InvalidInputError([{ message: "a grant names exactly one of user, group or service_principal", hint: '{"level": "CAN_VIEW", "project": "p", "group": "ml"}' }], "invalid_request");
  return { level: i.level, principalKind, principal, project: i.project, target: i.target ?? "", resource: i.resource ?? "" };
}

export const ROUTES: Route[] = [
  // ---- who am I, sources
  { method: "GET", path: "/whoami", command: "whoami", summary: "the caller: name, kind, administrator, groups", access: "any token", handle: identity("whoami", () => ({})) },
  {
    method: "POST",
    path: "/login",
    command: "whoami",
    summary: "checks a token and records the login in the audit log (what `slipway login` calls)",
    access: "any token",
    audit: "login",
    handle: identity("whoami", () => ({})),
  },
  {
    method: "POST",
    path: "/sources/missing",
    command: null,
    summary: "which of these files (by sha256) the server lacks: upload only those",
    access: "any token",
    input: () => z.strictObject({ files: z.array(hex64).max(200_000) }),
    handle: async (call, i: { files: string[] }) => ({ fields: { missing: await call.deps.sources.missing(i.files) } }),
  },
  {
    method: "PUT",
    path: "/sources/files/:sha256",
    command: null,
    summary: "uploads one file of a source; its body is the file's bytes, which must hash to :sha256",
    access: "any token",
    rawBody: true,
    handle: async (call) => {
      await call.deps.sources.putFile(call.params.sha256!, Buffer.from(call.raw));
      return { fields: { stored: call.params.sha256 } };
    },
  },
  {
    method: "POST",
    path: "/sources",
    command: null,
    summary: "registers a source from its bundle manifest (every file uploaded first); it becomes the project's latest",
    access: "any token",
    input: () => z.strictObject({ manifest: z.string().describe("the bundle manifest's JSON text (its sha256 is the source's id)") }),
    handle: async (call, i: { manifest: string }) => ({ fields: await call.deps.sources.putManifest(i.manifest) }),
  },

  // ---- deployments
  { method: "GET", path: `${P}/validate`, command: "validate", summary: "checks the project files for one target", access: "any token", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p) => ({ fields: validateView(validate(p, ctx)) })) },
  {
    method: "GET",
    path: `${P}/plan`,
    command: "plan",
    summary: "what deploy would change",
    access: "CAN_VIEW on the target",
    input: () => z.strictObject({ ...projectQuery, phase: int.optional(), module: z.array(z.string()).optional(), with_deps: bool.optional() }),
    handle: op(async (ctx, p, i: { phase?: number; module?: string[]; with_deps?: boolean }) => ({ fields: planView(await plan({ ...p, phase: i.phase, modules: i.module, withDeps: i.with_deps }, ctx)) })),
  },
  {
    method: "POST",
    path: `${P}/deploy`,
    command: "deploy",
    summary: "applies the plan; the first user to deploy a target owns it (CAN_MANAGE)",
    access: "CAN_MANAGE on the target (or a target nobody has claimed)",
    audit: "deploy",
    input: () => z.strictObject({ ...projectBody, ...applyBody, phase: z.number().int().min(0).optional(), modules: z.array(z.string()).optional(), with_deps: z.boolean().optional() }),
    handle: op(async (ctx, p, i: { phase?: number; modules?: string[]; with_deps?: boolean; yes?: boolean; force?: boolean; force_unlock?: boolean }) => {
      const r = await deploy({ ...p, phase: i.phase, modules: i.modules, withDeps: i.with_deps, yes: i.yes, force: i.force, forceUnlock: i.force_unlock }, ctx);
      return { fields: deploymentView(r), error: deploymentFailure(r, "deploy") };
    }),
  },
  {
    method: "POST",
    path: `${P}/destroy`,
    command: "destroy",
    summary: "removes what is deployed to the target (or some modules)",
    access: "CAN_MANAGE on the target",
    audit: "destroy",
    input: () => z.strictObject({ ...projectBody, ...applyBody, modules: z.array(z.string()).optional() }),
    handle: op(async (ctx, p, i: { modules?: string[]; yes?: boolean; force?: boolean; force_unlock?: boolean }) => {
      const r = await destroy({ ...p, modules: i.modules, yes: i.yes, force: i.force, forceUnlock: i.force_unlock }, ctx);
      return { fields: deploymentView(r), error: deploymentFailure(r, "destroy") };
    }),
  },
  {
    method: "POST",
    path: `${P}/rollback`,
    command: "rollback",
    summary: "plans and applies the difference back to revision `to`",
    access: "CAN_MANAGE on the target",
    audit: "rollback",
    input: () => z.strictObject({ ...projectBody, ...applyBody, to: z.number().int().min(0) }),
    handle: op(async (ctx, p, i: { to: number; yes?: boolean; force?: boolean; force_unlock?: boolean }) => {
      const r = await rollback({ ...p, to: i.to, yes: i.yes, force: i.force, forceUnlock: i.force_unlock }, ctx);
      return { fields: deploymentView(r), error: deploymentFailure(r, "rollback") };
    }),
  },
  { method: "GET", path: `${P}/status`, command: "status", summary: "what is deployed, the lock, pending changes", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p) => ({ fields: statusView(await status(p, ctx)) })) },
  {
    method: "GET",
    path: `${P}/history`,
    command: "history",
    summary: "deployments of the target, newest first",
    access: "CAN_VIEW on the target",
    input: () => z.strictObject({ ...projectQuery, limit: int.optional() }),
    handle: op(async (ctx, p, i: { limit?: number }) => ({ fields: historyView(await history({ ...p, limit: i.limit ?? 50 }, ctx)) })),
  },
  {
    method: "GET",
    path: `${P}/settings`,
    command: "settings list",
    summary: "the settings table of the target",
    access: "CAN_VIEW on the target",
    input: () => z.strictObject({ ...projectQuery, module: z.string().optional() }),
    handle: op(async (ctx, p, i: { module?: string }) => ({ fields: settingsView(await listSettings({ ...p, module: i.module }, ctx)) })),
  },

  // ---- runs
  {
    method: "POST",
    path: `${P}/runs`,
    command: "run",
    summary: "starts a run of a job on the server's executor; answers at once with its id",
    access: "CAN_RUN on the target or the job",
    audit: "run",
    input: () => z.strictObject({ ...projectBody, job: z.string().min(1), params: z.record(z.string(), z.string()).optional(), keep_workdir: z.boolean().optional(), no_cache: z.boolean().optional() }),
    handle: op(async (ctx, p, i: { job: string; params?: Record<string, string>; keep_workdir?: boolean; no_cache?: boolean }) => ({ fields: runSummaryView(await startRun({ ...p, job: i.job, params: i.params ?? {}, keepWorkdir: i.keep_workdir, noCache: i.no_cache }, ctx)) })),
  },
  {
    method: "POST",
    path: `${P}/sweeps`,
    command: "sweep",
    summary: "starts one run of a job per combination of parameter values (a Slurm job array on a Slurm target); answers at once with the runs",
    access: "CAN_RUN on the target or the job",
    audit: "sweep",
    input: () =>
      z.strictObject({ ...projectBody, job: z.string().min(1), values: z.record(z.string(), z.array(z.string()).min(1)), params: z.record(z.string(), z.string()).optional(), no_cache: z.boolean().optional() }),
    handle: op(async (ctx, p, i: { job: string; values: Record<string, string[]>; params?: Record<string, string>; no_cache?: boolean }) => ({
      fields: sweepView(await startSweep({ ...p, job: i.job, values: i.values, params: i.params ?? {}, noCache: i.no_cache }, ctx)),
    })),
  },
  {
    method: "GET",
    path: `${P}/runs`,
    command: "runs",
    summary: "runs of the target, newest first",
    access: "CAN_VIEW on the target",
    input: () => z.strictObject({ ...projectQuery, job: z.string().optional(), limit: int.optional() }),
    handle: op(async (ctx, p, i: { job?: string; limit?: number }) => ({ fields: runsView(await listRuns({ ...p, job: i.job, limit: i.limit ?? 20 }, ctx)) })),
  },
  { method: "GET", path: `${P}/runs/:run`, command: "runs show", summary: "one run: tasks, timings, results, provenance", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p, _i, call) => ({ fields: runDetailsView(await showRun({ ...p, run: call.params.run! }, ctx)) })) },
  { method: "GET", path: `${P}/runs/:run/results`, command: "runs results", summary: "what the run wrote to results.json and metrics.json", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p, _i, call) => ({ fields: runResultsView(await showRun({ ...p, run: call.params.run! }, ctx)) })) },
  {
    method: "GET",
    path: `${P}/runs/:run/logs`,
    command: "logs",
    summary: "a run's log lines; with follow=true, newline-delimited JSON: {task, line} objects as they come, then {document} when the run has finished",
    access: "CAN_VIEW on the target",
    input: () => z.strictObject({ ...projectQuery, task: z.string().optional(), follow: bool.optional() }),
    handle: async (call, i: { task?: string; follow?: boolean; target?: string; source?: string; var?: string[] }) => {
      const { ctx, secrets } = contextOf(call);
      const project = await projectOf(call, i);
      if (!i.follow) {
        const lines: Array<{ task: string; line: string }> = [];
        const r = await runLogs({ ...project, run: call.params.run!, task: i.task, onLine: (task, line) => lines.push({ task, line }) }, ctx);
        return { fields: logsView(r, lines), secrets };
      }
      return {
        stream: async (write) => {
          const r = await runLogs({ ...project, run: call.params.run!, task: i.task, follow: true, onLine: (task, line) => write({ task, line }) }, ctx);
          write({ document: { ...logsView(r, []), ...(runFailure(r) ? { error: runFailure(r) } : {}) } });
        },
      };
    },
  },
  { method: "POST", path: `${P}/runs/:run/cancel`, command: "cancel", summary: "stops a run", access: "CAN_RUN on the target", audit: "cancel", input: () => z.strictObject(projectBody), handle: op(async (ctx, p, _i, call) => ({ fields: runSummaryView(await cancelRun({ ...p, run: call.params.run! }, ctx)) })) },

  // ---- artifacts
  { method: "GET", path: `${P}/artifacts`, command: "artifacts list", summary: "every artifact of the project in the target's store", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p) => ({ fields: artifactsOverviewView(await listArtifacts(p, ctx)) })) },
  { method: "GET", path: `${P}/artifacts/:name`, command: "artifacts list", summary: "versions of one artifact and where each is in use", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p, _i, call) => ({ fields: artifactVersionsView(await listArtifactVersions({ ...p, name: call.params.name! }, ctx)) })) },
  {
    method: "POST",
    path: `${P}/artifacts/install`,
    command: "artifacts install",
    summary: "installs ARTIFACT@VERSION into a deployed compute environment",
    access: "CAN_MANAGE on the target",
    audit: "artifacts install",
    input: () => z.strictObject({ ...projectBody, library: z.string().min(1), into: z.string().min(1), force_unlock: z.boolean().optional() }),
    handle: op(async (ctx, p, i: { library: string; into: string; force_unlock?: boolean }) => ({ fields: installView(await installArtifact({ ...p, library: i.library, into: i.into, forceUnlock: i.force_unlock }, ctx)) })),
  },
  {
    method: "POST",
    path: `${P}/artifacts/gc`,
    command: "artifacts gc",
    summary: "retention: versions past keep_last that nothing uses (deleted with yes)",
    access: "CAN_MANAGE on the target",
    audit: "artifacts gc",
    input: () => z.strictObject({ ...projectBody, names: z.array(z.string()).optional(), keep_last: z.number().int().min(1).optional(), yes: z.boolean().optional(), force_unlock: z.boolean().optional() }),
    handle: op(async (ctx, p, i: { names?: string[]; keep_last?: number; yes?: boolean; force_unlock?: boolean }) => ({ fields: gcView(await collectGarbage({ ...p, names: i.names, keepLast: i.keep_last, yes: i.yes, forceUnlock: i.force_unlock }, ctx)) })),
  },

  // ---- models
  { method: "GET", path: `${P}/models`, command: "models list", summary: "models of the target, latest version and aliases", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p) => ({ fields: modelsView(await listModels(p, ctx)) })) },
  { method: "GET", path: `${P}/models/:model/versions`, command: "models versions", summary: "versions of one model, newest first", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p, _i, call) => ({ fields: modelVersionsView(call.params.model!, await modelVersions({ ...p, model: call.params.model! }, ctx)) })) },
  { method: "GET", path: `${P}/models/:ref`, command: "models show", summary: "one version: NAME@VERSION, NAME@ALIAS or NAME (the latest)", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p, _i, call) => ({ fields: modelVersionView(await showModelVersion({ ...p, ref: call.params.ref! }, ctx)) })) },
  {
    method: "PUT",
    path: `${P}/models/:model/aliases/:alias`,
    command: "models alias set",
    summary: "points an alias (champion, …) at a version",
    access: "CAN_MANAGE on the target or the model",
    audit: "alias move",
    input: () => z.strictObject({ ...projectBody, version: z.number().int().min(1) }),
    handle: op(async (ctx, p, i: { version: number }, call) => ({ fields: modelVersionView(await setModelAlias({ ...p, model: call.params.model!, alias: call.params.alias!, version: i.version }, ctx)) })),
  },

  // ---- endpoints
  { method: "GET", path: `${P}/endpoints`, command: "endpoints list", summary: "endpoints of the target", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: op(async (ctx, p) => ({ fields: endpointsView(await listEndpoints(p, ctx)) })) },
  {
    method: "POST",
    path: `${P}/endpoints/:name/query`,
    command: "endpoints query",
    summary: "sends one request through the gateway as the caller",
    access: "CAN_QUERY (or CAN_MANAGE) on the endpoint",
    input: () => z.strictObject({ ...projectBody, data: z.string().describe("the request body (JSON text)"), protocol: z.enum(["mlflow", "oip"]).optional() }),
    handle: op(async (ctx, p, i: { data: string; protocol?: "mlflow" | "oip" }, call) => {
      const r = await queryEndpoint({ ...p, name: call.params.name!, data: i.data, token: call.token, protocol: i.protocol ?? "mlflow" }, ctx);
      return { fields: queryView(r), error: queryFailure(r) };
    }),
  },
  {
    method: "GET",
    path: `${P}/endpoints/:name/logs`,
    command: "endpoints logs",
    summary: "the endpoint's inference table (latest rows)",
    access: "CAN_VIEW on the target",
    input: () => z.strictObject({ ...projectQuery, limit: int.optional() }),
    handle: op(async (ctx, p, i: { limit?: number }, call) => ({ fields: endpointLogsView(call.params.name!, await endpointLogs({ ...p, name: call.params.name!, limit: i.limit ?? 20 }, ctx)) })),
  },
  {
    method: "POST",
    path: `${P}/endpoints/reap`,
    command: "endpoints reap",
    summary: "destroys the target's endpoints whose TTL has run out",
    access: "CAN_MANAGE on the target",
    audit: "endpoints reap",
    input: () => z.strictObject(projectBody),
    handle: op(async (ctx, p) => {
      const compiled = compileFor(p, ctx);
      await authorizeFor(compiled, ctx, "CAN_MANAGE", "endpoints reap");
      const gone = await withStores(compiled, ctx.env, (stores) => reapExpiredEndpoints(stores, ctx.env, ctx, { project: compiled.project.name, target: compiled.project.target.name }));
      return { fields: reapView(gone) };
    }),
  },

  // ---- tokens, users, groups, permissions, audit
  {
    method: "POST",
    path: "/tokens",
    command: "tokens create",
    summary: "creates a token (for the caller; administrators: for anyone, with groups); shown once",
    access: "any token",
    input: () => z.strictObject({ user: z.string().optional(), groups: z.array(z.string()).optional(), description: z.string().optional(), expires_in_s: z.number().int().min(1).optional() }),
    handle: identity("tokens create", (_c, i) => ({ user: i.user, groups: i.groups, description: i.description, expiresInMs: i.expires_in_s === undefined ? undefined : i.expires_in_s * 1000 })),
  },
  { method: "GET", path: "/tokens", command: "tokens list", summary: "the caller's tokens (administrators: everyone's, or user's)", access: "any token", input: () => z.strictObject({ user: z.string().optional() }), handle: identity("tokens list", (_c, i) => ({ user: i.user })) },
  { method: "DELETE", path: "/tokens/:id", command: "tokens revoke", summary: "revokes a token by id", access: "the token's user, or an administrator", handle: identity("tokens revoke", (c) => ({ id: c.params.id })) },
  { method: "GET", path: "/users", command: "users list", summary: "users and service principals", access: "administrators", handle: identity("users list", () => ({})) },
  {
    method: "POST",
    path: "/users",
    command: "users create",
    summary: "adds a user or service principal",
    access: "administrators",
    input: () => z.strictObject({ name: z.string().min(1), service_principal: z.boolean().optional(), admin: z.boolean().optional() }),
    handle: identity("users create", (_c, i) => ({ name: i.name, servicePrincipal: i.service_principal, admin: i.admin })),
  },
  { method: "GET", path: "/groups", command: "groups list", summary: "groups and their members", access: "administrators", handle: identity("groups list", () => ({})) },
  { method: "POST", path: "/groups/:group/members", command: "groups add", summary: "adds a member to a group", access: "administrators", input: () => z.strictObject({ member: z.string().min(1) }), handle: identity("groups add", (c, i) => ({ group: c.params.group, member: i.member })) },
  { method: "DELETE", path: "/groups/:group/members/:member", command: "groups remove", summary: "removes a member from a group", access: "administrators", handle: identity("groups remove", (c) => ({ group: c.params.group, member: c.params.member })) },
  {
    method: "GET",
    path: "/permissions",
    command: "permissions list",
    summary: "grants made through the API, and target owners",
    access: "administrators; others: CAN_VIEW on the project and target named",
    input: () => z.strictObject({ project: z.string().optional(), target: z.string().optional() }),
    handle: identity("permissions list", (_c, i) => ({ project: i.project, target: i.target })),
  },
  { method: "POST", path: "/permissions", command: "permissions grant", summary: "grants a level on a project, target or resource", access: "CAN_MANAGE there (a whole project: administrators)", input: grantInput, handle: identity("permissions grant", grantArgs) },
  { method: "POST", path: "/permissions/revoke", command: "permissions revoke", summary: "revokes a granted level", access: "CAN_MANAGE there (a whole project: administrators)", input: grantInput, handle: identity("permissions revoke", grantArgs) },
  {
    method: "GET",
    path: "/audit",
    command: "audit",
    summary: "audit log entries, oldest first (the latest `limit`)",
    access: "administrators",
    input: () => z.strictObject({ since: z.string().optional(), user: z.string().optional(), target: z.string().optional(), limit: int.optional() }),
    handle: identity("audit", (_c, i) => ({ since: i.since, user: i.user, target: i.target, limit: i.limit ?? 1000 })),
  },
  {
    method: "GET",
    path: "/audit/verify",
    command: "audit verify",
    summary: "checks the audit log's hash chain",
    access: "administrators",
    handle: async (call) => {
      const fields = await identityCommands(call.deps.cp, call.actor)["audit verify"]({});
      return { fields, error: auditVerifyFailure(fields) };
    },
  },
];

// ---- release pipelines (src/operations/pipelines.ts). The server's pipelines loop advances the runs;
// a route records (a run, a decision) and answers at once. Approvers are the token's actor.
function pipelineOp<I>(run: (ctx: OperationContext, project: ProjectOptions, input: I, call: Call) => Promise<{ fields: object; error?: ErrorJson }>): (call: Call, input: I) => Promise<Result> {
  return async (call, input) => {
    const { ctx, secrets } = contextOf(call);
    const project = await projectOf(call, input as never);
    return { ...(await run({ ...ctx, actor: { name: call.actor.name, groups: call.actor.groups }, inServer: true }, project, input, call)), secrets };
  };
}

const decisionRoute = (decision: "approve" | "reject"): Route => ({
  method: "POST",
  path: `${P}/pipeline-runs/:run/${decision}`,
  command: `pipelines ${decision}`,
  summary: decision === "approve" ? "approves a waiting approval stage as the caller" : "rejects a waiting approval stage as the caller (the run fails)",
  access: "a listed approver of the stage with CAN_MANAGE on the target it gates; with prevent_self_review, not the run's triggerer",
  audit: `pipeline ${decision}`,
  input: () => z.strictObject({ ...projectBody, stage: z.string().min(1), comment: z.string().max(10_000).optional() }),
  handle: pipelineOp(async (ctx, p, i: { stage: string; comment?: string }, call) => ({ fields: pipelineDecisionView(await decideApproval({ ...p, run: call.params.run!, stage: i.stage, decision, comment: i.comment }, ctx)) })),
});

ROUTES.push(
  { method: "GET", path: `${P}/pipelines`, command: "pipelines list", summary: "the target's deployed pipelines: stages, triggers, latest run", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: pipelineOp(async (ctx, p) => ({ fields: pipelinesView(await listPipelines(p, ctx)) })) },
  {
    method: "POST",
    path: `${P}/pipelines/:name/runs`,
    command: "pipelines run",
    summary: "starts a run of a deployed pipeline (the server advances it); answers at once with the run",
    access: "CAN_RUN on the target or the pipeline, and CAN_MANAGE on each target it deploys to or destroys without an approval stage first",
    audit: "pipeline run",
    input: () => z.strictObject({ ...projectBody, params: z.record(z.string(), z.string()).optional() }),
    handle: pipelineOp(async (ctx, p, i: { params?: Record<string, string> }, call) => {
      const r = await runPipeline({ ...p, name: call.params.name!, params: i.params }, ctx);
      return { fields: pipelineRunView(r), error: pipelineRunFailure(r) };
    }),
  },
  {
    method: "GET",
    path: `${P}/pipelines/:name/runs`,
    command: "pipelines runs",
    summary: "runs of a pipeline, newest first",
    access: "CAN_VIEW on the target",
    input: () => z.strictObject({ ...projectQuery, limit: int.optional() }),
    handle: pipelineOp(async (ctx, p, i: { limit?: number }, call) => ({ fields: pipelineRunsView(await listPipelineRuns({ ...p, name: call.params.name!, limit: i.limit ?? 20 }, ctx)) })),
  },
  { method: "GET", path: `${P}/pipeline-runs/:run`, command: "pipelines status", summary: "one pipeline run: stages, approvals (who, what would be deployed), notifications", access: "CAN_VIEW on the target", input: () => z.strictObject(projectQuery), handle: pipelineOp(async (ctx, p, _i, call) => ({ fields: pipelineRunView(await pipelineStatus({ ...p, run: call.params.run! }, ctx)) })) },
  decisionRoute("approve"),
  decisionRoute("reject"),
  {
    method: "GET",
    path: `${P}/pipeline-runs/:run/logs`,
    command: "pipelines logs",
    summary: "a stage's log lines",
    access: "CAN_VIEW on the target",
    input: () => z.strictObject({ ...projectQuery, stage: z.string().min(1) }),
    handle: pipelineOp(async (ctx, p, i: { stage: string }, call) => ({ fields: pipelineLogsView(await pipelineStageLogs({ ...p, run: call.params.run!, stage: i.stage }, ctx)) })),
  },
);
