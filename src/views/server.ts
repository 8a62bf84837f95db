// Public JSON of `server` (printed once it listens), `server stop`, `schema` and the hidden runner.
import { z } from "zod";
import type { ServerStatus } from "../serving/control.js";
import type { ServerInfo } from "../serving/server-file.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

export const serverSchema = lazy(() =>
  z.strictObject({
    url: z.string(),
    port: z.number().int(),
    pid: z.number().int(),
    home: z.string(),
    started_at: z.string(),
    /** The first administrator, made on this start: its token is shown this once (null when it came from SLIPWAY_BOOTSTRAP_TOKEN). */
    bootstrap_admin: z.strictObject({ user: z.string(), token: z.string().nullable() }).nullable(),
  }),
);

/** Never the serving admin token; the bootstrap administrator's token only on the start that made it. */
export function serverView(info: ServerInfo, home: string, bootstrap: { user: string; token: string | null } | null = null): Infer<typeof serverSchema> {
  return { url: info.url, port: info.port, pid: info.pid, home, started_at: info.startedAt, bootstrap_admin: bootstrap && { user: bootstrap.user, token: bootstrap.token } };
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
    /** Background work (shared by every server on this state): each loop or unit, its last run and its next. */
    background: z.array(
      z.strictObject({
        unit: z.string(),
        /** host:pid of the server that ran it last. */
        owner: z.string().nullable(),
        last_started_at: z.string().nullable(),
        last_finished_at: z.string().nullable(),
        /** ok | failed | running */
        last_outcome: z.string().nullable(),
        last_message: z.string().nullable(),
        next_at: z.string().nullable(),
      }),
    ),
    /** The inference table's writer: rows written since the start, dropped because its queue was full, queued now, the queue's bound, failed writes. */
    inference_log: z.strictObject({ written: z.number().int(), dropped: z.number().int(), queued: z.number().int(), max_queued: z.number().int(), write_failures: z.number().int() }).nullable(),
  }),
);

/** What the running server says about itself; `running: false` (and nulls) when none runs. Never the admin token. */
export function serverStatusView(s: ServerStatus | undefined): Infer<typeof serverStatusSchema> {
  if (!s) return { running: false, url: null, pid: null, port: null, started_at: null, uptime_s: null, idle_exit_ms: null, stopping: null, restoring: [], endpoints: [], background: [], inference_log: null };
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
    background: (s.background ?? []).map((b) => ({ unit: b.unit, owner: b.owner, last_started_at: b.last_started_at, last_finished_at: b.last_finished_at, last_outcome: b.last_outcome, last_message: b.last_message, next_at: b.next_at })),
    inference_log: s.inference_log
      ? { written: s.inference_log.written, dropped: s.inference_log.dropped, queued: s.inference_log.queued, max_queued: s.inference_log.max_queued, write_failures: s.inference_log.write_failures }
      : null,
  };
}

export const schemaDocSchema = lazy(() => z.strictObject({ schema: z.record(z.string(), z.unknown()) }));

export function schemaDocView(schema: Record<string, unknown>): Infer<typeof schemaDocSchema> {
  return { schema };
}

export const runnerSchema = lazy(() => z.strictObject({ run: z.string() }));
