import { z } from "zod";
import { duration, permissions, phase } from "../../config/schema.js";

const stageSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(["run", "deploy", "approval", "wait", "destroy", "notify"]),
  job: z.string().optional(),
  target: z.string().optional(),
  phase: z.number().int().min(0).optional(),
  duration: duration.optional(),
  message: z.string().optional(),
  when: z.string().optional(),
  depends_on: z.array(z.string()).optional(),
});
export const pipelineSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  stages: z.array(stageSchema).min(1),
  triggers: z
    .strictObject({
      manual: z.boolean().optional(),
      branch: z.string().optional(),
      cron: z.string().optional(),
    })
    .optional(),
  permissions: permissions.optional(),
});
export type PipelineBlock = z.infer<typeof pipelineSchema>;
