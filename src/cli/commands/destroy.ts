import type { Command } from "commander";
import { destroy } from "../../operations/destroy.js";
import { deploymentFailure, deploymentView } from "../../views/deployments.js";
import { collect, execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { printDeployOutcome, printPlan } from "../render.js";

interface DestroyFlags extends CommonFlags {
  module?: string[];
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  killOrphans?: boolean;
}

export function registerDestroy(program: Command): void {
  withCommonOptions(program.command("destroy").description("remove what is deployed to a target (all modules, or --module NAME), dependents first"))
    .option("--module <name>", "destroy only this module (repeatable); refused while deployed modules depend on it", collect, [])
    .option("-y, --yes", "confirm without asking (needed when there is no terminal)")
    .option("--force", "needed as well as confirmation for a protected target")
    .option("--force-unlock", "take the target's lock even if its holder looks alive")
    .option("--kill-orphans", "kill a hook script an interrupted deploy left running instead of waiting for it to finish (it then runs again)")
    .action((flags: DestroyFlags) =>
      execute("destroy", flags, async ({ out, ctx }) => {
        ctx.reporter.plan = (p, where) => printPlan(out, p, `Destroy plan for ${where}`);
        const r = await destroy({ ...projectOptions(flags), modules: flags.module, yes: flags.yes, force: flags.force, forceUnlock: flags.forceUnlock, killOrphans: flags.killOrphans }, ctx);
        return { fields: deploymentView(r), error: deploymentFailure(r, "destroy"), text: () => printDeployOutcome(out, r, "destroy") };
      }),
    );
}
