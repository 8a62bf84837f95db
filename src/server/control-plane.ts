// The control plane's own operations (tokens, users, groups, permissions, the audit log), for the API
// and for the embedded CLI alike: each asks the one Authorizer and appends every change to the audit log.
// Identity lives in the state database of SLIPWAY_HOME (the server's home), whatever the targets use.
import { loadHomeConfig } from "../config/home-config.js";
import { iso, type Clock } from "../clock.js";
import { toUserName, type RuntimeEnv } from "../env.js";
import { InvalidInputError } from "../errors.js";
import type { AccessLevel, ControlPlaneAccess } from "../operations/context.js";
import { openStores, type Stores } from "../store/open.js";
import type { Actor } from "./auth/actor.js";
import { AuditLog, type AuditEvent, type AuditFilter, type AuditRow, type VerifyResult } from "./auth/audit.js";
import { Authorizer } from "./auth/authorize.js";
import { IdentityStore, type PrincipalRow, type Scope, type TokenInfo } from "./auth/identity-store.js";
import { isLevel } from "./auth/levels.js";

export interface GrantRequest {
  level: string;
  principalKind: "user" | "group" | "service_principal";
  principal: string;
  project: string;
  /** "" for every target of the project */
  target: string;
  /** "" for the whole target */
  resource: string;
}

export interface GrantListing extends Scope {
  principal_kind: string;
  principal: string;
  level: string;
  source: "api" | "owner";
}

export class ControlPlane {
  readonly identities: IdentityStore;
  readonly authorizer: Authorizer;
  readonly audit: AuditLog;

  constructor(
    readonly stores: Stores,
    readonly clock: Clock,
  ) {
    this.identities = new IdentityStore(stores.state);
    this.authorizer = new Authorizer(this.identities, clock);
    this.audit = new AuditLog(stores.state, clock);
  }

  now(): string {
    return iso(this.clock.now());
  }

  /** Runs a change and appends it to the audit log with its outcome (the error code when it fails). */
  async audited<T>(actor: Actor, event: Omit<AuditEvent, "actor" | "client" | "outcome">, change: () => Promise<T>, detail?: (result: T) => Record<string, unknown>): Promise<T> {
    try {
      const result = await change();
      await this.audit.append({ ...event, actor: actor.name, client: actor.client, outcome: "ok", detail: { ...event.detail, ...detail?.(result) } });
      return result;
    } catch (e) {
      await this.audit.append({ ...event, actor: actor.name, client: actor.client, outcome: (e as { code?: string }).code ?? "internal" });
      throw e;
    }
  }

  // ---- tokens
  async createToken(actor: Actor, options: { user?: string; groups?: string[]; description?: string; expiresInMs?: number }): Promise<{ token: string; info: TokenInfo }> {
    // One rule for names everywhere (env.ts): a token's user and groups are checked before anything is written.
    const user = options.user === undefined ? actor.name : toUserName(options.user, "--user");
    for (const g of options.groups ?? []) toUserName(g, "--group");
    if (user !== actor.name || options.groups?.length) this.authorizer.requireAdmin(actor, user !== actor.name ? `create a token for ${user}` : "create a token with groups");
    if (options.expiresInMs !== undefined && !(options.expiresInMs > 0)) throw new InvalidInputError([{ message: "a token's expiry must be in the future", hint: "for example --expires-in 30d" }], "invalid_request");
    const expiresAt = options.expiresInMs !== undefined ? iso(this.clock.now() + options.expiresInMs) : null;
    return this.audited(actor, { action: "token create", resource: user }, () => this.identities.createToken(user, { description: options.description ?? null, expiresAt, groups: options.groups }, this.now()), (r) => ({ token_id: r.info.id, expires_at: r.info.expires_at }));
  }

  async listTokens(actor: Actor, user?: string): Promise<TokenInfo[]> {
    if (!actor.admin) {
      if (user !== undefined && user !== actor.name) this.authorizer.requireAdmin(actor, `list the tokens of ${user}`);
      return this.identities.tokens(actor.name);
    }
    return this.identities.tokens(user);
  }

  async revokeToken(actor: Actor, id: string): Promise<TokenInfo> {
    const token = await this.identities.findToken(id);
    if (token.user !== actor.name) this.authorizer.requireAdmin(actor, `revoke a token of ${token.user}`);
    return this.audited(actor, { action: "token revoke", resource: token.user, detail: { token_id: token.id } }, async () => {
      await this.identities.revokeToken(token.hash, this.now());
      return (await this.identities.findToken(token.id));
    });
  }

  // ---- users and groups
  async createUser(actor: Actor, name: string, options: { servicePrincipal?: boolean; admin?: boolean }): Promise<PrincipalRow & { groups: string[] }> {
    this.authorizer.requireAdmin(actor, "create users");
    toUserName(name, options.servicePrincipal ? "service principal" : "user");
    const kind = options.servicePrincipal ? "service_principal" : "user";
    const row = await this.audited(actor, { action: `${kind === "user" ? "user" : "service principal"} create`, resource: name, detail: { admin: !!options.admin } }, () => this.identities.createPrincipal(name, kind, !!options.admin, actor.name, this.now()));
    return { ...row, groups: [] };
  }

  async listUsers(actor: Actor): Promise<Array<PrincipalRow & { groups: string[] }>> {
    this.authorizer.requireAdmin(actor, "list users");
    const [principals, groups] = await Promise.all([this.identities.principals(), this.identities.groups()]);
    return principals.map((p) => ({ ...p, groups: groups.filter((g) => g.members.includes(p.name)).map((g) => g.name) }));
  }

