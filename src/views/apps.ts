// Public JSON of the apps commands.
import { z } from "zod";
import type { AppLogs, AppView } from "../operations/apps.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

export const appsSchema = lazy(() =>
  z.strictObject({
    apps: z.array(
      z.strictObject({
        name: z.string(),
        url: z.string(),
        state: z.enum(["running", "degraded", "restoring", "failed", "not_running"]),
        /** Why it failed to start, when it did. */
        message: z.string().nullable(),
        config_version: z.number().int(),
        bundle: z.string(),
        replicas: z.number().int(),
        ready_replicas: z.number().int(),
        restarts: z.number().int(),
        pids: z.array(z.number().int()),
        anonymous: z.boolean(),
        deployed_at: z.string(),
        owner: z.string().nullable(),
        recent_logs: z.array(z.string()),
      }),
    ),
  }),
);

export function appsView(list: AppView[]): Infer<typeof appsSchema> {
  return {
    apps: list.map((a) => ({
      name: a.name,
      url: a.url,
      state: a.state,
      message: a.message,
      config_version: a.configVersion,
      bundle: a.bundle,
      replicas: a.replicas,
      ready_replicas: a.readyReplicas,
      restarts: a.restarts,
      pids: a.pids,
      anonymous: a.anonymous,
      deployed_at: a.deployedAt,
      owner: a.owner,
      recent_logs: a.recentLogs,
    })),
  };
}

export const appLogsSchema = lazy(() => z.strictObject({ name: z.string(), lines: z.array(z.string()), offset: z.number().int() }));

export function appLogsView(l: AppLogs): Infer<typeof appLogsSchema> {
  return { name: l.name, lines: l.lines, offset: l.offset };
}
