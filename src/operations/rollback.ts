// rollback --to REV: plans and applies the difference between the recorded state and revision REV.
import { kindLookup } from "../kinds/index.js";
import { SlipwayError } from "../errors.js";
import { planChanges } from "../engine/plan.js";
import type { DesiredResource } from "../resources.js";
import { attachDeleteRuntimes, authorizeFor, compileFor, runtimeResolver, withStores, type OperationContext, type ProjectOptions } from "./context.js";
import { loadSnapshot, runDeployment } from "./deployment.js";
import { deletionConfirmation, type DeployResult } from "./deploy.js";

export interface RollbackOptions extends ProjectOptions {
  to: number;
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  /** Kill a hook script an interrupted deploy left running instead of waiting for it. */
  killOrphans?: boolean;
}

export async function rollback(options: RollbackOptions, ctx: OperationContext): Promise<DeployResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", "rollback");
  const { project } = compiled;
  const runtimeOf = runtimeResolver(compiled);
  const outcome = await withStores(compiled, ctx.env, async (stores) => {
    const state = stores.state.forTarget(project.name, project.target.name);
    const revision = await state.getRevision(options.to);
    if (!revision?.snapshot) {
      const latest = await state.latestRevision();
      throw new SlipwayError("unknown_revision", `${project.name}/${project.target.name} has no revision ${options.to}`, {
        exitCode: 2,
        hint: latest ? `revisions go from 1 to ${latest.revision}; see \`slipway history\`` : "nothing has been deployed to this target yet",
      });
    }
    const snapshot = await loadSnapshot(stores, revision.snapshot);
    // The revision's resources, with today's runtime (folder, environment) where the module still exists.
    const desired: DesiredResource[] = snapshot.resources.map((r) => ({
      address: r.address,
      kind: r.kind,
      name: r.name,
      module: r.module,
      phase: r.phase,
      spec: r.spec,
      specHash: r.specHash,
      dependsOn: r.dependsOn,
      runtime: runtimeOf(r),
    }));
    return runDeployment(
      stores,
      {
        operation: "rollback",
        projectName: project.name,
        targetName: project.target.name,
        projectDir: project.dir,
        archives: project.archives,
        options: { rollback_to: options.to },
        makePlan: (recorded) => attachDeleteRuntimes(planChanges(desired, recorded, kindLookup.changeKind, {}, kindLookup.removedAfter), compiled),
        confirmation: (p) => deletionConfirmation(p, project.target.protected, `${project.name}/${project.target.name}`),
        yes: options.yes,
        force: options.force,
        forceUnlock: options.forceUnlock,
        killOrphans: options.killOrphans,
        snapshotExtras: { rolled_back_to: options.to },
      },
      ctx,
    );
  });
  return { ...outcome, project: project.name, target: project.target.name };
}
