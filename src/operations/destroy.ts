// destroy: removes a target's deployed modules (all, or --module NAME), dependents first.
import { specOf } from "../kinds/index.js";
import { kindLookup } from "../kinds/index.js";
import { RefusedError } from "../errors.js";
import { planChanges, type Plan } from "../engine/plan.js";
import { attachDeleteRuntimes, authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";
import { runDeployment } from "./deployment.js";
import type { DeployResult } from "./deploy.js";
import { stopServerIfIdle } from "../serving/control.js";
import { forgetBackgroundWork } from "./background.js";
import { stopTargetClock } from "./ttl-clock.js";

export interface DestroyOptions extends ProjectOptions {
  modules?: string[];
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  /** Kill a hook script an interrupted deploy left running instead of waiting for it. */
  killOrphans?: boolean;
  /** `expire`: the target's TTL ran out (recorded as such in history). */
  operation?: "expire";
  /** Checked under the target's lease before anything is deleted (the TTL's deletion: the clock was not restarted meanwhile). */
  guard?: () => Promise<void>;
  /** Run inside the server (the TTL's deletion): do not ask the server to stop when nothing is left. */
  keepServer?: boolean;
}

export async function destroy(options: DestroyOptions, ctx: OperationContext): Promise<DeployResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", "destroy");
  const { project } = compiled;
  const where = `${project.name}/${project.target.name}`;
  const scope = options.modules?.length ? new Set(options.modules) : undefined;
  const outcome = await withStores(compiled, ctx.env, async (stores) => {
    const result = await runDeployment(
      stores,
      {
        operation: options.operation ?? "destroy",
        projectName: project.name,
        targetName: project.target.name,
        projectDir: project.dir,
        archives: project.archives,
        options: { modules: options.modules },
        // Nothing is desired in scope, so everything recorded there is deleted.
        makePlan: async (recorded) => {
          await options.guard?.();
          return attachDeleteRuntimes(planChanges([], recorded, kindLookup.changeKind, { modules: scope }, kindLookup.removedAfter), compiled);
        },
        check: (plan, recorded) => {
          if (!scope) return;
          const unknown = [...scope].filter((m) => !recorded.some((r) => r.module === m));
          if (unknown.length) throw new RefusedError("not_deployed", `module ${unknown.join(", ")} is not deployed to ${project.target.name}`, { hint: "see what is deployed with `slipway status`" });
          const dependents = recorded.filter((r) => r.kind === "module" && !scope.has(r.module) && specOf(r, "module").depends_on.some((d) => scope.has(d)));
          if (dependents.length) {
            const names = dependents.map((d) => d.module);
            throw new RefusedError("dependents_deployed", `cannot destroy ${[...scope].join(", ")}: deployed module(s) ${names.join(", ")} depend on it`, {
              hint: `destroy ${names.join(", ")} first (slipway destroy --module ${names[0]})`,
              details: { dependents: names },
            });
          }
        },
        confirmation: (plan: Plan) => {
          const modules = plan.actions.filter((a) => a.kind === "module").map((a) => a.module);
          return {
            question: `This will destroy ${plan.actions.length} resource(s)${modules.length ? ` of module(s) ${modules.join(", ")}` : ""} in ${where}. Continue?`,
            needsForce: project.target.protected ? `${where} is protected: destroy needs --force` : undefined,
          };
        },
        yes: options.yes,
        force: options.force,
        forceUnlock: options.forceUnlock,
        killOrphans: options.killOrphans,
      },
      ctx,
    );
    if (result.status !== "failed" && !scope) await stopTargetClock(project.name, project.target.name, stores, ctx);
    if (result.status !== "failed") await forgetBackgroundWork(compiled, stores);
    return result;
  });
  // The background server stops once no endpoint and no background work is left (a server started with
  // `slipway server` keeps running unless it was given an idle timeout).
  if (outcome.status !== "failed" && !options.keepServer) {
    const { stopped, problem } = await stopServerIfIdle(ctx.env);
    if (stopped) ctx.reporter.info(`stopped the local Slipway server: no endpoint or background work is left (it was at ${stopped.url}, pid ${stopped.pid})`);
    if (problem) ctx.reporter.warn(problem);
  }
  return { ...outcome, project: project.name, target: project.target.name };
}
