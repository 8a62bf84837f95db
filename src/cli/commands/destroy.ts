import type { Command } from "commander";
import { destroy } from "../../operations/destroy.js";
import { collect, execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { deployJson, printDeployOutcome, printPlan } from "../render.js";
import { setExit } from "./validate.js";

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
      execute(flags, async ({ out, ctx }) => {
        ctx.reporter.plan = (p, where) => printPlan(out, p, `Destroy plan for ${where}`);
        const r = await destroy({ ...projectOptions(flags), modules: flags.module, yes: flags.yes, force: flags.force, forceUnlock: flags.forceUnlock, killOrphans: flags.killOrphans }, ctx);
        if (out.json) out.document(deployJson(r));
        else printDeployOutcome(out, r, "destroy");
        return r.status === "failed" ? 1 : 0;
      }).then(setExit),
    );
}
