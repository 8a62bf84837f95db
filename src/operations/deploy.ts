// validate, plan and deploy: the config's desired state, compared with (and applied to) the target.
import { endpointTtl } from "../config/ttl.js";
import { restartTargetClock } from "./ttl-clock.js";
import { kindLookup } from "../kinds/index.js";
import { InvalidInputError, RefusedError } from "../errors.js";
import type { CompiledProject } from "../kinds/compile-project.js";
import { planChanges, type Plan, type PlanScope } from "../engine/plan.js";
import type { DesiredResource, RecordedResource } from "../resources.js";
import { didYouMean } from "../util/suggest.js";
import { attachDeleteRuntimes, authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";
import { runDeployment, type DeploymentOutcome } from "./deployment.js";
import { sourceOfConfig, submitRun } from "../runs/submit.js";
import { resolveServedAliases } from "../kinds/endpoint/refresh.js";
import type { Stores } from "../store/open.js";
import { iso } from "../clock.js";
import { parseDuration } from "../util/duration.js";
import { describeDrift, libraryDrift, withInstalledLibraries, type LibraryDrift } from "../compute/drift.js";
import { accessWarnings } from "../serving/ownership.js";
import { runRecordedApps, serveRecordedEndpoints } from "../serving/reconcile.js";
import { recordBackgroundWork } from "./background.js";

export interface ScopeOptions {
  /** --phase N */
  phase?: number;
  /** --module NAME (repeatable) */
  modules?: string[];
  /** --with-deps: also deploy the modules' dependencies. */
  withDeps?: boolean;
}

export interface DeployOptions extends ProjectOptions, ScopeOptions {
  /**
   * Also undo drift: compute environments whose installed libraries differ from the config's pins
   * (a version installed by hand) are updated back to the pins. Without it they are kept, and shown.
   */
  reconcile?: boolean;
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  /** Kill a hook script an interrupted deploy left running instead of waiting for it. */
  killOrphans?: boolean;
}

export interface ValidateResult {
  project: string;
  target: string;
  modules: string[];
  resources: number;
  byKind: Record<string, number>;
}

export function validate(options: ProjectOptions, ctx: OperationContext): ValidateResult {
  const compiled = compileFor(options, ctx);
  const byKind: Record<string, number> = {};
  for (const r of compiled.resources) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  return { project: compiled.project.name, target: compiled.project.target.name, modules: compiled.project.modules.map((m) => m.name), resources: compiled.resources.length, byKind };
}

export interface PlanResult {
  project: string;
  target: string;
  plan: Plan;
  /** Installed libraries that differ from the config's pins and that deploy keeps (unless --reconcile, whose plan updates them). */
  drift: LibraryDrift[];
}

export async function plan(options: DeployOptions, ctx: OperationContext): Promise<PlanResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "plan");
  const scope = resolveScope(compiled, options);
  return withStores(compiled, ctx.env, async (stores) => {
    const state = stores.state.forTarget(compiled.project.name, compiled.project.target.name);
    const recorded = await state.listResources();
    checkModuleDependencies(compiled, scope, options, recorded);
    await resolveServedAliases(compiled.resources, stores.state.models(compiled.project.name, compiled.project.target.name));
    const drift = await driftOf(compiled, stores, scope, recorded);
    const base = options.reconcile ? withInstalledLibraries(recorded, drift) : recorded;
    return { project: compiled.project.name, target: compiled.project.target.name, plan: planChanges(compiled.resources, base, kindLookup.changeKind, scope, kindLookup.removedAfter), drift };
  });
}

export interface DeployResult extends DeploymentOutcome {
  project: string;
  target: string;
  /** Runs started because a job with `run_on_deploy: true` was created or updated. */
  runs?: Array<{ job: string; run: string }>;
}

