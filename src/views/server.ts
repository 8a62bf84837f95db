// Public JSON of `server` (printed once it listens), `server stop`, `schema` and the hidden runner.
import { z } from "zod";
import type { ServerStatus } from "../serving/control.js";
import type { ServerInfo } from "../serving/server-file.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

export const serverSchema = lazy(() => z.strictObject({ url: z.string(), port: z.number().int(), pid: z.number().int(), home: z.string(), started_at: z.string() }));

/** Never the admin token. */
export function serverView(info: ServerInfo, home: string): Infer<typeof serverSchema> {
  return { url: info.url, port: info.port, pid: info.pid, home, started_at: info.startedAt };
}

export const serverStopSchema = lazy(() => z.strictObject({ stopped: z.boolean(), url: z.string().nullable(), pid: z.number().int().nullable() }));

/** `stopped: false` (and nulls) when no server was running. */
export function serverStopView(stopped: Pick<ServerInfo, "url" | "pid"> | undefined): Infer<typeof serverStopSchema> {
  return stopped ? { stopped: true, url: stopped.url, pid: stopped.pid } : { stopped: false, url: null, pid: null };
}

const servedVersionSchema = z.strictObject({ model: z.string(), version: z.number().int(), percent: z.number(), ready: z.boolean(), replicas: z.number().int(), ready_replicas: z.number().int(), pids: z.array(z.number().int()) });
export const serverStatusSchema = lazy(() =>
  z.strictObject({
    running: z.boolean(),
    url: z.string().nullable(),
    pid: z.number().int().nullable(),
    port: z.number().int().nullable(),
    started_at: z.string().nullable(),
    uptime_s: z.number().nullable(),
    idle_exit_ms: z.number().nullable(),
    stopping: z.boolean().nullable(),
    restoring: z.array(z.string()),
    endpoints: z.array(z.strictObject({ name: z.string(), project: z.string(), target: z.string(), config_version: z.number().int(), ready: z.boolean(), served: z.array(servedVersionSchema) })),
  }),
);

/** What the running server says about itself; `running: false` (and nulls) when none runs. Never the admin token. */
export function serverStatusView(s: ServerStatus | undefined): Infer<typeof serverStatusSchema> {
  if (!s) return { running: false, url: null, pid: null, port: null, started_at: null, uptime_s: null, idle_exit_ms: null, stopping: null, restoring: [], endpoints: [] };
  return {
    running: true,
    url: s.url,
    pid: s.pid,
    port: s.port,
    started_at: s.started_at,
    uptime_s: s.uptime_s,
    idle_exit_ms: s.idle_exit_ms,
    stopping: s.stopping,
    restoring: [...s.restoring],
    endpoints: s.endpoints.map((e) => ({
      name: e.name,
      project: e.project,
      target: e.target,
      config_version: e.config_version,
      ready: e.ready,
      served: e.served.map((v) => ({ model: v.model, version: v.version, percent: v.percent, ready: v.ready, replicas: v.replicas, ready_replicas: v.ready_replicas, pids: [...v.pids] })),
    })),
  };
}

export const schemaDocSchema = lazy(() => z.strictObject({ schema: z.record(z.string(), z.unknown()) }));

export function schemaDocView(schema: Record<string, unknown>): Infer<typeof schemaDocSchema> {
  return { schema };
}

export const runnerSchema = lazy(() => z.strictObject({ run: z.string() }));
