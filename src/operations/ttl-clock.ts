// A target-wide TTL's clock as deploy and destroy move it (src/operations/ttl.ts deletes when it runs
// out). Kept apart from ttl.ts, which calls destroy, so deploy and destroy can restart and stop the
// clock without importing the deletion.
import { iso } from "../clock.js";
import { targetTtl } from "../config/ttl.js";
import type { CompiledProject } from "../kinds/compile-project.js";
import type { Stores } from "../store/open.js";
import type { OperationContext } from "./context.js";

/**
 * A deploy to a target with `ttl: { after }` restarts its clock: due = now + after, a new generation
 * (a deletion pending for the previous one is cancelled), a failed deletion's retries are dropped.
 * A target whose config no longer has a target-wide TTL forgets its clock.
 */
export async function restartTargetClock(compiled: CompiledProject, stores: Stores, ctx: OperationContext): Promise<void> {
  const { project } = compiled;
  const ttl = targetTtl(project.target.config);
  const store = stores.state.ttl();
  if (!ttl || ttl.scope !== "target") {
    await store.remove(project.name, project.target.name);
    return;
  }
  const now = ctx.env.clock.now();
  const row = await store.restart({
    project: project.name,
    target: project.target.name,
    dir: project.dir,
    deployed_by: ctx.env.user,
    deployed_at: iso(now),
    after: ttl.after,
    notify_before: ttl.notifyBefore,
    channels: JSON.stringify(project.target.config.notifications ?? []),
    due_ms: now + ttl.afterMs,
    updated_at: iso(now),
  });
  ctx.reporter.info(`${project.name}/${project.target.name} is destroyed at ${iso(row.due_ms)} (ttl ${ttl.after}; each deploy restarts the clock)${row.pinned_by ? `, unless still pinned (by ${row.pinned_by})` : ""}`);
}

/** After a destroy that left nothing deployed: the clock stops (the TTL's own deletion then records `expired`). */
export async function stopTargetClock(project: string, target: string, stores: Stores, ctx: OperationContext): Promise<void> {
  const store = stores.state.ttl();
  const row = await store.get(project, target);
  if (!row || (row.status !== "armed" && row.status !== "retrying")) return;
  await store.update(project, target, row.generation, { status: "destroyed", finished_at: iso(ctx.env.clock.now()), next_attempt_ms: null, updated_at: iso(ctx.env.clock.now()) });
}
