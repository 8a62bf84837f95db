import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import { runAttached, startRun } from "../../operations/runs.js";
import { runDetailsView, runFailure, runSummaryView } from "../../views/runs.js";
import { collect, execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { printRunDetails } from "../render.js";

interface RunFlags extends CommonFlags {
  bundle?: string;
  param?: string[];
  wait?: boolean;
  keepWorkdir?: boolean;
  cache?: boolean;
  fromSource?: boolean;
}

export function registerRun(program: Command): void {
  withCommonOptions(program.command("run").description("start a run of a job deployed to the target; prints its id at once (the run goes on after this command exits)"))
    .argument("<job>", "job key, or its title (e.g. \"[dev] Entity Matching - Setup\")")
    .option("--param <name=value>", "set a job parameter (repeatable)", collect)
    .option("--wait", "run attached: stream the logs, wait for the end (Ctrl-C cancels the run); exit 1 unless it succeeded")
    .option("--keep-workdir", "keep the run's working folder afterwards")
    .option("--no-cache", "run cached tasks even if an earlier run had the same inputs")
    .option("--bundle <file>", "run the code in this bundle archive (made by `slipway bundle`) instead of the source folder")
    .option("--from-source", "run the job as the config declares it now, even if it is not deployed to the target or differs from what is (development)")
    .action((job: string, flags: RunFlags) =>
      execute("run", flags, async ({ out, ctx }) => {
        const params: Record<string, string> = Object.create(null); // --param __proto__=x is a parameter like any other
        for (const pair of flags.param ?? []) {
          const eq = pair.indexOf("=");
          if (eq <= 0) throw new InvalidInputError([{ message: `--param "${pair}" is not NAME=value`, hint: "write --param lr=0.1" }], "invalid_flag");
          params[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        const project = projectOptions(flags);
        const submit = { job, params, keepWorkdir: flags.keepWorkdir, noCache: flags.cache === false, bundleArchive: flags.bundle, fromSource: flags.fromSource };
        if (!flags.wait) {
          const run = await startRun({ ...project, ...submit }, ctx);
          return { fields: runSummaryView(run), text: () => out.line(`${run.id}  started ${job} on ${run.project}/${run.target} (follow it with: slipway logs ${run.id} -f)`) };
        }
        const done = await runAttached(
          {
            ...project,
            ...submit,
            onStarted: (run) => out.line(`${run.id}  started ${job} on ${run.project}/${run.target}`),
            onLine: (task, line) => out.line(`[${task}] ${line}`),
          },
          ctx,
        );
        return { fields: runDetailsView(done), error: runFailure(done), text: () => printRunDetails(out, done) };
      }),
    );
}
