import type { Command } from "commander";
import { runLogs } from "../../operations/runs.js";
import { logsView, runFailure } from "../../views/runs.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

export function registerLogs(program: Command): void {
  withCommonOptions(program.command("logs").description("print a run's logs; -f follows them until the run finishes"))
    .argument("<run>", "run id (or a unique prefix)")
    .option("--task <name>", "only this task's log")
    .option("-f, --follow", "keep printing until the run finishes")
    .action((run: string, flags: CommonFlags & { task?: string; follow?: boolean }) =>
      execute("logs", flags, async ({ out, ctx }) => {
        const lines: Array<{ task: string; line: string }> = [];
        const r = await runLogs(
          { ...projectOptions(flags), run, task: flags.task, follow: flags.follow, onLine: (task, line) => (out.json ? lines.push({ task, line }) : out.line(flags.task ? line : `[${task}] ${line}`)) },
          ctx,
        );
        // Following a run ends with its outcome, like `run --wait`; the lines were printed as they came.
        return { fields: logsView(r, lines), error: flags.follow ? runFailure(r) : undefined };
      }),
    );
}
