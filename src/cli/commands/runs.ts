import type { Command } from "commander";
import { listRuns, showRun } from "../../operations/runs.js";
import { execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { printRunDetails, snakeKeys } from "../render.js";
import { setExit } from "./validate.js";

export function registerRuns(program: Command): void {
  const runs = withCommonOptions(program.command("runs").description("runs of a target's jobs, newest first (a run whose runner died shows as lost)"))
    .option("--job <name>", "only this job's runs")
    .addOption(intOption("--limit <n>", "how many to show").default(20))
    .action((flags: CommonFlags & { job?: string; limit: number }) =>
      execute(flags, async ({ out, ctx }) => {
        const list = await listRuns({ ...projectOptions(flags), job: flags.job, limit: flags.limit }, ctx);
        if (out.json) return out.document(snakeKeys(list));
        if (list.length === 0) return out.line("no runs yet.");
        out.line(`${"RUN".padEnd(18)}${"JOB".padEnd(20)}${"STATUS".padEnd(11)}${"CREATED".padEnd(26)}DURATION`);
        for (const r of list) out.line(`${r.id.padEnd(18)}${r.job.padEnd(20)}${r.status.padEnd(11)}${r.createdAt.padEnd(26)}${r.durationMs === null ? "-" : `${(r.durationMs / 1000).toFixed(1)}s`}`);
      }).then(setExit),
    );
  withCommonOptions(runs.command("show").description("a run's tasks, timings, exit codes, params, results and provenance"))
    .argument("<run>", "run id (or a unique prefix)")
    .action((run: string, flags: CommonFlags) =>
      execute(flags, async ({ out, ctx }) => {
        const d = await showRun({ ...projectOptions(flags), run }, ctx);
        if (out.json) return out.document(snakeKeys(d));
        printRunDetails(out, d, true);
      }).then(setExit),
    );
  withCommonOptions(runs.command("results").description("what the run wrote to results.json (and metrics.json) under $SLIPWAY_OUTPUT_DIR"))
    .argument("<run>", "run id (or a unique prefix)")
    .action((run: string, flags: CommonFlags) =>
      execute(flags, async ({ out, ctx }) => {
        const d = await showRun({ ...projectOptions(flags), run }, ctx);
        out.document({ run: d.id, status: d.status, results: d.results, metrics: d.metrics });
      }).then(setExit),
    );
}
