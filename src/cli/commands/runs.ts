import type { Command } from "commander";
import { execute, intOption } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";
import { printRunDetails } from "../render.js";

export function registerRuns(program: Command): void {
  const runs = withProjectOptions(program.command("runs").description("runs of a target's jobs, newest first (a run whose runner died shows as lost)"))
    .option("--job <name>", "only this job's runs")
    .addOption(intOption("--limit <n>", "how many to show").default(20))
    .action((flags: ProjectFlags & { job?: string; limit: number }) =>
      execute("runs", flags, async (rt) => {
        const { out } = rt;
        const { fields } = await onProject(rt, flags, "runs", { job: flags.job, limit: flags.limit });
        const text = () => {
          if (fields.runs.length === 0) return out.line("no runs yet.");
          out.line(`${"RUN".padEnd(18)}${"JOB".padEnd(20)}${"STATUS".padEnd(11)}${"CREATED".padEnd(26)}DURATION`);
          for (const r of fields.runs) out.line(`${r.id.padEnd(18)}${r.job.padEnd(20)}${r.status.padEnd(11)}${r.created_at.padEnd(26)}${r.duration_ms === null ? "-" : `${(r.duration_ms / 1000).toFixed(1)}s`}`);
        };
        return { fields, text };
      }),
    );
  withProjectOptions(runs.command("show").description("a run's tasks, timings, exit codes, params, results and provenance"))
    .argument("<run>", "run id (or a unique prefix)")
    .action((run: string, flags: ProjectFlags) =>
      execute("runs show", flags, async (rt) => {
        const { fields } = await onProject(rt, flags, "runs show", { run });
        return { fields, text: () => printRunDetails(rt.out, fields, true) };
      }),
    );
  withProjectOptions(runs.command("results").description("what the run wrote to results.json (and metrics.json) under $SLIPWAY_OUTPUT_DIR"))
    .argument("<run>", "run id (or a unique prefix)")
    .action((run: string, flags: ProjectFlags) =>
      execute("runs results", flags, async (rt) => {
        const { fields } = await onProject(rt, flags, "runs results", { run });
        // JSON either way: without --json, the fields alone (the job's own data is the point).
        return { fields, text: () => rt.out.document(fields) };
      }),
    );
}
