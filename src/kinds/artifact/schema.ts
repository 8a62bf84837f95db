import { z } from "zod";
import { ARTIFACT_TYPES, phase, VERSION } from "../../config/schema.js";

export const artifactSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  type: z.enum(ARTIFACT_TYPES).describe("python_wheel: a wheel built offline; npm: `npm pack`; archive: a .tar.gz of the folder"),
  path: z.string().min(1).describe("The package folder, relative to module.yaml"),
  version: z
    .string()
    .regex(VERSION, "versions use letters, digits, '.', '_', '+', '!' and '-'")
    .max(128)
    .optional()
    .describe("archive only: the version (default: derived from the content); wheels and npm packages take theirs from their metadata"),
  python: z.string().min(1).optional().describe("Interpreter used to build wheels (default python3)"),
  retention: z
    .strictObject({ keep_last: z.number().int().min(1).describe("`artifacts gc` keeps the newest N published versions (and every version in use)") })
    .optional(),
});
export type ArtifactBlock = z.infer<typeof artifactSchema>;
