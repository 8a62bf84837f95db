import type { Command } from "commander";
import { plan } from "../../operations/deploy.js";
import { planView } from "../../views/deployments.js";
import { collect, execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { printPlan } from "../render.js";
import { describeDrift } from "../../compute/drift.js";

interface PlanFlags extends CommonFlags {
  phase?: number;
  module?: string[];
  withDeps?: boolean;
  reconcile?: boolean;
}

export function registerPlan(program: Command): void {
  withCommonOptions(program.command("plan").description("show what deploy would create, update, replace and delete"))
    .addOption(intOption("--phase <n>", "plan everything with phase <= N (and the removal of later phases)"))
    .option("--module <name>", "plan only this module (repeatable)", collect, [])
    .option("--with-deps", "include the modules' dependencies")
    .option("--reconcile", "also plan undoing drift: update compute environments whose installed libraries differ from the config's pins")
    .action((flags: PlanFlags) =>
      execute("plan", flags, async ({ out, ctx }) => {
        const r = await plan({ ...projectOptions(flags), phase: flags.phase, modules: flags.module, withDeps: flags.withDeps, reconcile: flags.reconcile }, ctx);
        const text = () => {
          printPlan(out, r.plan, `Plan for ${r.project}/${r.target}`);
          if (r.drift.length) {
            out.line(out.style("yellow", `Drift: installed libraries that differ from the config${flags.reconcile ? " (this plan updates them back)" : " (deploy keeps them; plan or deploy with --reconcile to undo)"}:`));
            for (const d of r.drift) out.line(`  ${describeDrift(d)}`);
          }
        };
        return { fields: planView(r), text };
      }),
    );
}
