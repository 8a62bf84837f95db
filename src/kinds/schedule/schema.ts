import { z } from "zod";
import { phase, scalar } from "../../config/schema.js";

export const scheduleSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  job: z.string().min(1),
  cron: z.string().min(1).describe('Five-field cron, e.g. "0 2 * * *"'),
  timezone: z.string().optional(),
  params: z.record(z.string(), scalar).optional(),
  paused: z.boolean().optional(),
});
export type ScheduleBlock = z.infer<typeof scheduleSchema>;
