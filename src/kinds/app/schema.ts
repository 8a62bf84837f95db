import { z } from "zod";
import { duration, envName, permissions, phase, scalar } from "../../config/schema.js";

export const APP_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** Variables Slipway sets for every app process; the config may not set them. */
export const RESERVED_APP_ENV = ["PORT", "SLIPWAY_TOKEN", "SLIPWAY_SERVER", "SLIPWAY_APP", "SLIPWAY_APP_PREFIX"] as const;

export const appSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  source: z.string().min(1).describe("Folder bundled and run, relative to module.yaml"),
  command: z.string().min(1).describe("Starts the app's web server in the bundle's folder; it listens on 127.0.0.1:$PORT"),
  health: z.string().regex(/^\/[^\s]*$/, 'a path such as "/healthz"').optional().describe('Path answering 200 once the app is ready (default "/")'),
  env: z.record(envName, scalar).optional(),
  environment: z.string().min(1).optional().describe("A compute environment (resources.compute) the app runs in"),
  replicas: z.number().int().min(1).max(16).optional(),
  startup_timeout: duration.optional().describe('How long the app may take to answer its health path (default "60s")'),
  anonymous: z.boolean().optional().describe("Anyone reaching the server may use the app, without signing in (default false)"),
  permissions: permissions.optional(),
});
export type AppBlock = z.infer<typeof appSchema>;
