import type { Command } from "commander";
import { collect, execute } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";
import { printDeployOutcome } from "../render.js";

interface DestroyFlags extends ProjectFlags {
  module?: string[];
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  killOrphans?: boolean;
}

export function registerDestroy(program: Command): void {
  withProjectOptions(program.command("destroy").description("remove what is deployed to a target (all modules, or --module NAME), dependents first"))
    .option("--module <name>", "destroy only this module (repeatable); refused while deployed modules depend on it", collect, [])
    .option("-y, --yes", "confirm without asking (needed when there is no terminal, and with --server)")
    .option("--force", "needed as well as confirmation for a protected target")
    .option("--force-unlock", "take the target's lock even if its holder looks alive")
    .option("--kill-orphans", "kill a hook script an interrupted deploy left running instead of waiting for it to finish (it then runs again)")
    .action((flags: DestroyFlags) =>
      execute("destroy", flags, async (rt) => {
        const args = { modules: flags.module, yes: flags.yes, force: flags.force, forceUnlock: flags.forceUnlock, killOrphans: flags.killOrphans };
        const { fields, error } = await onProject(rt, flags, "destroy", args, { planHeading: (where) => `Destroy plan for ${where}` });
        return { fields, error, text: () => printDeployOutcome(rt.out, fields, "destroy") };
      }),
    );
}
