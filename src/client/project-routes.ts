// Which API route each project command calls, with which input: the client side of the project routes
// in src/server/api/routes.ts (the same commands, src/server/project-documents.ts).
import type { ProjectArgs, ProjectCommand } from "../server/project-documents.js";

export interface RouteCall {
  method: "GET" | "POST" | "PUT";
  /** Under /api/v1/projects/{project}. */
  path: string;
  /** Query parameters (GET) or the JSON body's fields. */
  input?: Record<string, unknown>;
}

const seg = encodeURIComponent;

type Apply = { yes?: boolean; force?: boolean; forceUnlock?: boolean; killOrphans?: boolean };
const apply = (a: Apply) => ({ yes: a.yes, force: a.force, force_unlock: a.forceUnlock, kill_orphans: a.killOrphans });

export const PROJECT_ROUTES: { [C in ProjectCommand]: (a: ProjectArgs[C]) => RouteCall } = {
  validate: () => ({ method: "GET", path: "/validate" }),
  plan: (a) => ({ method: "GET", path: "/plan", input: { phase: a.phase, module: a.modules, with_deps: a.withDeps, reconcile: a.reconcile } }),
  deploy: (a) => ({ method: "POST", path: "/deploy", input: { phase: a.phase, modules: a.modules, with_deps: a.withDeps, reconcile: a.reconcile, ...apply(a) } }),
  destroy: (a) => ({ method: "POST", path: "/destroy", input: { modules: a.modules, ...apply(a) } }),
  rollback: (a) => ({ method: "POST", path: "/rollback", input: { to: a.to, ...apply(a) } }),
  status: () => ({ method: "GET", path: "/status" }),
  history: (a) => ({ method: "GET", path: "/history", input: { limit: a.limit } }),
  "settings list": (a) => ({ method: "GET", path: "/settings", input: { module: a.module } }),
  run: (a) => ({ method: "POST", path: "/runs", input: { job: a.job, params: a.params, keep_workdir: a.keepWorkdir, no_cache: a.noCache, from_source: a.fromSource, write_bundle: a.writeBundle } }),
  sweep: (a) => ({ method: "POST", path: "/sweeps", input: { job: a.job, values: a.values, params: a.params, no_cache: a.noCache, from_source: a.fromSource } }),
  runs: (a) => ({ method: "GET", path: "/runs", input: { job: a.job, limit: a.limit } }),
  "runs show": (a) => ({ method: "GET", path: `/runs/${seg(a.run)}` }),
  "runs results": (a) => ({ method: "GET", path: `/runs/${seg(a.run)}/results` }),
  logs: (a) => ({ method: "GET", path: `/runs/${seg(a.run)}/logs`, input: { task: a.task, follow: a.follow } }),
  cancel: (a) => ({ method: "POST", path: `/runs/${seg(a.run)}/cancel` }),
  "archives list": (a) => ({ method: "GET", path: `/archives/${seg(a.kind)}`, input: { run: a.run } }),
  "jobs list": () => ({ method: "GET", path: "/jobs" }),
  "schedules list": () => ({ method: "GET", path: "/schedules" }),
  "schedules pause": (a) => ({ method: "POST", path: `/schedules/${seg(a.name)}/pause` }),
  "schedules unpause": (a) => ({ method: "POST", path: `/schedules/${seg(a.name)}/unpause` }),
  "ttl show": () => ({ method: "GET", path: "/ttl" }),
  "ttl extend": (a) => ({ method: "POST", path: "/ttl/extend", input: { by: a.by } }),
  "ttl pin": () => ({ method: "POST", path: "/ttl/pin" }),
  "ttl unpin": () => ({ method: "POST", path: "/ttl/unpin" }),
  "models list": () => ({ method: "GET", path: "/models" }),
  "models versions": (a) => ({ method: "GET", path: `/models/${seg(a.model)}/versions` }),
  "models show": (a) => ({ method: "GET", path: `/models/${seg(a.ref)}` }),
  "models alias set": (a) => ({ method: "PUT", path: `/models/${seg(a.model)}/aliases/${seg(a.alias)}`, input: { version: a.version } }),
  "models promote": (a) => ({ method: "POST", path: `/models/${seg(a.ref)}/promote`, input: { from: a.from, to: a.to, alias: a.alias } }),
  "endpoints list": () => ({ method: "GET", path: "/endpoints" }),
  // The server queries its gateway with the caller's API token.
  "endpoints query": (a) => ({ method: "POST", path: `/endpoints/${seg(a.name)}/query`, input: { data: a.data, protocol: a.protocol } }),
  "endpoints logs": (a) => ({ method: "GET", path: `/endpoints/${seg(a.name)}/logs`, input: { limit: a.limit } }),
  "endpoints reap": () => ({ method: "POST", path: "/endpoints/reap" }),
  "apps list": () => ({ method: "GET", path: "/apps" }),
  "apps logs": (a) => ({ method: "GET", path: `/apps/${seg(a.name)}/logs`, input: { offset: a.offset, tail: a.tail } }),
  "artifacts list": (a) => ({ method: "GET", path: a.name === undefined ? "/artifacts" : `/artifacts/${seg(a.name)}` }),
  "artifacts install": (a) => ({ method: "POST", path: "/artifacts/install", input: { library: a.library, into: a.into, force_unlock: a.forceUnlock } }),
  "artifacts gc": (a) => ({ method: "POST", path: "/artifacts/gc", input: { names: a.names, keep_last: a.keepLast, yes: a.yes, force_unlock: a.forceUnlock } }),
  // The server records a run and answers at once (its pipelines loop advances it); `detach` is the CLI's.
  "pipelines list": () => ({ method: "GET", path: "/pipelines" }),
  "pipelines run": (a) => ({ method: "POST", path: `/pipelines/${seg(a.name)}/runs`, input: { params: a.params } }),
  "pipelines runs": (a) => ({ method: "GET", path: `/pipelines/${seg(a.name)}/runs`, input: { limit: a.limit } }),
  "pipelines status": (a) => ({ method: "GET", path: `/pipeline-runs/${seg(a.run)}` }),
  "pipelines approve": (a) => ({ method: "POST", path: `/pipeline-runs/${seg(a.run)}/approve`, input: { stage: a.stage, comment: a.comment } }),
  "pipelines reject": (a) => ({ method: "POST", path: `/pipeline-runs/${seg(a.run)}/reject`, input: { stage: a.stage, comment: a.comment } }),
  "pipelines logs": (a) => ({ method: "GET", path: `/pipeline-runs/${seg(a.run)}/logs`, input: { stage: a.stage } }),
  "artifacts promote": (a) => ({ method: "POST", path: `/artifacts/${seg(a.ref)}/promote`, input: { from: a.from, to: a.to } }),
};
