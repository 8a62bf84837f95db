// Users, service principals, groups, tokens, grants and target owners of the control plane, in the
// state database of SLIPWAY_HOME (migration 0005). Tokens are stored as sha256 only and shown once;
// a token's id (what `tokens list` shows and `tokens revoke` takes) is the first 12 hex digits of its hash.
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { InvalidInputError, RefusedError } from "../../errors.js";
import type { AccessTokensTable, Database, GrantsTable, PrincipalsTable } from "../../store/state/tables.js";
import type { StateStore } from "../../store/state/state-store.js";
import { sha256 } from "../../util/hash.js";
import type { Actor } from "./actor.js";

export type PrincipalKind = "user" | "service_principal";
export type PrincipalRow = PrincipalsTable;
export type GrantRow = GrantsTable;

export interface TokenInfo {
  id: string;
  user: string;
  groups: string[];
  description: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

/** A scope of grants: a project (target ""), a target (resource ""), or one resource of a target. */
export interface Scope {
  project: string;
  target: string;
  resource: string;
}

export const TOKEN_ID_LENGTH = 12;

export function tokenInfo(row: AccessTokensTable): TokenInfo {
  return { id: row.token_hash.slice(0, TOKEN_ID_LENGTH), user: row.user, groups: JSON.parse(row.groups) as string[], description: row.description, created_at: row.created_at, expires_at: row.expires_at, revoked_at: row.revoked_at };
}

export class IdentityStore {
  private readonly db: Kysely<Database>;
  constructor(private readonly state: StateStore) {
    this.db = state.db;
  }

  // ---- principals
  async principal(name: string): Promise<PrincipalRow | undefined> {
    return this.db.selectFrom("principals").selectAll().where("name", "=", name).executeTakeFirst();
  }

  async principals(): Promise<PrincipalRow[]> {
    return (await this.db.selectFrom("principals").selectAll().orderBy("name").execute()).map((p) => ({ ...p, admin: Number(p.admin) }));
  }

  async anyAdmin(): Promise<boolean> {
    return !!(await this.db.selectFrom("principals").select("name").where("admin", "=", 1).limit(1).executeTakeFirst());
  }

  async createPrincipal(name: string, kind: PrincipalKind, admin: boolean, by: string, at: string): Promise<PrincipalRow> {
    checkName(name, kind === "user" ? "user" : "service principal");
    if (await this.principal(name)) throw new RefusedError("principal_exists", `${name} already exists`, { hint: "`slipway users list` shows every user and service principal" });
    const row: PrincipalRow = { name, kind, admin: admin ? 1 : 0, created_at: at, created_by: by };
    await this.db.insertInto("principals").values(row).execute();
    return row;
  }

  async requirePrincipal(name: string): Promise<PrincipalRow> {
    const p = await this.principal(name);
    if (!p) throw new InvalidInputError([{ message: `no user or service principal named ${name}`, hint: "`slipway users list` shows them; `slipway users create NAME` adds one" }], "unknown_user");
    return { ...p, admin: Number(p.admin) };
  }

  /** The actor a token speaks for, or undefined (unknown, revoked, expired). Tokens made before users existed speak for a plain user. */
  async authenticate(token: string, at: string, client: string): Promise<Actor | undefined> {
    const identity = await this.state.tokens().active(sha256(token), at);
    if (!identity) return undefined;
    const p = await this.principal(identity.user);
    return { name: identity.user, kind: p?.kind === "service_principal" ? "service_principal" : "user", admin: Number(p?.admin ?? 0) === 1, groups: identity.groups, client };
  }

  // ---- groups
  async addMember(group: string, member: string, at: string): Promise<void> {
    checkName(group, "group");
    await this.requirePrincipal(member);
    await this.db.insertInto("group_members").values({ group_name: group, member, added_at: at }).onConflict((oc) => oc.columns(["group_name", "member"]).doNothing()).execute();
  }

  async removeMember(group: string, member: string): Promise<boolean> {
    const r = await this.db.deleteFrom("group_members").where("group_name", "=", group).where("member", "=", member).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async groups(): Promise<Array<{ name: string; members: string[] }>> {
    const rows = await this.db.selectFrom("group_members").selectAll().orderBy("group_name").orderBy("member").execute();
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.group_name, [...(out.get(r.group_name) ?? []), r.member]);
    return [...out].map(([name, members]) => ({ name, members }));
  }

