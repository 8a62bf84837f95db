import type { Command } from "commander";
import { listJobs } from "../../operations/jobs.js";
import { listSchedules, setSchedulePaused, type ScheduleInfo } from "../../operations/schedules.js";
import { jobsView, schedulePauseView, schedulesView } from "../../views/schedules.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import type { Output } from "../output.js";

export function registerSchedules(program: Command): void {
  const schedules = program.command("schedules").description("deployed schedules: next fire times, last fires, pause and unpause (the server fires them)");
  withCommonOptions(schedules.command("list").description("the target's deployed schedules: cron and time zone, policies, next fire time, last fire"))
    .action((flags: CommonFlags) =>
      execute("schedules list", flags, async ({ out, ctx }) => {
        const r = await listSchedules(projectOptions(flags), ctx);
        const text = () => {
          if (r.schedules.length === 0) return out.line(`no schedule is deployed to ${r.project}/${r.target}.`);
          for (const s of r.schedules) printSchedule(out, s);
          if (!r.serverRunning) out.line("note: no Slipway server runs for this SLIPWAY_HOME, so nothing fires (deploy starts it; or run `slipway server`).");
        };
        return { fields: schedulesView(r), text };
      }),
    );
  for (const paused of [true, false]) {
    const name = paused ? "pause" : "unpause";
    withCommonOptions(schedules.command(name).description(paused ? "stop a deployed schedule from firing (overrides its config until `unpause`)" : "let a paused schedule fire again from its next due time (times while paused are not caught up)"))
      .argument("<name>", "schedule name")
      .action((schedule: string, flags: CommonFlags) =>
        execute(`schedules ${name}`, flags, async ({ out, ctx }) => {
          const r = await setSchedulePaused({ ...projectOptions(flags), name: schedule, paused }, ctx);
          return { fields: schedulePauseView(r), text: () => printSchedule(out, r.schedule) };
        }),
      );
  }
}

export function registerJobs(program: Command): void {
  const jobs = program.command("jobs").description("deployed jobs");
  withCommonOptions(jobs.command("list").description("the target's deployed jobs: key, title, module, schedules that run it, latest run"))
    .action((flags: CommonFlags) =>
      execute("jobs list", flags, async ({ out, ctx }) => {
        const r = await listJobs(projectOptions(flags), ctx);
        const text = () => {
          if (r.jobs.length === 0) return out.line(`no job is deployed to ${r.project}/${r.target}.`);
          for (const j of r.jobs) {
            out.line(`${j.name}${j.title ? `  "${j.title}"` : ""}  (module ${j.module})`);
            if (j.schedules.length) out.line(`  scheduled by ${j.schedules.join(", ")}`);
            out.line(`  last run: ${j.lastRun ? `${j.lastRun.id} ${j.lastRun.status} (${j.lastRun.trigger}, ${j.lastRun.createdAt})` : "none"}`);
          }
        };
        return { fields: jobsView(r), text };
      }),
    );
}

function printSchedule(out: Output, s: ScheduleInfo): void {
  out.line(`${s.name}  job ${s.job}  "${s.cron}" ${s.timezone}  catch_up ${s.catchUp}, concurrency ${s.concurrency}`);
  out.line(`  ${s.paused ? `paused (${s.pausedBy})` : `next ${s.nextAt}`}`);
  if (s.last) out.line(`  last ${s.last.dueAt}: ${s.last.status}${s.last.runId ? ` run ${s.last.runId}` : ""}${s.last.message ? ` (${s.last.message})` : ""}`);
}
