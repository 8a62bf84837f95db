// Every route of /api/v1, as data: method, path, the command whose document it answers with, the access
// it needs, its input schema, whether it is an audited change, and its handler. The Hono app (app.ts)
// registers them and the OpenAPI document (openapi.ts) is generated from the same table. Project routes
// run the project commands (../project-documents.ts), the same the embedded CLI runs.
import { z } from "zod";
import { silentReporter } from "../../engine/reporter.js";
import type { OperationContext, ProjectOptions } from "../../operations/context.js";
import type { CommandName } from "../../views/documents.js";
import { envelope } from "../../views/documents.js";
import type { ErrorJson } from "../../views/error.js";
import { auditVerifyFailure } from "../../views/identity.js";
import { progressReporter, type ProgressEvent } from "../../views/progress.js";
import { redactValue } from "../../util/redact.js";
import type { Actor } from "../auth/actor.js";
import type { ControlPlane } from "../control-plane.js";
import { identityCommands, type IdentityCommand } from "../identity-documents.js";
import { AUDITED_PROJECT_COMMANDS, projectCommands, type ProjectArgs, type ProjectCommand } from "../project-documents.js";
import type { SourceStore } from "./sources.js";
import { toUserName, type RuntimeEnv } from "../../env.js";
import { decideApproval, listPipelineRuns, listPipelines, pipelineStageLogs, pipelineStatus, runPipeline } from "../../operations/pipelines.js";
import { pipelineDecisionView, pipelineLogsView, pipelineRunFailure, pipelineRunsView, pipelineRunView, pipelinesView } from "../../views/pipelines.js";
import { InvalidInputError, SlipwayError } from "../../errors.js";
import { iso } from "../../clock.js";
import { dashboardRoutes } from "./dashboard-routes.js";
import { clearedCookie, cookieValue, overHttps, SESSION_COOKIE, sessionCookie, sessionHash, SESSION_TTL_MS } from "./session.js";

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
  /** Set when the client asked for progress (Accept: application/x-ndjson): each event, masked, as a line. */
  events?: (event: ProgressEvent) => void;
  /** The token came from the dashboard's session cookie (not an Authorization header). */
  viaCookie?: boolean;
  /** The request's URL and headers (session routes: cookie flags, the client's origin). */
  request?: { url: string; header(name: string): string | undefined };
  /** The door's failed-authentication limiter (sign-in counts its failures). */
  limiter?: { fail(client: string): void };
}

export interface Result {
  fields: object;
  error?: ErrorJson;
  /** Values to mask in the answer (the project's secrets). */
  secrets?: readonly string[];
  /** Extra response headers (the session cookie). */
  headers?: Record<string, string>;
}

/** A streamed answer: newline-delimited JSON, one object per line (`logs` with follow), or server-sent events (`sse`). */
export interface Stream {
  stream: (write: (line: object) => void) => Promise<void>;
  /** As text/event-stream: one `data:` event per object (what a browser's EventSource reads). */
  sse?: true;
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
  /**
   * A project route that can stream its progress: asked with `Accept: application/x-ndjson`, it answers
   * with newline-delimited JSON, one progress event per line (views/progress.ts), then `{"document": …}`
   * (the envelope) or `{"failure": …}` (the error answer).
   */
  progress?: true;
  handle(call: Call, input: any): Promise<Result | Stream>;
}

// ---- inputs shared by project routes
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 (64 lowercase hex digits)");
const projectQuery = {
  target: z.string().min(1).optional().describe("target (default: the one marked default)"),
  source: hex64.optional().describe("a source uploaded with POST /sources (default: the project's latest)"),
  var: z.array(z.string()).optional().describe("NAME=value (repeatable), like --var"),
  env_var: z.array(z.string()).optional().describe("NAME=value (repeatable), like SLIPWAY_VAR_NAME=value in the caller's environment (the server's own are not used)"),
  shown_dir: z.string().max(4096).optional().describe("how messages show the project folder, e.g. \".\" (default: the server's path)"),
};
const projectBody = {
  target: z.string().min(1).optional().describe("target (default: the one marked default)"),
  source: hex64.optional().describe("a source uploaded with POST /sources (default: the project's latest)"),
  vars: z.record(z.string(), z.string()).optional().describe("variables, like --var"),
  env_vars: z.record(z.string(), z.string()).optional().describe("variables like SLIPWAY_VAR_NAME=value in the caller's environment (the server's own are not used)"),
  shown_dir: z.string().max(4096).optional().describe("how messages show the project folder, e.g. \".\" (default: the server's path)"),
};
const applyBody = {
  yes: z.boolean().optional().describe("confirm deletes and replaces"),
  force: z.boolean().optional(),
  force_unlock: z.boolean().optional(),
  kill_orphans: z.boolean().optional().describe("kill a hook script an interrupted deploy left running instead of waiting for it"),
};
const int = z.coerce.number().int().min(0);
const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);

