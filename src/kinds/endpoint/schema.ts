import { z } from "zod";
import { duration, permissions, phase } from "../../config/schema.js";

export const ENDPOINT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export const endpointSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  served: z
    .array(
      z
        .strictObject({
          model: z.string().min(1),
          version: z.union([z.string(), z.number().int()]).optional(),
          alias: z.string().optional(),
          percent: z.number().min(0).max(100).optional(),
        })
        .refine((s) => !(s.version !== undefined && s.alias !== undefined), { message: "name either `version` or `alias`, not both" }),
    )
    .min(1),
  replicas: z.strictObject({ min: z.number().int().min(0), max: z.number().int().min(1) }).optional(),
  /** How the MLflow route answers `onnx` models: as MLflow's scoring server does, or one entry per row. */
  response_format: z.enum(["mlflow", "compact"]).optional(),
  inference_table: z
    .strictObject({
      sample: z.number().min(0).max(1).optional(),
      max_body_bytes: z.number().int().positive().optional(),
      /** Rows older than this are archived to the `misc` store, then deleted. */
      keep: duration.optional().describe('Rows older than this are archived to the misc archive store, then deleted, e.g. "30d"'),
      /** At most this many rows are kept: older ones are archived, then deleted. */
      keep_rows: z.number().int().positive().optional().describe("At most this many rows are kept; older ones are archived to the misc archive store, then deleted"),
    })
    .optional(),
  permissions: permissions.optional(),
});
export type EndpointBlock = z.infer<typeof endpointSchema>;
