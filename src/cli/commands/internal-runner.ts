import type { Command } from "commander";
import { runDir } from "../../runs/paths.js";
import { executeRun } from "../../runs/runner.js";
import { execute } from "../common.js";

/** The process an executor starts for a run (hidden from help: not for people). */
export function registerInternalRunner(program: Command): void {
  program
    .command("internal-runner", { hidden: true })
    .argument("<run>", "run id")
    .action((run: string) =>
      execute("internal-runner", {}, async ({ env }) => {
        await executeRun(run, runDir(env.home, run), env);
        return { fields: { run } };
      }),
    );
}
