// Public JSON of `ttl show`, `ttl extend`, `ttl pin`, `ttl unpin`, and the `ttl` of `status`.
import { z } from "zod";
import type { TtlInfo, TtlResult } from "../operations/ttl.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

export const ttlInfoSchema = lazy(() =>
  z.strictObject({
    /** target: everything deployed is destroyed at due_at; endpoints: each endpoint at its own expires_at. */
    scope: z.enum(["target", "endpoints"]),
    after: z.string(),
    notify_before: z.string().nullable(),
    /** not_started | armed (counting down) | retrying (a deletion failed and is retried) | expired (destroyed by the ttl) | destroyed (by a person) */
    status: z.string(),
    deployed_at: z.string().nullable(),
    deployed_by: z.string().nullable(),
    /** When the target is destroyed (null when no deletion is pending). */
    due_at: z.string().nullable(),
    /** ms left until due_at (negative: overdue, the next pass destroys it); null while pinned or when nothing is pending. */
    remaining_ms: z.number().int().nullable(),
    /** Added by `ttl extend` since the last deploy. */
    extended_ms: z.number().int(),
    pinned_by: z.string().nullable(),
    pinned_at: z.string().nullable(),
    /** Deletion attempts of this clock (a failed one is retried at next_attempt_at). */
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    /** The notifications sent for this clock: deletion_upcoming, deletion_done, deletion_failed per channel. */
    notifications: z.array(z.strictObject({ event: z.string(), channel: z.string(), status: z.string(), attempts: z.number().int(), error: z.string().nullable(), at: z.string() })),
    endpoints: z.array(z.strictObject({ name: z.string(), expires_at: z.string().nullable() })),
  }),
);

export function ttlInfoView(t: TtlInfo): Infer<typeof ttlInfoSchema> {
  return {
    scope: t.scope,
    after: t.after,
    notify_before: t.notifyBefore,
    status: t.status,
    deployed_at: t.deployedAt,
    deployed_by: t.deployedBy,
    due_at: t.dueAt,
    remaining_ms: t.remainingMs,
    extended_ms: t.extendedMs,
    pinned_by: t.pinnedBy,
    pinned_at: t.pinnedAt,
    attempts: t.attempts,
    last_error: t.lastError,
    next_attempt_at: t.nextAttemptAt,
    finished_at: t.finishedAt,
    notifications: t.deliveries.map((d) => ({ ...d })),
    endpoints: t.endpoints.map((e) => ({ name: e.name, expires_at: e.expiresAt })),
  };
}

export const ttlSchema = lazy(() => z.strictObject({ project: z.string(), target: z.string(), ttl: ttlInfoSchema().nullable() }));

export function ttlView(r: TtlResult): Infer<typeof ttlSchema> {
  return { project: r.project, target: r.target, ttl: r.ttl ? ttlInfoView(r.ttl) : null };
}

export { countdown } from "./countdown.js";
