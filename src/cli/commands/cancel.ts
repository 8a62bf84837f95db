import type { Command } from "commander";
import { cancelRun } from "../../operations/runs.js";
import { runSummaryView } from "../../views/runs.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

export function registerCancel(program: Command): void {
  withCommonOptions(program.command("cancel").description("stop a run: its runner and every process its tasks started"))
    .argument("<run>", "run id (or a unique prefix)")
    .action((run: string, flags: CommonFlags) =>
      execute("cancel", flags, async ({ out, ctx }) => {
        const r = await cancelRun({ ...projectOptions(flags), run }, ctx);
        return { fields: runSummaryView(r), text: () => out.line(`${r.id} ${r.status}.`) };
      }),
    );
}
