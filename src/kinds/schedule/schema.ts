import { z } from "zod";
import { phase, scalar } from "../../config/schema.js";

export const scheduleSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  job: z.string().min(1),
  cron: z.string().min(1).describe('Five-field cron, e.g. "0 2 * * *"'),
  timezone: z.string().optional().describe('IANA time zone the cron is read in, e.g. "Europe/Paris" (default UTC)'),
  params: z.record(z.string(), scalar).optional(),
  paused: z.boolean().optional().describe("Deployed but not firing (`slipway schedules pause|unpause` overrides it)"),
  catch_up: z.enum(["none", "once"]).optional().describe("Due times missed while no server ran: none (default) skips them, once starts one run for them"),
  concurrency: z.enum(["skip", "queue", "cancel_previous"]).optional().describe("When the previous run still runs: skip (default) this time, queue it until the previous ends, or cancel_previous"),
});
export type ScheduleBlock = z.infer<typeof scheduleSchema>;
