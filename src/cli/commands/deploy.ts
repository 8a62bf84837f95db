import type { Command } from "commander";
import { collect, execute, intOption } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";
import { printDeployOutcome } from "../render.js";

interface DeployFlags extends ProjectFlags {
  phase?: number;
  module?: string[];
  withDeps?: boolean;
  reconcile?: boolean;
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  killOrphans?: boolean;
}

export function registerDeploy(program: Command): void {
  withProjectOptions(program.command("deploy").description("apply the plan to a target; each successful deploy is a numbered revision"))
    .addOption(intOption("--phase <n>", "deploy everything with phase <= N; later phases' resources are removed"))
    .option("--module <name>", "deploy only this module (repeatable); its dependencies must be deployed", collect, [])
    .option("--with-deps", "also deploy the modules' dependencies")
    .option("--reconcile", "also undo drift: reinstall the config's pins in compute environments where another version was installed by hand")
    .option("-y, --yes", "confirm deletes without asking (needed when there is no terminal, and with --server)")
    .option("--force", "allow deleting modules of a protected target")
    .option("--force-unlock", "take the target's lock even if its holder looks alive")
    .option("--kill-orphans", "kill a hook script an interrupted deploy left running instead of waiting for it to finish (it then runs again)")
    .action((flags: DeployFlags) =>
      execute("deploy", flags, async (rt) => {
        const args = { phase: flags.phase, modules: flags.module, withDeps: flags.withDeps, reconcile: flags.reconcile, yes: flags.yes, force: flags.force, forceUnlock: flags.forceUnlock, killOrphans: flags.killOrphans };
        const { fields, error } = await onProject(rt, flags, "deploy", args, { planHeading: (where) => `Plan for ${where}` });
        return { fields, error, text: () => printDeployOutcome(rt.out, fields, "deploy") };
      }),
    );
}
