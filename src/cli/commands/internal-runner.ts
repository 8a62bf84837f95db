import type { Command } from "commander";
import { readRuntimeEnv } from "../../env.js";
import { runDir } from "../../runs/paths.js";
import { executeRun } from "../../runs/runner.js";
import { setExit } from "./validate.js";

/** The process an executor starts for a run (hidden from help: not for people). */
export function registerInternalRunner(program: Command): void {
  program
    .command("internal-runner", { hidden: true })
    .argument("<run>", "run id")
    .action(async (run: string) => {
      const env = readRuntimeEnv();
      await executeRun(run, runDir(env.home, run), env);
      setExit(0);
    });
}
