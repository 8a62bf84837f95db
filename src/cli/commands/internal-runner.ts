import type { Command } from "commander";
import { execute } from "../common.js";

/** The process an executor starts for a run (hidden from help: not for people). */
export function registerInternalRunner(program: Command): void {
  program
    .command("internal-runner", { hidden: true })
    .argument("<run>", "run id")
    .action((run: string) =>
      execute("internal-runner", {}, async ({ env }) => {
        const [{ runDir }, { executeRun }] = await Promise.all([import("../../runs/paths.js"), import("../../runs/runner.js")]);
        await executeRun(run, runDir(env.home, run), env);
        return { fields: { run } };
      }),
    );
}
