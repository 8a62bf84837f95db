import { z } from "zod";
import { phase } from "../../config/schema.js";

export const hookSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "hook names use letters, digits, _, . and -"),
  deploy: z.string().min(1).describe("Script run on deploy, relative to module.yaml"),
  destroy: z.string().min(1).optional().describe("Script run on destroy"),
  phase: phase.optional(),
});
export type HookBlock = z.infer<typeof hookSchema>;
