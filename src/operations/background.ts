// What deploy and destroy tell the server's background work: where each deployed project lives and
// its retention (`background_targets`), and that a server must run while schedules, pipeline triggers
// (cron, git) or retention are deployed (deploy starts the background server, which then does not stop idle).
import { loadHomeConfig, usesHomeState } from "../config/home-config.js";
import { iso } from "../clock.js";
import { targetTtl } from "../config/ttl.js";
import type { CompiledProject } from "../kinds/compile-project.js";
import { ensureServer, runningServer } from "../serving/control.js";
import type { RecordedResource } from "../resources.js";
import type { Stores } from "../store/open.js";
import type { OperationContext } from "./context.js";

/**
 * After a deploy: records the project's folder and retention; starts the server when it has work.
 * `recorded`: the target's resources when the caller has just read them (10,000 rows take ~50 ms).
 */
export async function recordBackgroundWork(compiled: CompiledProject, stores: Stores, ctx: OperationContext, recorded?: readonly RecordedResource[]): Promise<void> {
  const { project } = compiled;
  const retention = project.retention.artifacts ? { artifacts: project.retention.artifacts } : null;
  await stores.state.background().putTarget({ project: project.name, target: project.target.name, dir: project.dir, retention: retention && JSON.stringify(retention), updated_at: iso(ctx.env.clock.now()) });
  recorded ??= await stores.state.forTarget(project.name, project.target.name).listResources();
  const schedules = recorded.filter((r) => r.kind === "schedule");
  // Pipelines the server triggers by itself (cron, git); after-triggers follow runs, which start it anyway.
  const triggered = recorded.filter((r) => r.kind === "pipeline" && ((r.spec.triggers as { cron?: string; git?: unknown } | undefined)?.cron || (r.spec.triggers as { git?: unknown } | undefined)?.git));
  // A target-wide TTL is destroyed by the server's ttl unit.
  const ttl = targetTtl(project.target.config);
  const expiring = ttl?.scope === "target" ? ttl.after : undefined;
  if (!schedules.length && !retention && !triggered.length && !expiring) return;
  const work = [schedules.length ? `${schedules.length} schedule(s)` : "", triggered.length ? `${triggered.length} pipeline trigger(s)` : "", retention ? `artifact retention every ${retention.artifacts.every}` : "", expiring ? `its ttl of ${expiring}` : ""].filter(Boolean).join(" and ");
  if (!servedByHomeServer(compiled, ctx)) {
    ctx.reporter.warn(`${project.name}/${project.target.name} keeps its state outside this home's state database: its ${work} run only in a server whose home uses that state (SLIPWAY_HOME/config.yaml, state:)`);
    return;
  }
  if (await runningServer(ctx.env)) return;
  const server = await ensureServer(ctx.env);
  ctx.reporter.info(`started the Slipway server at ${server.url} for the background work of ${project.name}/${project.target.name} (${work}); it runs while they are deployed`);
}

/** After a destroy that left nothing recorded: the server no longer works for this target. */
export async function forgetBackgroundWork(compiled: CompiledProject, stores: Stores): Promise<void> {
  const { project } = compiled;
  if ((await stores.state.forTarget(project.name, project.target.name).listResources()).length) return;
  await stores.state.background().deleteTarget(project.name, project.target.name);
}

/** Whether the local server (which opens the home's state database) sees this target's state. */
export function servedByHomeServer(compiled: CompiledProject, ctx: OperationContext): boolean {
  return usesHomeState(compiled.project.target.config, loadHomeConfig(ctx.env.home, ctx.env.processEnv));
}
