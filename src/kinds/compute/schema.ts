import { z } from "zod";
import { LIBRARY, phase } from "../../config/schema.js";

export const computeSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  python: z
    .string()
    .min(1)
    .optional()
    .describe('Interpreter the environment is made from: "3" or "3.11" (python3, python3.11 on PATH) or a path such as /usr/bin/python3; default "3"'),
  libraries: z
    .array(z.string().regex(LIBRARY, 'a library is ARTIFACT@VERSION, e.g. "dqm@2.6.10"'))
    .optional()
    .describe("Artifacts installed from the target's artifact store, offline"),
  ephemeral: z.boolean().optional().describe("Created by each run that needs it and deleted when the run ends"),
  pip: z.boolean().optional().describe("Give the environment its own pip (slower to create); by default the interpreter's pip installs into it"),
});
export type ComputeBlock = z.infer<typeof computeSchema>;
