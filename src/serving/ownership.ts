// Who may manage (and so query) an endpoint without any grant: its owner, the user whose deploy
// created it (as in Databricks, where an endpoint's creator has CAN_MANAGE). The owner is recorded in
// the endpoint's state (outputs.owner) and kept by later deploys, whoever runs them.
import type { Permission } from "../config/schema.js";

const QUERYING = new Set(["CAN_QUERY", "CAN_MANAGE"]);

/** The grants the server enforces: the configured ones plus CAN_MANAGE for the owner. */
export function withOwner(grants: readonly Permission[], owner: string | undefined): Permission[] {
  if (!owner || grants.some((g) => g.level === "CAN_MANAGE" && g.user === owner)) return [...grants];
  return [...grants, { level: "CAN_MANAGE", user: owner } as Permission];
}

/** The owner an endpoint keeps: the recorded one, else (first deploy, or recorded before owners) the deploying user. */
export function endpointOwner(recorded: { owner?: unknown } | undefined, user: string): string {
  return typeof recorded?.owner === "string" && recorded.owner ? recorded.owner : user;
}

/**
 * Warnings for endpoints a deploy created that no one but their owner can query: no configured
 * grant with CAN_QUERY or CAN_MANAGE.
 */
export function accessWarnings(
  done: ReadonlyArray<{ kind: string; action: string; address: string; desired?: { name: string; spec: Record<string, unknown> } }>,
  recorded: ReadonlyArray<{ address: string; outputs: Record<string, unknown> }>,
): string[] {
  const warnings: string[] = [];
  for (const a of done) {
    if (a.kind !== "endpoint" || a.action !== "create" || !a.desired) continue;
    const access = (a.desired.spec.access as Permission[] | undefined) ?? [];
    if (access.some((g) => QUERYING.has(g.level))) continue;
    const owner = recorded.find((r) => r.address === a.address)?.outputs.owner;
    warnings.push(
      `endpoint ${a.desired.name} has no permission that allows queries (CAN_QUERY or CAN_MANAGE): only its owner ${String(owner)} (CAN_MANAGE as the user who first deployed it) can query it; grant others access under \`permissions:\` (for example { level: CAN_QUERY, group: users })`,
    );
  }
  return warnings;
}
