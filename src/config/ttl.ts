// A target's `ttl` in one shape. `ttl: 24h` (the first form) destroys each endpoint of the target 24 h
// after its last deploy; `ttl: { after: 24h }` destroys everything deployed to the target 24 h after its
// last deploy, with deletion_upcoming sent `notify_before` ahead.
import { parseDuration } from "../util/duration.js";
import type { TargetConfig } from "./schema.js";

export interface TargetTtl {
  after: string;
  afterMs: number;
  scope: "target" | "endpoints";
  notifyBefore: string | null;
  notifyBeforeMs: number;
}

export function targetTtl(config: Pick<TargetConfig, "ttl">): TargetTtl | undefined {
  const t = config.ttl;
  if (t === undefined) return undefined;
  if (typeof t === "string") return { after: t, afterMs: parseDuration(t), scope: "endpoints", notifyBefore: null, notifyBeforeMs: 0 };
  return { after: t.after, afterMs: parseDuration(t.after), scope: t.scope ?? "target", notifyBefore: t.notify_before ?? null, notifyBeforeMs: t.notify_before ? parseDuration(t.notify_before) : 0 };
}

/** The TTL each endpoint carries (scope endpoints only). */
export function endpointTtl(config: Pick<TargetConfig, "ttl">): string | undefined {
  const t = targetTtl(config);
  return t?.scope === "endpoints" ? t.after : undefined;
}
