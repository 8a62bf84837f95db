import { mkdirSync } from "node:fs";
import type { Command } from "commander";
import type { RunInstructions } from "../../runs/instructions.js";
import { execute } from "../common.js";

/** The process an executor starts for a run (hidden from help: not for people). */
export function registerInternalRunner(program: Command): void {
  program
    .command("internal-runner", { hidden: true })
    .argument("<run>", "run id")
    .option("--pod", "in a Kubernetes pod: the instructions come in SLIPWAY_RUN_INSTRUCTIONS, and task lines go to standard output (the pod's log)")
    .action((run: string, flags: { pod?: boolean }) =>
      execute("internal-runner", {}, async ({ env }) => {
        const [{ runDir }, { executeRun }] = await Promise.all([import("../../runs/paths.js"), import("../../runs/runner.js")]);
        if (!flags.pod) {
          await executeRun(run, runDir(env.home, run), env);
          return { fields: { run } };
        }
        const [{ takeRunInstructions }, { SlipwayError }, { expandInstructions, STATE_URL_KEY }] = await Promise.all([import("../../env.js"), import("../../errors.js"), import("../../executors/kubernetes/transport.js")]);
        const taken = takeRunInstructions(env.processEnv);
        if (!taken.text) throw new SlipwayError("executor_failed", "internal-runner --pod: SLIPWAY_RUN_INSTRUCTIONS is not set", { hint: "this command is started by the Kubernetes executor, in a run's pod" });
        const instructions = expandInstructions(taken.text, { ...env.processEnv, ...(taken.stateUrl !== undefined ? { [STATE_URL_KEY]: taken.stateUrl } : {}) }) as unknown as RunInstructions;
        if (instructions.runId !== run) throw new SlipwayError("executor_failed", `internal-runner --pod: the instructions are for run ${instructions.runId}, not ${run}`);
        // The pod's own home (the shared one when the executor set SLIPWAY_HOME to it).
        instructions.home = env.home;
        const dir = runDir(env.home, run);
        mkdirSync(dir, { recursive: true });
        await executeRun(run, dir, env, {
          instructions,
          // The pod's log is how people follow the run: each task line, prefixed like `slipway logs` prints it.
          onLine: (task, line) => process.stdout.write(`[${task}] ${line}\n`),
        });
        return { fields: { run } };
      }),
    );
}