function applyArgs(i: { yes?: boolean; force?: boolean; force_unlock?: boolean; kill_orphans?: boolean }) {
  return { yes: i.yes, force: i.force, forceUnlock: i.force_unlock, killOrphans: i.kill_orphans };
}

type ProjectInput = { target?: string; source?: string; var?: string[]; vars?: Record<string, string>; env_var?: string[]; env_vars?: Record<string, string>; shown_dir?: string };

/** NAME=value pairs (query) and a record (body) as one record without a prototype. */
function pairs(list: string[] | undefined, record: Record<string, string> | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null); // names are data: __proto__ is a variable like any other
  Object.assign(out, record);
  for (const pair of list ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidInputError([{ message: `${what} "${pair}" is not NAME=value`, hint: `${what}=catalog=main` }], "invalid_request");
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export async function projectOf(call: Call, input: ProjectInput): Promise<ProjectOptions> {
  return { dir: await call.deps.sources.dirFor(call.params.project!, input.source), target: input.target, vars: pairs(input.var, input.vars, "var"), shownDir: input.shown_dir };
}

/**
 * The operation context of a call: the server's environment as the actor (with the caller's
 * SLIPWAY_VAR_ values instead of the server's), secrets collected, every operation authorized, and
 * progress streamed (masked) when the client asked for it.
 */
export function contextOf(call: Call, input: ProjectInput): { ctx: OperationContext; secrets: string[] } {
  const secrets: string[] = [];
  const { cp } = call.deps;
  const collect = (values: readonly string[]) => void secrets.push(...values);
  const events = call.events;
  const ctx: OperationContext = {
    env: { ...call.deps.env, user: toUserName(call.actor.name, "the signed-in user"), token: undefined, varOverrides: pairs(input.env_var, input.env_vars, "env_var") },
    reporter: events ? progressReporter((e) => events(redactValue(e, secrets) as ProgressEvent), collect) : { ...silentReporter, secrets: collect },
    authorize: (request, recorded) => cp.authorizer.authorize(call.actor, request, recorded),
    controlPlaneAccess: async (project, target) => ({ grants: await cp.identities.grants(project, target), owner: (await cp.identities.owner(project, target)) ?? null }),
  };
  return { ctx, secrets };
}

const P = "/projects/:project";

/** A project route: the project's source, an authorized context, the project command's document. */
function project<C extends ProjectCommand, S extends z.ZodRawShape>(
  method: Method,
  path: string,
  command: C,
  summary: string,
  access: string,
  shape: S,
  args: (call: Call, input: z.infer<z.ZodObject<S>>) => ProjectArgs[C],
  audit?: string,
): Route {
  const base = method === "GET" || method === "DELETE" ? projectQuery : projectBody;
  return {
    method,
    path: `${P}${path}`,
    command,
    summary,
    access,
    audit: audit ?? AUDITED_PROJECT_COMMANDS[command],
    progress: true,
    input: () => z.strictObject({ ...base, ...shape }),
    handle: async (call, input) => {
      const { ctx, secrets } = contextOf(call, input);
      const p = await projectOf(call, input);
      return { ...(await projectCommands[command](ctx, p, args(call, input))), secrets };
    },
  };
}

function identity<C extends IdentityCommand>(command: C, args: (call: Call, input: any) => unknown): (call: Call, input: any) => Promise<Result> {
  return async (call, input) => ({ fields: await (identityCommands(call.deps.cp, call.actor)[command] as (a: unknown) => Promise<object>)(args(call, input)) });
}

const grantInput = () =>
  z.strictObject({
    level: z.enum(["CAN_VIEW", "CAN_RUN", "CAN_MANAGE", "CAN_QUERY", "CAN_USE"]),
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
    summary: "which of these files and tree nodes (by sha256) the server lacks: upload only those. A tree node the server has comes with everything below it",
    access: "any token",
    input: () => z.strictObject({ files: z.array(hex64).max(200_000).optional(), trees: z.array(hex64).max(200_000).optional() }),
    handle: async (call, i: { files?: string[]; trees?: string[] }) => ({ fields: { missing: await call.deps.sources.missing(i.files ?? []), missing_trees: await call.deps.sources.missingTrees(i.trees ?? []) } }),
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
    method: "PUT",
    path: "/sources/trees/:sha256",
    command: null,
    summary: "uploads one tree node of a format-2 source (its bytes must hash to :sha256); every file and node it names must be uploaded first",
    access: "any token",
    rawBody: true,
    handle: async (call) => {
      await call.deps.sources.putTree(call.params.sha256!, Buffer.from(call.raw));
      return { fields: { stored: call.params.sha256 } };
    },
  },
  {
    method: "POST",
    path: "/sources",
    command: null,
    summary: "registers a source from its bundle record (format 2: its tree uploaded first) or flat manifest (format 1: every file uploaded first); it becomes the project's latest",
    access: "any token",
    input: () => z.strictObject({ manifest: z.string().describe("the bundle record's (or flat manifest's) JSON text; its sha256 is the source's id") }),
    handle: async (call, i: { manifest: string }) => ({ fields: await call.deps.sources.putManifest(i.manifest) }),
  },

  // ---- deployments
  project("GET", "/validate", "validate", "checks the project files for one target", "any token", {}, () => ({})),
  project("GET", "/plan", "plan", "what deploy would change", "CAN_VIEW on the target", { phase: int.optional(), module: z.array(z.string()).optional(), with_deps: bool.optional(), reconcile: bool.optional() }, (_c, i) => ({
    phase: i.phase,
    modules: i.module,
    withDeps: i.with_deps,
    reconcile: i.reconcile,
  })),
  project(
    "POST",
    "/deploy",
    "deploy",
    "applies the plan; the first user to deploy a target owns it (CAN_MANAGE)",
    "CAN_MANAGE on the target (or a target nobody has claimed)",
    { ...applyBody, phase: z.number().int().min(0).optional(), modules: z.array(z.string()).optional(), with_deps: z.boolean().optional(), reconcile: z.boolean().optional() },
    (_c, i) => ({ phase: i.phase, modules: i.modules, withDeps: i.with_deps, reconcile: i.reconcile, ...applyArgs(i) }),
    "deploy",
  ),
  project("POST", "/destroy", "destroy", "removes what is deployed to the target (or some modules)", "CAN_MANAGE on the target", { ...applyBody, modules: z.array(z.string()).optional() }, (_c, i) => ({ modules: i.modules, ...applyArgs(i) }), "destroy"),
  project("POST", "/rollback", "rollback", "plans and applies the difference back to revision `to`", "CAN_MANAGE on the target", { ...applyBody, to: z.number().int().min(0) }, (_c, i) => ({ to: i.to, ...applyArgs(i) }), "rollback"),
  project("GET", "/status", "status", "what is deployed, the lock, pending changes", "CAN_VIEW on the target", {}, () => ({})),
  project("GET", "/history", "history", "deployments of the target, newest first", "CAN_VIEW on the target", { limit: int.optional() }, (_c, i) => ({ limit: i.limit })),
  project("GET", "/settings", "settings list", "the settings table of the target", "CAN_VIEW on the target", { module: z.string().optional() }, (_c, i) => ({ module: i.module })),

  // ---- runs, jobs, schedules
  project(
    "POST",
    "/runs",
    "run",
    "starts a run of a job on the server's executor; answers at once with its id",
    "CAN_RUN on the target or the job",
    { job: z.string().min(1), params: z.record(z.string(), z.string()).optional(), keep_workdir: z.boolean().optional(), no_cache: z.boolean().optional(), from_source: z.boolean().optional(), write_bundle: z.boolean().optional() },
    (_c, i) => ({ job: i.job, params: i.params, keepWorkdir: i.keep_workdir, noCache: i.no_cache, fromSource: i.from_source, writeBundle: i.write_bundle }),
    "run",
  ),
  project(
    "POST",
    "/sweeps",
    "sweep",
    "starts one run of a job per combination of parameter values (a Slurm job array on a Slurm target); answers at once with the runs",
    "CAN_RUN on the target or the job",
    { job: z.string().min(1), values: z.record(z.string(), z.array(z.string()).min(1)), params: z.record(z.string(), z.string()).optional(), no_cache: z.boolean().optional(), from_source: z.boolean().optional() },
    (_c, i) => ({ job: i.job, values: i.values, params: i.params, noCache: i.no_cache, fromSource: i.from_source }),
    "sweep",
  ),
  project("GET", "/runs", "runs", "runs of the target, newest first", "CAN_VIEW on the target", { job: z.string().optional(), limit: int.optional() }, (_c, i) => ({ job: i.job, limit: i.limit })),
  project("GET", "/runs/:run", "runs show", "one run: tasks, timings, results, provenance", "CAN_VIEW on the target", {}, (c) => ({ run: c.params.run! })),
  project("GET", "/archives/:kind", "archives list", "one archive kind's blobs for the target (keys, sizes, times), grouped by run, bundle, content; run=ID limits it to one run's", "CAN_VIEW on the target", { run: z.string().min(1).optional() }, (c, i) => ({ kind: c.params.kind!, run: i.run })),
  project("GET", "/runs/:run/results", "runs results", "what the run wrote to results.json and metrics.json", "CAN_VIEW on the target", {}, (c) => ({ run: c.params.run! })),
  {
    method: "GET",
    path: `${P}/runs/:run/logs`,
    command: "logs",
    summary: "a run's log lines; with follow=true, newline-delimited JSON: {task, line} objects as they come, then {document} (the envelope) when the run has finished",
    access: "CAN_VIEW on the target",
    progress: true,
    input: () => z.strictObject({ ...projectQuery, task: z.string().optional(), follow: bool.optional() }),
    handle: async (call, i: ProjectInput & { task?: string; follow?: boolean }) => {
      const { ctx, secrets } = contextOf(call, i);
      const p = await projectOf(call, i);
      if (!i.follow) return { ...(await projectCommands.logs(ctx, p, { run: call.params.run!, task: i.task })), secrets };
      return {
        stream: async (write) => {
          const r = await projectCommands.logs(ctx, p, { run: call.params.run!, task: i.task, follow: true, onLine: (task, line) => write(redactValue({ task, line }, secrets) as object) });
          write({ document: redactValue(envelope(r.fields, r.error), secrets) as object });
        },
      };
    },
  },
  project("POST", "/runs/:run/cancel", "cancel", "stops a run", "CAN_RUN on the target", {}, (c) => ({ run: c.params.run! }), "cancel"),
  project("GET", "/jobs", "jobs list", "the target's deployed jobs: key, title, module, schedules that run it, latest run", "CAN_VIEW on the target", {}, () => ({})),
  project("GET", "/schedules", "schedules list", "the target's deployed schedules: next fire time, last fire", "CAN_VIEW on the target", {}, () => ({})),
  project("POST", "/schedules/:name/pause", "schedules pause", "stops a deployed schedule from firing (until unpause)", "CAN_MANAGE on the target or the schedule", {}, (c) => ({ name: c.params.name! }), "schedules pause"),
  project("POST", "/schedules/:name/unpause", "schedules unpause", "lets a paused schedule fire again", "CAN_MANAGE on the target or the schedule", {}, (c) => ({ name: c.params.name! }), "schedules unpause"),

  // ---- the target's ttl
  project("GET", "/ttl", "ttl show", "the target's ttl: when what is deployed is destroyed, pins, deletion attempts, notifications sent", "CAN_VIEW on the target", {}, () => ({})),
  project("POST", "/ttl/extend", "ttl extend", "moves the target's deletion later by a duration (a deploy restarts the clock)", "CAN_MANAGE on the target", { by: z.string().min(1).max(20) }, (_c, i) => ({ by: i.by }), "ttl extend"),
  project("POST", "/ttl/pin", "ttl pin", "keeps the target from being destroyed by its ttl until unpinned", "CAN_MANAGE on the target", {}, () => ({}), "ttl pin"),
  project("POST", "/ttl/unpin", "ttl unpin", "lets the target's ttl destroy it again (at once when overdue)", "CAN_MANAGE on the target", {}, () => ({}), "ttl unpin"),

  // ---- artifacts
  project("GET", "/artifacts", "artifacts list", "every artifact of the project in the target's store", "CAN_VIEW on the target", {}, () => ({})),
  project("GET", "/artifacts/:name", "artifacts list", "versions of one artifact and where each is in use", "CAN_VIEW on the target", {}, (c) => ({ name: c.params.name! })),
  project(
    "POST",
    "/artifacts/install",
    "artifacts install",
    "installs ARTIFACT@VERSION into a deployed compute environment",
    "CAN_MANAGE on the target",
    { library: z.string().min(1), into: z.string().min(1), force_unlock: z.boolean().optional() },
    (_c, i) => ({ library: i.library, into: i.into, forceUnlock: i.force_unlock }),
    "artifacts install",
  ),
  project(
    "POST",
    "/artifacts/gc",
    "artifacts gc",
    "retention: versions past keep_last that nothing uses (deleted with yes)",
    "CAN_MANAGE on the target",
    { names: z.array(z.string()).optional(), keep_last: z.number().int().min(1).optional(), yes: z.boolean().optional(), force_unlock: z.boolean().optional() },
    (_c, i) => ({ names: i.names, keepLast: i.keep_last, yes: i.yes, forceUnlock: i.force_unlock }),
    "artifacts gc",
  ),
  project(
    "POST",
    "/artifacts/:ref/promote",
    "artifacts promote",
    "copies an artifact version (NAME@VERSION) from one target's artifact store to another's",
    "CAN_VIEW on `from`, CAN_MANAGE on `to` (or the artifact there)",
    { from: z.string().min(1), to: z.string().min(1) },
    (c, i) => ({ ref: c.params.ref!, from: i.from, to: i.to }),
  ),

  // ---- models
  project("GET", "/models", "models list", "models of the target, latest version and aliases", "CAN_VIEW on the target", {}, () => ({})),
  project("GET", "/models/:model/versions", "models versions", "versions of one model, newest first", "CAN_VIEW on the target", {}, (c) => ({ model: c.params.model! })),
  project("GET", "/models/:ref", "models show", "one version: NAME@VERSION, NAME@ALIAS or NAME (the latest)", "CAN_VIEW on the target", {}, (c) => ({ ref: c.params.ref! })),
  project(
    "PUT",
    "/models/:model/aliases/:alias",
    "models alias set",
    "points an alias (champion, …) at a version",
    "CAN_MANAGE on the target or the model",
    { version: z.number().int().min(1) },
    (c, i) => ({ model: c.params.model!, alias: c.params.alias!, version: i.version }),
    "alias move",
  ),
  project(
    "POST",
    "/models/:ref/promote",
    "models promote",
    "copies a model version (NAME@ALIAS, NAME@VERSION, NAME/VERSION) with its files, metrics and lineage from one target's registry to another's; promoting it again does nothing",
    "CAN_VIEW on `from`, CAN_MANAGE on `to` (or the model there)",
    { from: z.string().min(1), to: z.string().min(1), alias: z.string().min(1).optional().describe("pointed at the promoted version in `to`") },
    (c, i) => ({ ref: c.params.ref!, from: i.from, to: i.to, alias: i.alias }),
  ),

  // ---- endpoints
  project("GET", "/endpoints", "endpoints list", "endpoints of the target", "CAN_VIEW on the target", {}, () => ({})),
  project(
    "POST",
    "/endpoints/:name/query",
    "endpoints query",
    "sends one request through the gateway as the caller",
    "CAN_QUERY (or CAN_MANAGE) on the endpoint",
    { data: z.string().describe("the request body (JSON text)"), protocol: z.enum(["mlflow", "oip"]).optional() },
    (c, i) => ({ name: c.params.name!, data: i.data, token: c.token, protocol: i.protocol }),
  ),
  project("GET", "/endpoints/:name/logs", "endpoints logs", "the endpoint's inference table (latest rows)", "CAN_VIEW on the target", { limit: int.optional() }, (c, i) => ({ name: c.params.name!, limit: i.limit })),
  project("GET", "/apps", "apps list", "apps of the target: URL, state, replicas, restarts, recent log lines", "CAN_VIEW on the target", {}, () => ({})),
  project("GET", "/apps/:name/logs", "apps logs", "the app's log from a byte offset (default: the last `tail` lines); ask again from the offset answered to follow it", "CAN_VIEW on the target or the app", { offset: int.optional(), tail: int.optional() }, (c, i) => ({ name: c.params.name!, offset: i.offset, tail: i.tail })),
  project("POST", "/endpoints/reap", "endpoints reap", "destroys the target's endpoints whose TTL has run out", "CAN_MANAGE on the target", {}, () => ({}), "endpoints reap"),

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
    const { ctx, secrets } = contextOf(call, input as ProjectInput);
    const project = await projectOf(call, input as ProjectInput);
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

// ---- the dashboard's sign-in session (session.ts): a token in, a new short-lived one out as an HttpOnly cookie.
ROUTES.push(
  {
    method: "POST",
    path: "/session",
    command: null,
    summary: "signs in to the dashboard: checks the token and answers with a new 12-hour session token, only as the HttpOnly, SameSite=Strict cookie `slipway_session`. Needs the header X-Slipway-CSRF: 1",
    access: "a valid token in the body (no Authorization header); failures count toward the per-address limit",
    public: true,
    input: () => z.strictObject({ token: z.string().min(1).max(512).describe("a token (swt_…) of the user signing in") }),
    handle: async (call, i: { token: string }) => {
      const { cp, env } = call.deps;
      const client = call.actor.client;
      const now = env.clock.now();
      const actor = await cp.identities.authenticate(i.token, iso(now), client);
      if (!actor) {
        call.limiter?.fail(client);
        await cp.audit.append({ actor: "", action: "sign in", client, outcome: "unauthenticated" });
        throw new SlipwayError("unauthenticated", "the token is not valid (unknown, revoked or expired)", { hint: "sign in with a token from `slipway tokens create` (or the one the server printed on its first start)" });
      }
      // Signing in again ends the session this browser had.
      const previous = cookieValue(call.request!.header("cookie"), SESSION_COOKIE);
      if (previous) await cp.identities.revokeToken(sessionHash(previous), iso(now));
      const expiresAt = iso(now + SESSION_TTL_MS);
      const { token, info } = await cp.identities.createToken(actor.name, { description: "dashboard session", expiresAt, groups: actor.groups }, iso(now));
      await cp.audit.append({ actor: actor.name, action: "sign in", client, outcome: "ok", detail: { session: info.id } });
      const secure = overHttps(call.request!.url, call.request!.header("x-forwarded-proto"));
      return { fields: { user: actor.name, kind: actor.kind, admin: actor.admin, groups: actor.groups, expires_at: expiresAt }, headers: { "set-cookie": sessionCookie(token, secure) } };
    },
  },
  {
    method: "DELETE",
    path: "/session",
    command: null,
    summary: "signs out of the dashboard: revokes the session token of the cookie and clears the cookie",
    access: "the session cookie (with X-Slipway-CSRF: 1)",
    handle: async (call) => {
      const { cp, env } = call.deps;
      if (call.viaCookie) await cp.identities.revokeToken(sessionHash(call.token), iso(env.clock.now()));
      await cp.audit.append({ actor: call.actor.name, action: "sign out", client: call.actor.client, outcome: "ok" });
      const secure = overHttps(call.request!.url, call.request!.header("x-forwarded-proto"));
      return { fields: { signed_out: call.viaCookie === true }, headers: { "set-cookie": clearedCookie(secure) } };
    },
  },
);

ROUTES.push(...dashboardRoutes({ contextOf, projectOf, projectQuery }));
