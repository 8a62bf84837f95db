import type { Command } from "commander";
import { execute, intOption } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";
import { printDeployOutcome } from "../render.js";

interface RollbackFlags extends ProjectFlags {
  to: number;
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  killOrphans?: boolean;
}

export function registerRollback(program: Command): void {
  withProjectOptions(program.command("rollback").description("plan and apply the difference back to an earlier revision (see history)"))
    .addOption(intOption("--to <revision>", "revision number to return to").makeOptionMandatory())
    .option("-y, --yes", "confirm deletes without asking (needed when there is no terminal, and with --server)")
    .option("--force", "allow deleting modules of a protected target")
    .option("--force-unlock", "take the target's lock even if its holder looks alive")
    .option("--kill-orphans", "kill a hook script an interrupted deploy left running instead of waiting for it to finish (it then runs again)")
    .action((flags: RollbackFlags) =>
      execute("rollback", flags, async (rt) => {
        const args = { to: flags.to, yes: flags.yes, force: flags.force, forceUnlock: flags.forceUnlock, killOrphans: flags.killOrphans };
        const { fields, error } = await onProject(rt, flags, "rollback", args, { planHeading: (where) => `Rollback plan for ${where} to revision ${flags.to}` });
        return { fields, error, text: () => printDeployOutcome(rt.out, fields, "rollback") };
      }),
    );
}
