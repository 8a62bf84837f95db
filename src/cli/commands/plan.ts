import type { Command } from "commander";
import { plan } from "../../operations/deploy.js";
import { planView } from "../../views/deployments.js";
import { collect, execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { printPlan } from "../render.js";

interface PlanFlags extends CommonFlags {
  phase?: number;
  module?: string[];
  withDeps?: boolean;
}

export function registerPlan(program: Command): void {
  withCommonOptions(program.command("plan").description("show what deploy would create, update, replace and delete"))
    .addOption(intOption("--phase <n>", "plan everything with phase <= N (and the removal of later phases)"))
    .option("--module <name>", "plan only this module (repeatable)", collect, [])
    .option("--with-deps", "include the modules' dependencies")
    .action((flags: PlanFlags) =>
      execute("plan", flags, async ({ out, ctx }) => {
        const r = await plan({ ...projectOptions(flags), phase: flags.phase, modules: flags.module, withDeps: flags.withDeps }, ctx);
        return { fields: planView(r), text: () => printPlan(out, r.plan, `Plan for ${r.project}/${r.target}`) };
      }),
    );
}
