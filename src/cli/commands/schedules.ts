import type { Command } from "commander";
import type { FieldsOf } from "../../views/documents.js";
import { InvalidInputError, SlipwayError } from "../../errors.js";
import { parseDuration } from "../../util/duration.js";
import { execute } from "../common.js";
import type { Output } from "../output.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

export function registerSchedules(program: Command): void {
  const schedules = program.command("schedules").description("deployed schedules: next fire times, last fires, pause and unpause (the server fires them)");
  withProjectOptions(schedules.command("list").description("the target's deployed schedules: cron and time zone, policies, next fire time, last fire"))
    .action((flags: ProjectFlags) =>
      execute("schedules list", flags, async (rt) => {
        const { out } = rt;
        const { fields: r } = await onProject(rt, flags, "schedules list", {});
        const text = () => {
          if (r.schedules.length === 0) return out.line(`no schedule is deployed to ${r.project}/${r.target}.`);
          for (const s of r.schedules) printSchedule(out, s);
          if (!r.server_running) out.line("note: no Slipway server runs for this SLIPWAY_HOME, so nothing fires (deploy starts it; or run `slipway server`).");
        };
        return { fields: r, text };
      }),
    );
  for (const paused of [true, false]) {
    const name = paused ? "pause" : "unpause";
    withProjectOptions(schedules.command(name).description(paused ? "stop a deployed schedule from firing (overrides its config until `unpause`)" : "let a paused schedule fire again from its next due time (times while paused are not caught up)"))
      .argument("<name>", "schedule name")
      .action((schedule: string, flags: ProjectFlags) =>
        execute(`schedules ${name}`, flags, async (rt) => {
          const { fields: r } = await onProject(rt, flags, `schedules ${name}`, { name: schedule });
          return { fields: r, text: () => printSchedule(rt.out, r.schedule) };
        }),
      );
  }
  registerWait(schedules);
}

/** How often `schedules wait` asks; a fire is seen within this time. */
const WAIT_POLL_MS = 1000;

function registerWait(schedules: Command): void {
  withProjectOptions(schedules.command("wait").description("wait until a deployed schedule fires next (the server starts its run), then show it"))
    .argument("<name>", "schedule name")
    .option("--timeout <duration>", "give up after this long (e.g. 90s, 10m)", "2m")
    .action((schedule: string, flags: ProjectFlags & { timeout: string }) =>
      execute("schedules wait", flags, async (rt) => {
        let timeoutMs: number;
        try {
          timeoutMs = parseDuration(flags.timeout);
        } catch {
          throw new InvalidInputError([{ message: `--timeout "${flags.timeout}" is not a duration`, hint: "write a number and a unit: 90s, 10m, 2h" }], "invalid_flag");
        }
        const find = async () => {
          const { fields: r } = await onProject(rt, flags, "schedules list", {});
          const s = r.schedules.find((x) => x.name === schedule);
          if (!s) throw new SlipwayError("unknown_schedule", `no schedule "${schedule}" is deployed to ${r.project}/${r.target}`, { hint: `deployed: ${r.schedules.map((x) => x.name).join(", ") || "none"} (slipway schedules list)` });
          return { r, s };
        };
        const first = await find();
        const before = first.s.last?.due_at ?? null;
        const deadline = rt.env.clock.now() + timeoutMs;
        for (;;) {
          const { r, s } = await find();
          // A fire is a new due time the server has handled: "claimed" (its run being started) and
          // "queued" (waiting for the previous run) are not yet.
          if (s.last && s.last.due_at !== before && s.last.status !== "queued" && s.last.status !== "claimed") {
            const fields = { project: r.project, target: r.target, schedule: s };
            return { fields, text: () => printSchedule(rt.out, s) };
          }
          if (rt.env.clock.now() >= deadline) {
            const why = s.paused ? "it is paused" : !r.server_running ? "no Slipway server runs for this SLIPWAY_HOME" : `its next due time is ${s.next_at}`;
            throw new SlipwayError("schedule_wait_timeout", `schedule ${schedule} did not fire within ${flags.timeout}: ${why}`, { hint: "slipway schedules list shows its next fire time; a longer --timeout waits longer" });
          }
          await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
        }
      }),
    );
}

export function registerJobs(program: Command): void {
  const jobs = program.command("jobs").description("deployed jobs");
  withProjectOptions(jobs.command("list").description("the target's deployed jobs: key, title, module, schedules that run it, latest run"))
    .action((flags: ProjectFlags) =>
      execute("jobs list", flags, async (rt) => {
        const { out } = rt;
        const { fields: r } = await onProject(rt, flags, "jobs list", {});
        const text = () => {
          if (r.jobs.length === 0) return out.line(`no job is deployed to ${r.project}/${r.target}.`);
          for (const j of r.jobs) {
            out.line(`${j.name}${j.title ? `  "${j.title}"` : ""}  (module ${j.module})`);
            if (j.schedules.length) out.line(`  scheduled by ${j.schedules.join(", ")}`);
            out.line(`  last run: ${j.last_run ? `${j.last_run.id} ${j.last_run.status} (${j.last_run.trigger}, ${j.last_run.created_at})` : "none"}`);
          }
        };
        return { fields: r, text };
      }),
    );
}

function printSchedule(out: Output, s: FieldsOf<"schedules list">["schedules"][number]): void {
  out.line(`${s.name}  job ${s.job}  "${s.cron}" ${s.timezone}  catch_up ${s.catch_up}, concurrency ${s.concurrency}`);
  out.line(`  ${s.paused ? `paused (${s.paused_by})` : `next ${s.next_at}`}`);
  if (s.last) out.line(`  last ${s.last.due_at}: ${s.last.status}${s.last.run ? ` run ${s.last.run}` : ""}${s.last.message ? ` (${s.last.message})` : ""}`);
}
