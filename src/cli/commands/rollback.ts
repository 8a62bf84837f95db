import type { Command } from "commander";
import { rollback } from "../../operations/rollback.js";
import { deploymentFailure, deploymentView } from "../../views/deployments.js";
import { execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { printDeployOutcome, printPlan } from "../render.js";

interface RollbackFlags extends CommonFlags {
  to: number;
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  killOrphans?: boolean;
}

export function registerRollback(program: Command): void {
  withCommonOptions(program.command("rollback").description("plan and apply the difference back to an earlier revision (see history)"))
    .addOption(intOption("--to <revision>", "revision number to return to").makeOptionMandatory())
    .option("-y, --yes", "confirm deletes without asking (needed when there is no terminal)")
    .option("--force", "allow deleting modules of a protected target")
    .option("--force-unlock", "take the target's lock even if its holder looks alive")
    .option("--kill-orphans", "kill a hook script an interrupted deploy left running instead of waiting for it to finish (it then runs again)")
    .action((flags: RollbackFlags) =>
      execute("rollback", flags, async ({ out, ctx }) => {
        ctx.reporter.plan = (p, where) => printPlan(out, p, `Rollback plan for ${where} to revision ${flags.to}`);
        const r = await rollback({ ...projectOptions(flags), to: flags.to, yes: flags.yes, force: flags.force, forceUnlock: flags.forceUnlock, killOrphans: flags.killOrphans }, ctx);
        return { fields: deploymentView(r), error: deploymentFailure(r, "rollback"), text: () => printDeployOutcome(out, r, "rollback") };
      }),
    );
}
