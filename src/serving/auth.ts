// Bearer tokens and endpoint permissions: CAN_QUERY (or CAN_MANAGE) lets a caller query an endpoint.
// A token is shown once; state keeps only its sha256. The group `users` means every token holder.
import { systemClock, type Clock } from "../clock.js";
import { randomBytes } from "node:crypto";
import type { Permission } from "../config/schema.js";
import type { TokenStore } from "../store/state/model-store.js";
import { sha256 } from "../util/hash.js";

export interface Identity {
  user: string;
  groups: string[];
}

export async function createToken(tokens: TokenStore, identity: Identity, description: string | null, at: string): Promise<string> {
  const token = `swt_${randomBytes(24).toString("base64url")}`;
  await tokens.add({ token_hash: sha256(token), user: identity.user, groups: JSON.stringify(identity.groups), description, created_at: at });
  return token;
}

/** Verifies tokens against state, remembering answers briefly (the hot path must not hit SQLite per request). */
export class TokenVerifier {
  private readonly cache = new Map<string, { identity: Identity | null; until: number }>();
  constructor(
    private readonly tokens: TokenStore,
    private readonly ttlMs = 5000,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The identity of a valid token verified less than ttlMs ago, without waiting; undefined otherwise (ask `identify`). */
  known(token: string): Identity | undefined {
    const hit = this.cache.get(token);
    return hit && hit.until > this.clock.now() ? (hit.identity ?? undefined) : undefined;
  }

  async identify(token: string): Promise<Identity | null> {
    const now = this.clock.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.identity;
    // Revoked and expired tokens are refused; a revocation takes effect within ttlMs (the cache).
    const identity = (await this.tokens.active(sha256(token), new Date(now).toISOString())) ?? null;
    // Only valid tokens are remembered (callers choose token strings), and the memory is bounded.
    if (identity) {
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(token, { identity, until: now + this.ttlMs });
    }
    return identity;
  }
}

const QUERY_LEVELS = new Set(["CAN_QUERY", "CAN_MANAGE"]);

export function canQuery(identity: Identity, grants: readonly Permission[]): boolean {
  return grants.some(
    (g) =>
      QUERY_LEVELS.has(g.level) &&
      ((g.user !== undefined && g.user === identity.user) ||
        (g.service_principal !== undefined && g.service_principal === identity.user) ||
        (g.group !== undefined && (g.group === "users" || identity.groups.includes(g.group)))),
  );
}
