import type { Command } from "commander";
import { collect, execute, intOption } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";
import { describeDrift, printPlan } from "../render.js";

interface PlanFlags extends ProjectFlags {
  phase?: number;
  module?: string[];
  withDeps?: boolean;
  reconcile?: boolean;
}

export function registerPlan(program: Command): void {
  withProjectOptions(program.command("plan").description("show what deploy would create, update, replace and delete"))
    .addOption(intOption("--phase <n>", "plan everything with phase <= N (and the removal of later phases)"))
    .option("--module <name>", "plan only this module (repeatable)", collect, [])
    .option("--with-deps", "include the modules' dependencies")
    .option("--reconcile", "also plan undoing drift: update compute environments whose installed libraries differ from the config's pins")
    .action((flags: PlanFlags) =>
      execute("plan", flags, async (rt) => {
        const { fields: r } = await onProject(rt, flags, "plan", { phase: flags.phase, modules: flags.module, withDeps: flags.withDeps, reconcile: flags.reconcile });
        const { out } = rt;
        const text = () => {
          printPlan(out, r, `Plan for ${r.project}/${r.target}`);
          if (r.drift.length) {
            out.line(out.style("yellow", `Drift: installed libraries that differ from the config${flags.reconcile ? " (this plan updates them back)" : " (deploy keeps them; plan or deploy with --reconcile to undo)"}:`));
            for (const d of r.drift) out.line(`  ${describeDrift(d)}`);
          }
        };
        return { fields: r, text };
      }),
    );
}
