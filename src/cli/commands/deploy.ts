import type { Command } from "commander";
import { deploy } from "../../operations/deploy.js";
import { deploymentFailure, deploymentView } from "../../views/deployments.js";
import { collect, execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { printDeployOutcome, printPlan } from "../render.js";

interface DeployFlags extends CommonFlags {
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
  withCommonOptions(program.command("deploy").description("apply the plan to a target; each successful deploy is a numbered revision"))
    .addOption(intOption("--phase <n>", "deploy everything with phase <= N; later phases' resources are removed"))
    .option("--module <name>", "deploy only this module (repeatable); its dependencies must be deployed", collect, [])
    .option("--with-deps", "also deploy the modules' dependencies")
    .option("--reconcile", "also undo drift: reinstall the config's pins in compute environments where another version was installed by hand")
    .option("-y, --yes", "confirm deletes without asking (needed when there is no terminal)")
    .option("--force", "allow deleting modules of a protected target")
    .option("--force-unlock", "take the target's lock even if its holder looks alive")
    .option("--kill-orphans", "kill a hook script an interrupted deploy left running instead of waiting for it to finish (it then runs again)")
    .action((flags: DeployFlags) =>
      execute("deploy", flags, async ({ out, ctx }) => {
        ctx.reporter.plan = (p, where) => printPlan(out, p, `Plan for ${where}`);
        const r = await deploy({ ...projectOptions(flags), phase: flags.phase, modules: flags.module, withDeps: flags.withDeps, reconcile: flags.reconcile, yes: flags.yes, force: flags.force, forceUnlock: flags.forceUnlock, killOrphans: flags.killOrphans }, ctx);
        return { fields: deploymentView(r), error: deploymentFailure(r, "deploy"), text: () => printDeployOutcome(out, r, "deploy") };
      }),
    );
}
