import type { Command } from "commander";
import { listRuns, showRun } from "../../operations/runs.js";
import { runDetailsView, runResultsView, runsView } from "../../views/runs.js";
import { execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { printRunDetails } from "../render.js";

export function registerRuns(program: Command): void {
  const runs = withCommonOptions(program.command("runs").description("runs of a target's jobs, newest first (a run whose runner died shows as lost)"))
    .option("--job <name>", "only this job's runs")
    .addOption(intOption("--limit <n>", "how many to show").default(20))
    .action((flags: CommonFlags & { job?: string; limit: number }) =>
      execute("runs", flags, async ({ out, ctx }) => {
        const list = await listRuns({ ...projectOptions(flags), job: flags.job, limit: flags.limit }, ctx);
        const text = () => {
          if (list.length === 0) return out.line("no runs yet.");
          out.line(`${"RUN".padEnd(18)}${"JOB".padEnd(20)}${"STATUS".padEnd(11)}${"CREATED".padEnd(26)}DURATION`);
          for (const r of list) out.line(`${r.id.padEnd(18)}${r.job.padEnd(20)}${r.status.padEnd(11)}${r.createdAt.padEnd(26)}${r.durationMs === null ? "-" : `${(r.durationMs / 1000).toFixed(1)}s`}`);
        };
        return { fields: runsView(list), text };
      }),
    );
  withCommonOptions(runs.command("show").description("a run's tasks, timings, exit codes, params, results and provenance"))
    .argument("<run>", "run id (or a unique prefix)")
    .action((run: string, flags: CommonFlags) =>
      execute("runs show", flags, async ({ out, ctx }) => {
        const d = await showRun({ ...projectOptions(flags), run }, ctx);
        return { fields: runDetailsView(d), text: () => printRunDetails(out, d, true) };
      }),
    );
  withCommonOptions(runs.command("results").description("what the run wrote to results.json (and metrics.json) under $SLIPWAY_OUTPUT_DIR"))
    .argument("<run>", "run id (or a unique prefix)")
    .action((run: string, flags: CommonFlags) =>
      execute("runs results", flags, async ({ out, ctx }) => {
        const d = await showRun({ ...projectOptions(flags), run }, ctx);
        const fields = runResultsView(d);
        // JSON either way: without --json, the fields alone (the job's own data is the point).
        return { fields, text: () => out.document(fields) };
      }),
    );
}
