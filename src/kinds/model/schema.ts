import { z } from "zod";
import { permissions, phase, scalar } from "../../config/schema.js";

export const modelSchema = z.strictObject({
  name: z.string().min(1).optional().describe("Registered name (defaults to the key)"),
  description: z.string().optional(),
  phase: phase.optional(),
  tags: z.record(z.string(), scalar).optional(),
  permissions: permissions.optional(),
});
export type ModelBlock = z.infer<typeof modelSchema>;
