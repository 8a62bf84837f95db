// The `slipway` command line: a thin door onto the operations in src/operations.
import { Command, CommanderError } from "commander";
import { registerDeploy } from "./commands/deploy.js";
import { registerDestroy } from "./commands/destroy.js";
import { registerHistory } from "./commands/history.js";
import { registerPlan } from "./commands/plan.js";
import { registerRollback } from "./commands/rollback.js";
import { registerSchema } from "./commands/schema.js";
import { registerSettings } from "./commands/settings.js";
import { registerStatus } from "./commands/status.js";
import { registerValidate } from "./commands/validate.js";
import { registerArtifacts } from "./commands/artifacts.js";
import { registerBundle } from "./commands/bundle.js";
import { registerArchives } from "./commands/archives.js";
import { registerCancel } from "./commands/cancel.js";
import { registerModels } from "./commands/models.js";
import { registerEndpoints } from "./commands/endpoints.js";
import { registerApps } from "./commands/apps.js";
import { registerServer } from "./commands/server.js";
import { registerInternalRunner } from "./commands/internal-runner.js";
import { registerLogs } from "./commands/logs.js";
import { registerRun } from "./commands/run.js";
import { registerSweep } from "./commands/sweep.js";
import { registerRuns } from "./commands/runs.js";
import { registerIdentity } from "./commands/identity.js";
import { registerLogin } from "./commands/login.js";
import { registerJobs, registerSchedules } from "./commands/schedules.js";
import { registerTtl } from "./commands/ttl.js";
import { registerPipelines } from "./commands/pipelines.js";
import { registerExport } from "./commands/export.js";
import { inheritCommonOptions, reportError, withCommonOptions } from "./common.js";
import { exitCodeOf } from "../error-codes.js";
import { envelope } from "../views/envelope.js";
import { failureView } from "../views/error-view.js";
import { Output } from "./output.js";
import { registerFirstHour } from "./first-hour.js";

export function buildProgram(): Command {
  const program = new Command("slipway")
    .description("Slipway: plan, deploy, run and serve ML systems across environments (dev, qa, prod).")
    .version("0.1.0")
    .showSuggestionAfterError(true)
    .exitOverride();
  withCommonOptions(program);
  inheritCommonOptions(program);
  for (const register of [registerValidate, registerPlan, registerDeploy, registerDestroy, registerStatus, registerHistory, registerRollback, registerSettings, registerRun, registerSweep, registerRuns, registerJobs, registerSchedules, registerPipelines, registerTtl, registerBundle, registerArchives, registerModels, registerEndpoints, registerApps, registerServer, registerLogs, registerCancel, registerArtifacts, registerIdentity, registerLogin, registerExport, registerSchema, registerInternalRunner]) register(program);
  registerFirstHour(program);
  program.addHelpText("after", "\nExit codes: 0 success, 1 failure, 2 invalid input, 3 refused (lock held, protection, confirmation missing).");
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // A closed pipe (`slipway plan | head`) must not crash a command, let alone a deploy mid-apply:
  // output just stops.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are exit 0. Usage errors are invalid input: commander has said why on stderr,
      // and with --json stdout gets the error document like any other failure.
      if (e.exitCode === 0) return 0;
      if (argv.includes("--json")) {
        // Our own usage errors (src/cli/first-hour.ts) carry their hint on a second line.
        const [message = "", hint] = e.message.replace(/^error: /, "").split("\n  hint: ");
        new Output(true, false).document(envelope({}, failureView("invalid_usage", message, hint ?? "see slipway --help, or slipway <command> --help")));
      }
      return exitCodeOf("invalid_usage");
    }
    // Anything thrown outside a command's execute() (e.g. an invalid SLIPWAY_USER): same report, no stack.
    return reportError(e, new Output(argv.includes("--json"), false));
  }
}
