// Public JSON of `server` (printed once it listens), `server stop`, `schema` and the hidden runner.
import { z } from "zod";
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

export const schemaDocSchema = lazy(() => z.strictObject({ schema: z.record(z.string(), z.unknown()) }));

export function schemaDocView(schema: Record<string, unknown>): Infer<typeof schemaDocSchema> {
  return { schema };
}

export const runnerSchema = lazy(() => z.strictObject({ run: z.string() }));