export async function deploy(options: DeployOptions, ctx: OperationContext): Promise<DeployResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", "deploy");
  const scope = resolveScope(compiled, options);
  const { project } = compiled;
  let started: Array<{ job: string; run: string }> = [];
  const outcome = await withStores(compiled, ctx.env, async (stores) => {
    await resolveServedAliases(compiled.resources, stores.state.models(project.name, project.target.name));
    const result = await runDeployment(
      stores,
      {
        operation: "deploy",
        projectName: project.name,
        targetName: project.target.name,
        projectDir: project.dir,
        archives: project.archives,
        options: { phase: options.phase, modules: options.modules, with_deps: options.withDeps, ...(options.reconcile ? { reconcile: true } : {}) },
        makePlan: async (recorded) => {
          const drift = await driftOf(compiled, stores, scope, recorded);
          if (!options.reconcile) {
            for (const d of drift) ctx.reporter.warn(`${describeDrift(d)}: kept (deploy --reconcile installs what the config pins)`);
          }
          const base = options.reconcile ? withInstalledLibraries(recorded, drift) : recorded;
          return attachDeleteRuntimes(planChanges(compiled.resources, base, kindLookup.changeKind, scope, kindLookup.removedAfter), compiled);
        },
        check: (_plan, recorded) => checkModuleDependencies(compiled, scope, options, recorded),
        // Under the lease: a TTL deletion waiting for it finds the clock restarted and does nothing.
        started: () => restartTargetClock(compiled, stores, ctx),
        confirmation: (p) => deletionConfirmation(p, project.target.protected, `${project.name}/${project.target.name}`),
        yes: options.yes,
        force: options.force,
        forceUnlock: options.forceUnlock,
        killOrphans: options.killOrphans,
        snapshotExtras: { variables: maskedVariables(compiled) },
      },
      ctx,
    );
    if (result.status === "succeeded") started = await startRunsOnDeploy(compiled, stores, result, ctx);
    if (result.status !== "failed") await restartEndpointClocks(compiled, stores, scope, result, ctx);
    const recorded = await stores.state.forTarget(project.name, project.target.name).listResources();
    for (const warning of accessWarnings(result.apply?.done ?? [], recorded)) ctx.reporter.warn(warning);
    // Recorded endpoints the server does not serve (it stopped, or restarted without them) come back.
    if (result.status !== "failed") await serveRecordedEndpoints(ctx.env, recorded, ctx.reporter);
    if (result.status !== "failed") await runRecordedApps(ctx.env, recorded, ctx.reporter);
    if (result.status !== "failed") await recordBackgroundWork(compiled, stores, ctx, recorded);
    return result;
  });
  return { ...outcome, project: project.name, target: project.target.name, runs: started };
}

/** Installed libraries of deployed environments in scope that differ from the config's pins. */
async function driftOf(compiled: CompiledProject, stores: Stores, scope: PlanScope, recorded: RecordedResource[]): Promise<LibraryDrift[]> {
  const { project } = compiled;
  if (!recorded.some((r) => r.kind === "compute")) return [];
  const installs = await stores.state.compute(project.name, project.target.name).listInstalls();
  return libraryDrift(inScope(compiled.resources, scope), recorded, installs);
}

function inScope(resources: readonly DesiredResource[], scope: PlanScope): DesiredResource[] {
  return resources.filter((r) => (!scope.modules || scope.modules.has(r.module)) && (scope.phase === undefined || r.phase <= scope.phase));
}

/** Jobs with `run_on_deploy: true` that this deploy created or updated start a run; the deploy does not wait. */
async function startRunsOnDeploy(compiled: CompiledProject, stores: Stores, outcome: DeploymentOutcome, ctx: OperationContext): Promise<Array<{ job: string; run: string }>> {
  const started: Array<{ job: string; run: string }> = [];
  for (const action of outcome.apply?.done ?? []) {
    if (action.kind !== "job" || action.action === "delete" || !action.desired?.spec.run_on_deploy) continue;
    // The config's job is the one this deploy just recorded.
    const run = await submitRun(compiled, stores, sourceOfConfig(compiled, action.desired.name), { trigger: { kind: "deploy" } }, ctx.env);
    ctx.reporter.info(`started run ${run.id} of job ${run.job} (run_on_deploy)`);
    started.push({ job: run.job, run: run.id });
  }
  return started;
}

