// What every operation starts from: the project on disk, the chosen target, the runtime environment.
import { resolve } from "node:path";
import { compileProject, type CompiledProject } from "../kinds/compile-project.js";
import { moduleFileSchema } from "../kinds/module-file.js";
import { moduleEnvironment } from "../config/env-files.js";
import type { Plan } from "../engine/plan.js";
import type { Diagnostic } from "../errors.js";
import type { RecordedResource, ResourceRuntime } from "../resources.js";
import { loadProject } from "../config/load.js";
import type { Reporter } from "../engine/reporter.js";
import type { RuntimeEnv } from "../env.js";
import { loadHomeConfig } from "../config/home-config.js";
import { openStores, type Stores } from "../store/open.js";

export interface ProjectOptions {
  /** Project folder (holding slipway.yaml). */
  dir: string;
  target?: string;
  /** --var NAME=value */
  vars?: Record<string, string>;
  /** How messages show the folder (default: relative to the current folder); see LoadOptions.shownDir. */
  shownDir?: string;
}

export interface OperationContext {
  env: RuntimeEnv;
  reporter: Reporter;
  /** Asks the person at the terminal; absent when there is none (then --yes is needed). */
  confirm?: (question: string) => Promise<boolean>;
  /**
   * Asked once per operation, as soon as it knows its project and target, when a caller is not the
   * local user (the server's API: src/server/auth/authorize.ts). Throws when the caller may not.
   * Absent in embedded mode: the local user may do everything on the local home.
   */
  authorize?: (request: AccessRequest, recorded: () => Promise<RecordedAccess>) => Promise<void>;
  /**
   * Who makes the call, for rules about persons (pipeline approvers): the API's actor, or the local user
   * with their groups in SLIPWAY_HOME. Absent: env.user, in no group.
   */
  actor?: { name: string; groups: readonly string[] };
  /** The server's API: work that continues after the call is left to the server's background loops (not run in the foreground, no server started). */
  inServer?: boolean;
  /**
   * The control plane's side of a target's permissions (grants made with `slipway permissions grant`,
   * and the owner who claimed it), for `status`. Given by the server and by the embedded CLI (the local
   * home's); without it, status shows the config's grants and the first deployer.
   */
  controlPlaneAccess?: (project: string, target: string) => Promise<ControlPlaneAccess>;
  /**
   * Ends an attached run as Ctrl-C ends it (the run is cancelled). When given, the runner listens to
   * it instead of this process's SIGINT and SIGTERM: the server running a client's `run --wait`
   * (src/cli/run-handoff) must not cancel every run it holds on one client's Ctrl-C, nor on its own signals.
   */
  cancel?: AbortSignal;
  /** Compiles the project (default: `compile`); the server gives one that reuses a compile whose inputs did not change. */
  compile?: (options: ProjectOptions, env: RuntimeEnv) => CompiledProject;
}

/** What the control plane says about a target's permissions. */
export interface ControlPlaneAccess {
  /** Grants on the project (resource and target ""), the target (resource "") or one resource of it. */
  grants: Array<{ resource: string; level: string; principal_kind: string; principal: string }>;
  /** The user whose deploy claimed the target, if one did. */
  owner: string | null;
}

/** Permission levels: CAN_VIEW < CAN_RUN < CAN_MANAGE; CAN_QUERY (endpoints) and CAN_USE (apps) are met by themselves or CAN_MANAGE. */
export type AccessLevel = "CAN_VIEW" | "CAN_RUN" | "CAN_MANAGE" | "CAN_QUERY" | "CAN_USE";

/** What an operation asks to do: a level on a target, or on one resource of it (`address`). */
export interface AccessRequest {
  level: AccessLevel;
  project: string;
  target: string;
  address?: string;
  /** The operation, for messages and the audit log ("deploy", "run", "alias set", …). */
  operation: string;
}

