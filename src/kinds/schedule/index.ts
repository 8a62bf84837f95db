// A schedule (`schedule.NAME`): runs a job on a cron. Deploying records it; the server's schedules loop
// (src/server/background/schedules.ts) fires it.
import { defineKind } from "../kind.js";
import { checkCron } from "../cron.js";
import { recordOnly, replaceOnModuleChange } from "../record-only.js";
import { scheduleSchema, type ScheduleBlock } from "./schema.js";

export type ScheduleSpec = {
  module: string;
  description?: string;
  job: string;
  cron: string;
  /** IANA zone the cron is read in (default UTC). */
  timezone: string;
  params?: Record<string, string | number | boolean>;
  paused: boolean;
  /** Due times missed while no server ran: none skips them, once starts one run for them. */
  catch_up: "none" | "once";
  /** When the previous run of this schedule still runs. */
  concurrency: "skip" | "queue" | "cancel_previous";
};

export const scheduleKind = defineKind<ScheduleSpec, ScheduleBlock>({
  kind: "schedule",
  section: { key: "schedules", schema: scheduleSchema },
  compile({ phase: _phase, ...rest }, cx) {
    checkCron(rest.cron, rest.timezone, cx.at(["cron"]), cx.report);
    return { module: cx.module.name, ...rest, timezone: rest.timezone ?? "UTC", paused: rest.paused ?? false, catch_up: rest.catch_up ?? "none", concurrency: rest.concurrency ?? "skip" };
  },
  references: (spec) => [{ kind: "job", name: spec.job, path: ["job"] }],
  provider: recordOnly(),
  changeKind: replaceOnModuleChange,
});
