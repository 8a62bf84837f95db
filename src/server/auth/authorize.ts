// The one permission check. Every API route asks it (project operations through ctx.authorize, which
// each operation calls once it knows its target; control-plane routes directly), with the actor the door
// established. Sources of grants, all evaluated by `decide`:
//   - administrators may do everything;
//   - grants made through the API (`slipway permissions grant`), on a project, a target or one resource;
//   - the target's owner (the user whose deploy first claimed it, or its first deployer) has CAN_MANAGE;
//   - the config's `permissions`, as deployed (recorded `permission.<kind>.<name>` resources), on their resource;
//   - an endpoint's owner (recorded in its state) has CAN_MANAGE on it;
//   - a target nobody has claimed (no owner, no deployment, no grant on it or its project) may be
//     deployed by any user, who becomes its owner.
import { iso, type Clock } from "../../clock.js";
import { SlipwayError } from "../../errors.js";
import type { AccessLevel, AccessRequest, RecordedAccess } from "../../operations/context.js";
import type { Actor } from "./actor.js";
import type { GrantRow, IdentityStore } from "./identity-store.js";
import { isLevel, meets } from "./levels.js";

export interface Grant {
  level: string;
  user?: string;
  group?: string;
  service_principal?: string;
}

/** Everything that decides one request (gathered by Authorizer, decided by `decide`). */
export interface Evidence {
  /** API grants of the project and target (any resource). */
  grants: GrantRow[];
  owner: string | null;
  recorded: RecordedAccess | null;
}

export function grantMatches(actor: Actor, g: Grant): boolean {
  if (g.user !== undefined) return actor.kind !== "service_principal" && g.user === actor.name;
  if (g.service_principal !== undefined) return actor.kind === "service_principal" && g.service_principal === actor.name;
  if (g.group !== undefined) return g.group === "users" || actor.groups.includes(g.group);
  return false;
}

function apiGrant(row: GrantRow): Grant {
  return { level: row.level, [row.principal_kind]: row.principal };
}

/** The levels the actor holds on the target (address undefined) or on one resource of it. */
export function levelsHeld(actor: Actor, request: Pick<AccessRequest, "project" | "target" | "address">, evidence: Evidence): Set<AccessLevel> {
  const held = new Set<AccessLevel>();
  if (actor.admin) return new Set(["CAN_MANAGE"]);
  if (evidence.owner === actor.name && actor.kind !== "service_principal") held.add("CAN_MANAGE");
  for (const row of evidence.grants) {
    if (row.project !== request.project) continue;
    if (row.target !== "" && row.target !== request.target) continue;
    if (row.resource !== "" && row.resource !== request.address) continue;
    if (isLevel(row.level) && grantMatches(actor, apiGrant(row))) held.add(row.level);
  }
  if (request.address && evidence.recorded) {
    for (const g of evidence.recorded.grants) if (g.address === request.address && isLevel(g.level) && grantMatches(actor, g)) held.add(g.level);
    for (const o of evidence.recorded.owners) if (o.address === request.address && o.owner === actor.name && actor.kind !== "service_principal") held.add("CAN_MANAGE");
  }
  return held;
}

/** Whether the evidence lets the actor do the request. */
export function decide(actor: Actor, request: AccessRequest, evidence: Evidence): boolean {
  if (actor.admin) return true;
  for (const level of levelsHeld(actor, request, evidence)) if (meets(level, request.level)) return true;
  return false;
}

/** A target nobody has claimed: no owner, no deployment, no grant on it or its project. */
export function unclaimed(request: Pick<AccessRequest, "project" | "target">, evidence: Evidence): boolean {
  return evidence.owner === null && !evidence.recorded?.firstDeployer && !evidence.grants.some((g) => g.project === request.project && (g.target === "" || g.target === request.target));
}

export class Authorizer {
  constructor(
    readonly identities: IdentityStore,
    private readonly clock: Clock,
  ) {}

  /**
   * The one check: throws `forbidden` (naming the level needed) unless the actor may. `recorded` reads
   * the target's state (config grants, endpoint owners, first deployer) and is only called when needed.
   */
  async authorize(actor: Actor, request: AccessRequest, recorded?: () => Promise<RecordedAccess>): Promise<void> {
    if (actor.admin) {
      if (request.operation === "deploy") await this.claimOnDeploy(actor, request, recorded);
      return;
    }
    const evidence = await this.evidence(request, recorded, actor);
    if (decide(actor, request, evidence)) {
      if (request.operation === "deploy" && evidence.owner === null) await this.claimOnDeploy(actor, request, recorded);
      return;
    }
    if (actor.kind === "user" && unclaimed(request, evidence) && request.level !== "CAN_QUERY" && request.level !== "CAN_USE") {
      // A new target: its first deployer becomes its owner.
      if (request.operation === "deploy") await this.identities.claim(request.project, request.target, actor.name, iso(this.clock.now()));
      return;
    }
    throw forbidden(actor, request);
  }

  /** A deploy of a target without a recorded owner: its first deployer (an earlier one, else this one) owns it. */
  private async claimOnDeploy(actor: Actor, request: AccessRequest, recorded?: () => Promise<RecordedAccess>): Promise<void> {
    if (actor.kind === "service_principal" || (await this.identities.owner(request.project, request.target))) return;
    const first = recorded ? (await recorded()).firstDeployer : null;
    await this.identities.claim(request.project, request.target, first ?? actor.name, iso(this.clock.now()));
  }

  /** Gathers what decides a request; `recorded` only when the API grants and the owner do not already allow it. */
  async evidence(request: Pick<AccessRequest, "project" | "target" | "address" | "level">, recorded?: () => Promise<RecordedAccess>, actor?: Actor): Promise<Evidence> {
    const [grants, owner] = await Promise.all([this.identities.grants(request.project, request.target), this.identities.owner(request.project, request.target)]);
    const evidence: Evidence = { grants, owner: owner ?? null, recorded: null };
    if (actor && decide(actor, { ...request, operation: "" }, evidence)) return evidence;
    if (recorded) {
      evidence.recorded = await recorded();
      if (evidence.owner === null && evidence.recorded.firstDeployer) {
        evidence.owner = await this.identities.claim(request.project, request.target, evidence.recorded.firstDeployer, iso(this.clock.now()));
      }
    }
    return evidence;
  }

  /** Administrators only (users, groups, other people's tokens, the audit log). */
  requireAdmin(actor: Actor, what: string): void {
    if (!actor.admin) throw new SlipwayError("forbidden", `${actor.name} may not ${what}: that needs an administrator`, { hint: "ask an administrator (the bootstrap admin, or a user made with `slipway users create NAME --admin`)" });
  }
}

export function forbidden(actor: Actor, request: AccessRequest): SlipwayError {
  const on = `${request.project}/${request.target}${request.address ? ` (${request.address})` : ""}`;
  return new SlipwayError("forbidden", `${actor.name} may not ${request.operation} on ${on}: that needs ${request.level}${request.level === "CAN_QUERY" || request.level === "CAN_USE" ? " (or CAN_MANAGE)" : ""}`, {
    hint: `ask someone with CAN_MANAGE on ${request.project}/${request.target} (or an administrator) to grant it: slipway permissions grant ${request.level} ${request.project}/${request.target}${request.address ? `/${request.address}` : ""} --${actor.kind === "service_principal" ? "service-principal" : "user"} ${actor.name}`,
    details: { level_needed: request.level },
  });
}