/** What the target's state says about access: the config's grants as deployed, endpoint owners, the first deployer. */
export interface RecordedAccess {
  grants: Array<{ address: string; level: string; user?: string; group?: string; service_principal?: string }>;
  owners: Array<{ address: string; owner: string }>;
  firstDeployer: string | null;
}

/** Asks ctx.authorize (if any) for `level` on the compiled target, or one resource of it. */
export async function authorizeFor(compiled: CompiledProject, ctx: OperationContext, level: AccessLevel, operation: string, address?: string): Promise<void> {
  if (!ctx.authorize) return;
  const project = compiled.project.name;
  const target = compiled.project.target.name;
  await ctx.authorize({ level, project, target, address, operation }, () => withStores(compiled, ctx.env, (stores) => recordedAccessOf(stores, project, target)));
}

/** What a target's state says about access (grants as deployed, endpoint owners, the first deployer). */
export async function recordedAccessOf(stores: Stores, project: string, target: string): Promise<RecordedAccess> {
  const state = stores.state.forTarget(project, target);
  const [recorded, firstDeployer] = await Promise.all([state.listResources(), state.firstDeployer()]);
  const grants: RecordedAccess["grants"] = [];
  const owners: RecordedAccess["owners"] = [];
  for (const r of recorded) {
    if (r.kind === "permission") for (const g of (r.spec.grants as RecordedAccess["grants"] | undefined) ?? []) grants.push({ ...g, address: String(r.spec.resource) });
    if (r.kind === "endpoint" && typeof r.outputs.owner === "string") owners.push({ address: r.address, owner: r.outputs.owner });
  }
  return { grants, owners, firstDeployer };
}

export function compile(options: ProjectOptions, env: RuntimeEnv): CompiledProject {
  const diagnostics: Diagnostic[] = [];
  const project = loadProject({
    moduleSchema: moduleFileSchema,
    diagnostics,
    dir: options.dir,
    target: options.target,
    vars: options.vars,
    envVars: env.varOverrides,
    user: env.user,
    env: env.processEnv,
    shownDir: options.shownDir,
    homeBackends: loadHomeConfig(env.home, env.processEnv),
  });
  return compileProject(project, diagnostics);
}

/** Compiles the project and tells the reporter which values to mask before anything is printed. */
export function compileFor(options: ProjectOptions, ctx: OperationContext): CompiledProject {
  const compiled = (ctx.compile ?? compile)(options, ctx.env);
  ctx.reporter.secrets?.(compiled.secrets);
  return compiled;
}

export async function withStores<T>(compiled: CompiledProject, env: RuntimeEnv, body: (stores: Stores) => Promise<T>): Promise<T> {
  const stores = await openStores(env.home, compiled.project.target.config, env.storePool);
  try {
    return await body(stores);
  } finally {
    await stores.close();
  }
}

/**
 * The folder and environment a recorded resource's scripts run with: the configured resource's when
 * it is still in the config, otherwise its module's (env files and variables as today), so a module
 * whose block was removed is destroyed with the environment it was deployed with.
 */
export function runtimeResolver(compiled: CompiledProject): (r: RecordedResource) => ResourceRuntime {
  const configured = new Map(compiled.resources.map((d) => [d.address, d.runtime]));
  const perModule = new Map<string, ResourceRuntime>();
  return (r) => {
    const own = configured.get(r.address);
    if (own) return own;
    let runtime = perModule.get(r.module);
    if (!runtime) {
      const dir = resolve(compiled.project.dir, String(r.spec.dir ?? "."));
      const env = moduleEnvironment(compiled.project, r.module, dir);
      runtime = { cwd: dir, env: env.vars, secrets: env.secrets };
      perModule.set(r.module, runtime);
    }
    return runtime;
  };
}

/** Gives every delete in `plan` the runtime its destroy scripts need. */
export function attachDeleteRuntimes(plan: Plan, compiled: CompiledProject): Plan {
  const runtimeOf = runtimeResolver(compiled);
  for (const action of plan.actions) if (action.action === "delete" && action.recorded) action.runtime = runtimeOf(action.recorded);
  return plan;
}
