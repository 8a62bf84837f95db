// The gateway's second opinion on queries: an endpoint's configured grants (and its owner) are checked
// by the gateway itself; this adds what the control plane knows — grants made through the API
// (`slipway permissions grant CAN_QUERY …`, on the project, the target or `endpoint.NAME`), the
// target's owner, and administrators — with the same rules as every API route (levelsHeld).
// Answers are remembered briefly, allowed or not, so a refused client cannot make each request a
// database read; a new grant or a revocation takes effect within `ttlMs`.
import type { Clock } from "../../clock.js";
import type { QueryAccess } from "../../serving/gateway.js";
import type { Identity } from "../../serving/auth.js";
import type { Actor } from "./actor.js";
import type { Authorizer } from "./authorize.js";
import { levelsHeld } from "./authorize.js";
import { meets } from "./levels.js";

const MAX_REMEMBERED = 10_000;

export class ControlPlaneQueryAccess implements QueryAccess {
  private readonly remembered = new Map<string, { allowed: boolean; until: number }>();

  constructor(
    private readonly authorizer: Authorizer,
    private readonly clock: Clock,
    private readonly ttlMs = 5000,
  ) {}

  async allows(identity: Identity, endpoint: { project: string; target: string; name: string }): Promise<boolean> {
    const key = [identity.user, identity.groups.join(","), endpoint.project, endpoint.target, endpoint.name].join("\0");
    const now = this.clock.now();
    const hit = this.remembered.get(key);
    if (hit && hit.until > now) return hit.allowed;
    const allowed = await this.decide(identity, endpoint);
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
    this.remembered.set(key, { allowed, until: now + this.ttlMs });
    return allowed;
  }

  private async decide(identity: Identity, endpoint: { project: string; target: string; name: string }): Promise<boolean> {
    const principal = await this.authorizer.identities.principal(identity.user);
    const actor: Actor = { name: identity.user, kind: principal?.kind === "service_principal" ? "service_principal" : "user", admin: Number(principal?.admin ?? 0) === 1, groups: identity.groups, client: "gateway" };
    if (actor.admin) return true;
    const request = { project: endpoint.project, target: endpoint.target, address: `endpoint.${endpoint.name}`, level: "CAN_QUERY" as const };
    const evidence = await this.authorizer.evidence(request);
    for (const level of levelsHeld(actor, request, evidence)) if (meets(level, "CAN_QUERY")) return true;
    return false;
  }
}
