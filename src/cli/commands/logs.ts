import type { Command } from "commander";
import { execute } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

export function registerLogs(program: Command): void {
  withProjectOptions(program.command("logs").description("print a run's logs; -f follows them until the run finishes"))
    .argument("<run>", "run id (or a unique prefix)")
    .option("--task <name>", "only this task's log")
    .option("-f, --follow", "keep printing until the run finishes")
    .action((run: string, flags: ProjectFlags & { task?: string; follow?: boolean }) =>
      execute("logs", flags, async (rt) => {
        const { out } = rt;
        const lines: Array<{ task: string; line: string }> = [];
        const print = (task: string, line: string) => (out.json ? lines.push({ task, line }) : out.line(flags.task ? line : `[${task}] ${line}`));
        // Lines are printed as they come (the document then holds none of them, except with --json).
        const { fields, error } = await onProject(rt, flags, "logs", { run, task: flags.task, follow: flags.follow, onLine: print });
        // A server answers without follow with the lines in the document.
        for (const l of fields.lines) print(l.task, l.line);
        // Following a run ends with its outcome, like `run --wait`; the lines were printed as they came.
        return { fields: { ...fields, lines }, error };
      }),
    );
}