/**
 * A redeploy resets an endpoint's TTL clock: endpoints this deploy kept unchanged get a new
 * deployed_at and expires_at (the ones it created or updated got theirs from the provider).
 */
async function restartEndpointClocks(compiled: CompiledProject, stores: Stores, scope: PlanScope, outcome: DeploymentOutcome, ctx: OperationContext): Promise<void> {
  const ttl = endpointTtl(compiled.project.target.config);
  if (!ttl) return;
  const touched = new Set(outcome.plan.actions.map((a) => a.address));
  const inScope = new Set(compiled.resources.filter((r) => r.kind === "endpoint" && (!scope.modules || scope.modules.has(r.module)) && (scope.phase === undefined || r.phase <= scope.phase)).map((r) => r.address));
  const state = stores.state.forTarget(compiled.project.name, compiled.project.target.name);
  const now = ctx.env.clock.now();
  for (const r of await state.listResources()) {
    if (r.kind !== "endpoint" || !inScope.has(r.address) || touched.has(r.address)) continue;
    await state.setOutputs(r.address, { ...r.outputs, deployed_at: iso(now), expires_at: iso(now + parseDuration(ttl)) });
  }
}

/** Deletes and replaces need a person's yes; deleting deployed modules of a protected target needs --force too. */
export function deletionConfirmation(plan: Plan, protectedTarget: boolean, where: string): { question: string; needsForce?: string } | undefined {
  const destructive = plan.actions.filter((a) => a.action === "delete" || a.action === "replace");
  if (destructive.length === 0) return undefined;
  const modules = destructive.filter((a) => a.kind === "module" && a.action === "delete").map((a) => a.module);
  const question = `This will delete or replace ${destructive.length} resource(s) in ${where}${modules.length ? `, including the deployed module(s) ${modules.join(", ")}` : ""}. Continue?`;
  return { question, needsForce: protectedTarget && modules.length ? `${where} is protected: deleting module(s) ${modules.join(", ")} needs --force` : undefined };
}

function resolveScope(compiled: CompiledProject, options: ScopeOptions): PlanScope {
  const scope: PlanScope = { phase: options.phase };
  if (!options.modules?.length) return scope;
  const names = compiled.project.modules.map((m) => m.name);
  const unknown = options.modules.filter((m) => !names.includes(m));
  if (unknown.length) {
    throw new InvalidInputError(unknown.map((m) => ({ message: `--module ${m}: no such module`, hint: didYouMean(m, names) ?? `modules: ${names.join(", ")}` })), "unknown_module");
  }
  const selected = new Set(options.modules);
  if (options.withDeps) {
    const queue = [...selected];
    while (queue.length) for (const dep of compiled.moduleDeps.get(queue.shift()!) ?? []) if (!selected.has(dep)) (selected.add(dep), queue.push(dep));
  }
  return { ...scope, modules: selected };
}

/** Deploying some modules needs their dependencies deployed already (or --with-deps). */
function checkModuleDependencies(compiled: CompiledProject, scope: PlanScope, options: ScopeOptions, recorded: RecordedResource[]): void {
  if (!scope.modules) return;
  const deployed = new Set(recorded.filter((r) => r.kind === "module").map((r) => r.module));
  const missing = new Set<string>();
  for (const m of scope.modules) for (const dep of compiled.moduleDeps.get(m) ?? []) if (!scope.modules.has(dep) && !deployed.has(dep)) missing.add(dep);
  if (missing.size) {
    const list = [...missing];
    throw new RefusedError("dependencies_not_deployed", `module ${[...(options.modules ?? [])].join(", ")} depends on ${list.join(", ")}, which ${list.length > 1 ? "are" : "is"} not deployed to ${compiled.project.target.name}`, {
      hint: `deploy ${list.join(", ")} first, or add --with-deps`,
      details: { missing: list },
    });
  }
}

function maskedVariables(compiled: CompiledProject): Record<string, string> {
  const secret = new Set(compiled.project.secretValues);
  return Object.fromEntries(Object.entries(compiled.project.variables).map(([k, v]) => [k, secret.has(v) ? "***" : v]));
}
