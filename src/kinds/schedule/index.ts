// A schedule (`schedule.NAME`): runs a job on a cron. Recorded today; the control-plane server fires it.
import { defineKind } from "../kind.js";
import { checkCron } from "../cron.js";
import { recordOnly, replaceOnModuleChange } from "../record-only.js";
import { scheduleSchema, type ScheduleBlock } from "./schema.js";

export type ScheduleSpec = {
  module: string;
  description?: string;
  job: string;
  cron: string;
  timezone?: string;
  params?: Record<string, string | number | boolean>;
  paused?: boolean;
};

export const scheduleKind = defineKind<ScheduleSpec, ScheduleBlock>({
  kind: "schedule",
  section: { key: "schedules", schema: scheduleSchema },
  compile({ phase: _phase, ...rest }, cx) {
    checkCron(rest.cron, rest.timezone, cx.at(["cron"]), cx.report);
    return { module: cx.module.name, ...rest };
  },
  references: (spec) => [{ kind: "job", name: spec.job, path: ["job"] }],
  provider: recordOnly(),
  changeKind: replaceOnModuleChange,
});
