// Public JSON of `schedules list`, `schedules pause` and `schedules unpause`, and of `jobs list`.
import { z } from "zod";
import type { JobInfo } from "../operations/jobs.js";
import type { ScheduleInfo, SchedulesResult } from "../operations/schedules.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

export const scheduleSchema = lazy(() =>
  z.strictObject({
    name: z.string(),
    job: z.string(),
    cron: z.string(),
    timezone: z.string(),
    catch_up: z.enum(["none", "once"]),
    concurrency: z.enum(["skip", "queue", "cancel_previous"]),
    paused: z.boolean(),
    /** "config (paused: true)", or who paused it with `schedules pause` and when; null when not paused. */
    paused_by: z.string().nullable(),
    /** The next due time (UTC); null while paused. */
    next_at: z.string().nullable(),
    /** The latest due time the server handled: started (with its run), skipped, queued or failed, and why. */
    last: z.strictObject({ due_at: z.string(), status: z.string(), run: z.string().nullable(), message: z.string().nullable() }).nullable(),
  }),
);

export function scheduleView(s: ScheduleInfo): Infer<typeof scheduleSchema> {
  return {
    name: s.name,
    job: s.job,
    cron: s.cron,
    timezone: s.timezone,
    catch_up: s.catchUp,
    concurrency: s.concurrency,
    paused: s.paused,
    paused_by: s.pausedBy,
    next_at: s.nextAt,
    last: s.last ? { due_at: s.last.dueAt, status: s.last.status, run: s.last.runId, message: s.last.message } : null,
  };
}

export const schedulesSchema = lazy(() => z.strictObject({ project: z.string(), target: z.string(), server_running: z.boolean(), schedules: z.array(scheduleSchema()) }));

export function schedulesView(r: SchedulesResult): Infer<typeof schedulesSchema> {
  return { project: r.project, target: r.target, server_running: r.serverRunning, schedules: r.schedules.map(scheduleView) };
}

export const schedulePauseSchema = lazy(() => z.strictObject({ project: z.string(), target: z.string(), schedule: scheduleSchema() }));

export function schedulePauseView(r: { project: string; target: string; schedule: ScheduleInfo }): Infer<typeof schedulePauseSchema> {
  return { project: r.project, target: r.target, schedule: scheduleView(r.schedule) };
}

export const jobsSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    target: z.string(),
    jobs: z.array(
      z.strictObject({
        name: z.string(),
        /** The job's optional human name (`run` accepts it too). */
        title: z.string().nullable(),
        module: z.string(),
        description: z.string().nullable(),
        schedules: z.array(z.string()),
        last_run: z.strictObject({ id: z.string(), status: z.string(), trigger: z.string(), created_at: z.string() }).nullable(),
      }),
    ),
  }),
);

export function jobsView(r: { project: string; target: string; jobs: JobInfo[] }): Infer<typeof jobsSchema> {
  return {
    project: r.project,
    target: r.target,
    jobs: r.jobs.map((j) => ({
      name: j.name,
      title: j.title,
      module: j.module,
      description: j.description,
      schedules: [...j.schedules],
      last_run: j.lastRun ? { id: j.lastRun.id, status: j.lastRun.status, trigger: j.lastRun.trigger, created_at: j.lastRun.createdAt } : null,
    })),
  };
}