  async groupsOf(member: string): Promise<string[]> {
    return (await this.db.selectFrom("group_members").select("group_name").where("member", "=", member).orderBy("group_name").execute()).map((r) => r.group_name);
  }

  // ---- tokens
  async createToken(user: string, options: { description: string | null; expiresAt: string | null; groups?: string[] }, at: string): Promise<{ token: string; info: TokenInfo }> {
    const token = `swt_${randomBytes(24).toString("base64url")}`;
    const row: AccessTokensTable = { token_hash: sha256(token), user, groups: JSON.stringify(options.groups ?? []), description: options.description, created_at: at, expires_at: options.expiresAt, revoked_at: null };
    await this.state.tokens().add(row);
    return { token, info: tokenInfo(row) };
  }

  /** Adds a token whose value the operator chose (SLIPWAY_BOOTSTRAP_TOKEN), unless it is known already. */
  async adoptToken(user: string, token: string, description: string, at: string): Promise<void> {
    if (await this.state.tokens().find(sha256(token))) return;
    await this.state.tokens().add({ token_hash: sha256(token), user, groups: "[]", description, created_at: at });
  }

  async tokens(user?: string): Promise<TokenInfo[]> {
    return (await this.state.tokens().list(user)).map(tokenInfo);
  }

  /** The one token whose id starts with `id` (at least 6 characters). */
  async findToken(id: string): Promise<TokenInfo & { hash: string }> {
    const matches = id.length >= 6 ? (await this.state.tokens().list()).filter((t) => t.token_hash.startsWith(id)) : [];
    if (matches.length !== 1) {
      throw new InvalidInputError([{ message: matches.length ? `token id ${id} is ambiguous (${matches.length} tokens)` : `no token with id ${id}`, hint: "`slipway tokens list` shows token ids (12 characters)" }], "unknown_token");
    }
    return { ...tokenInfo(matches[0]!), hash: matches[0]!.token_hash };
  }

  async revokeToken(hash: string, at: string): Promise<void> {
    await this.state.tokens().revoke(hash, at);
  }

  // ---- grants
  async grant(scope: Scope, principalKind: string, principal: string, level: string, by: string, at: string): Promise<GrantRow> {
    const row: GrantRow = { ...scope, principal_kind: principalKind, principal, level, created_at: at, created_by: by };
    await this.db.insertInto("grants").values(row).onConflict((oc) => oc.columns(["project", "target", "resource", "principal_kind", "principal", "level"]).doNothing()).execute();
    return row;
  }

  async revokeGrant(scope: Scope, principalKind: string, principal: string, level: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom("grants")
      .where("project", "=", scope.project)
      .where("target", "=", scope.target)
      .where("resource", "=", scope.resource)
      .where("principal_kind", "=", principalKind)
      .where("principal", "=", principal)
      .where("level", "=", level)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Grants of a project (all its targets), optionally of one target (with the project-wide ones). */
  async grants(project?: string, target?: string): Promise<GrantRow[]> {
    let q = this.db.selectFrom("grants").selectAll();
    if (project !== undefined) q = q.where("project", "=", project);
    if (target !== undefined) q = q.where("target", "in", ["", target]);
    return q.orderBy("project").orderBy("target").orderBy("resource").orderBy("principal_kind").orderBy("principal").orderBy("level").execute();
  }

  // ---- owners
  async owners(project?: string, target?: string): Promise<Array<{ project: string; target: string; owner: string }>> {
    let q = this.db.selectFrom("target_owners").select(["project", "target", "owner"]);
    if (project !== undefined) q = q.where("project", "=", project);
    if (target !== undefined) q = q.where("target", "=", target);
    return q.orderBy("project").orderBy("target").execute();
  }

  async owner(project: string, target: string): Promise<string | undefined> {
    return (await this.db.selectFrom("target_owners").select("owner").where("project", "=", project).where("target", "=", target).executeTakeFirst())?.owner;
  }

  /** Records the owner unless the target has one; returns the owner it has. */
  async claim(project: string, target: string, owner: string, at: string): Promise<string> {
    await this.db.insertInto("target_owners").values({ project, target, owner, since: at }).onConflict((oc) => oc.columns(["project", "target"]).doNothing()).execute();
    return (await this.owner(project, target)) ?? owner;
  }
}

function checkName(name: string, what: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/.test(name)) {
    throw new InvalidInputError([{ message: `"${name}" is not a valid ${what} name`, hint: "letters, digits, '.', '_', '@' and '-', starting with a letter or digit" }], "invalid_request");
  }
}
