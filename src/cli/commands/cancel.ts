import type { Command } from "commander";
import { execute } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

export function registerCancel(program: Command): void {
  withProjectOptions(program.command("cancel").description("stop a run: its runner and every process its tasks started"))
    .argument("<run>", "run id (or a unique prefix)")
    .action((run: string, flags: ProjectFlags) =>
      execute("cancel", flags, async (rt) => {
        const { fields: r } = await onProject(rt, flags, "cancel", { run });
        return { fields: r, text: () => rt.out.line(`${r.id} ${r.status}.`) };
      }),
    );
}
