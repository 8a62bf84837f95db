import { z } from "zod";
import { permissions, phase } from "../../config/schema.js";

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
  inference_table: z.strictObject({ sample: z.number().min(0).max(1), max_body_bytes: z.number().int().positive().optional() }).optional(),
  permissions: permissions.optional(),
});
export type EndpointBlock = z.infer<typeof endpointSchema>;