  async addMember(actor: Actor, group: string, member: string): Promise<boolean> {
    toUserName(group, "group");
    this.authorizer.requireAdmin(actor, "change groups");
    return this.audited(actor, { action: "group add", resource: member, detail: { group } }, async () => {
      const before = await this.identities.groupsOf(member);
      await this.identities.addMember(group, member, this.now());
      return !before.includes(group);
    });
  }

  async removeMember(actor: Actor, group: string, member: string): Promise<boolean> {
    this.authorizer.requireAdmin(actor, "change groups");
    return this.audited(actor, { action: "group remove", resource: member, detail: { group } }, () => this.identities.removeMember(group, member));
  }

  async listGroups(actor: Actor): Promise<Array<{ name: string; members: string[] }>> {
    this.authorizer.requireAdmin(actor, "list groups");
    return this.identities.groups();
  }

  // ---- permissions
  private async requireManage(actor: Actor, scope: Scope, what: string): Promise<void> {
    if (scope.target === "") return this.authorizer.requireAdmin(actor, `${what} on every target of ${scope.project}`);
    await this.authorizer.authorize(actor, { level: "CAN_MANAGE", project: scope.project, target: scope.target, address: scope.resource || undefined, operation: what });
  }

  async grant(actor: Actor, g: GrantRequest): Promise<{ grant: GrantListing; changed: boolean }> {
    const { scope, level } = checkGrant(g);
    await this.requireManage(actor, scope, "grant permissions");
    return this.audited(actor, { action: "permission grant", project: scope.project, target: scope.target, resource: scope.resource, detail: { level, [g.principalKind]: g.principal } }, async () => {
      const before = await this.identities.grants(scope.project, scope.target || undefined);
      const row = await this.identities.grant(scope, g.principalKind, g.principal, level, actor.name, this.now());
      const changed = !before.some((b) => b.target === scope.target && b.resource === scope.resource && b.principal_kind === g.principalKind && b.principal === g.principal && b.level === level);
      return { grant: { ...row, source: "api" as const }, changed };
    });
  }

  async revoke(actor: Actor, g: GrantRequest): Promise<{ grant: GrantListing; changed: boolean }> {
    const { scope, level } = checkGrant(g);
    await this.requireManage(actor, scope, "revoke permissions");
    return this.audited(actor, { action: "permission revoke", project: scope.project, target: scope.target, resource: scope.resource, detail: { level, [g.principalKind]: g.principal } }, async () => {
      const changed = await this.identities.revokeGrant(scope, g.principalKind, g.principal, level);
      return { grant: { ...scope, principal_kind: g.principalKind, principal: g.principal, level, source: "api" as const }, changed };
    });
  }

  /** Grants made through the API, and target owners; a non-administrator must name a target they can view. */
  async listGrants(actor: Actor, project?: string, target?: string): Promise<GrantListing[]> {
    if (!actor.admin) {
      if (project === undefined || target === undefined) this.authorizer.requireAdmin(actor, "list permissions of every target");
      await this.authorizer.authorize(actor, { level: "CAN_VIEW", project: project!, target: target!, operation: "list permissions" });
    }
    const rows = await this.identities.grants(project, target);
    const owners = await this.identities.owners(project, target);
    return [...owners.map((o) => ({ project: o.project, target: o.target, resource: "", principal_kind: "user", principal: o.owner, level: "CAN_MANAGE", source: "owner" as const })), ...rows.map((r) => ({ ...r, source: "api" as const }))];
  }

  // ---- audit
  async auditEntries(actor: Actor, filter: AuditFilter): Promise<AuditRow[]> {
    this.authorizer.requireAdmin(actor, "read the audit log");
    return this.audit.list(filter);
  }

  async auditVerify(actor: Actor): Promise<VerifyResult> {
    this.authorizer.requireAdmin(actor, "verify the audit log");
    return this.audit.verify();
  }
}

function checkGrant(g: GrantRequest): { scope: Scope; level: AccessLevel } {
  if (!isLevel(g.level)) throw new InvalidInputError([{ message: `unknown permission level "${g.level}"`, hint: "levels: CAN_VIEW, CAN_RUN, CAN_MANAGE, CAN_QUERY" }], "invalid_request");
  if (!g.project) throw new InvalidInputError([{ message: "a grant names a project", hint: "name it: PROJECT, PROJECT/TARGET or PROJECT/TARGET/ADDRESS" }], "invalid_request");
  if (g.resource && !g.target) throw new InvalidInputError([{ message: "a grant on one resource names its target too", hint: "PROJECT/TARGET/job.train" }], "invalid_request");
  return { scope: { project: g.project, target: g.target, resource: g.resource }, level: g.level };
}

/** Opens the control plane of SLIPWAY_HOME (its state database, SLIPWAY_HOME/config.yaml's `state` or state.db; migrated). */
export async function openControlPlane(env: RuntimeEnv): Promise<ControlPlane> {
  return new ControlPlane(await openStores(env.home, loadHomeConfig(env.home, env.processEnv), env.storePool), env.clock);
}

/**
 * The local home's control-plane side of a target's permissions (for the embedded `status`): grants
 * made with `slipway permissions grant` and the claimed owner, read from SLIPWAY_HOME's state database.
 */
export function localControlPlaneAccess(env: RuntimeEnv): (project: string, target: string) => Promise<ControlPlaneAccess> {
  return async (project, target) => {
    const cp = await openControlPlane(env);
    try {
      return { grants: await cp.identities.grants(project, target), owner: (await cp.identities.owner(project, target)) ?? null };
    } finally {
      await cp.stores.close();
    }
  };
}
