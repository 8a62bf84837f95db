// Public JSON of the control plane's commands: tokens, users, groups, permissions, the audit log, login.
// (Also the API's answers: /api/v1 returns these same documents.)
import { z } from "zod";
import { failureView, type ErrorJson } from "./error.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

const tokenInfoSchema = () =>
  z.strictObject({ id: z.string(), user: z.string(), groups: z.array(z.string()), description: z.string().nullable(), created_at: z.string(), expires_at: z.string().nullable(), revoked_at: z.string().nullable() });

interface TokenInfoIn {
  id: string;
  user: string;
  groups: string[];
  description: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

function tokenInfoView(t: TokenInfoIn): z.infer<ReturnType<typeof tokenInfoSchema>> {
  return { id: t.id, user: t.user, groups: [...t.groups], description: t.description, created_at: t.created_at, expires_at: t.expires_at, revoked_at: t.revoked_at };
}

/** `tokens create`: the token itself, shown this once, and what is kept of it. */
export const tokenSchema = lazy(() => z.strictObject({ token: z.string(), id: z.string(), user: z.string(), groups: z.array(z.string()), description: z.string().nullable(), expires_at: z.string().nullable() }));

export function tokenView(t: { token: string; info: TokenInfoIn }): Infer<typeof tokenSchema> {
  return { token: t.token, id: t.info.id, user: t.info.user, groups: [...t.info.groups], description: t.info.description, expires_at: t.info.expires_at };
}

export const tokensSchema = lazy(() => z.strictObject({ tokens: z.array(tokenInfoSchema()) }));

export function tokensView(list: TokenInfoIn[]): Infer<typeof tokensSchema> {
  return { tokens: list.map(tokenInfoView) };
}

export const tokenRevokedSchema = lazy(() => z.strictObject({ revoked: tokenInfoSchema() }));

export function tokenRevokedView(t: TokenInfoIn): Infer<typeof tokenRevokedSchema> {
  return { revoked: tokenInfoView(t) };
}

const principalSchema = () => z.strictObject({ name: z.string(), kind: z.enum(["user", "service_principal"]), admin: z.boolean(), groups: z.array(z.string()), created_at: z.string(), created_by: z.string() });

interface PrincipalIn {
  name: string;
  kind: string;
  admin: number | boolean;
  created_at: string;
  created_by: string;
  groups: string[];
}

function principalView(p: PrincipalIn): z.infer<ReturnType<typeof principalSchema>> {
  return { name: p.name, kind: p.kind === "service_principal" ? "service_principal" : "user", admin: p.admin === true || p.admin === 1, groups: [...p.groups], created_at: p.created_at, created_by: p.created_by };
}

export const userSchema = lazy(() => z.strictObject({ user: principalSchema() }));

export function userView(p: PrincipalIn): Infer<typeof userSchema> {
  return { user: principalView(p) };
}

export const usersSchema = lazy(() => z.strictObject({ users: z.array(principalSchema()) }));

export function usersView(list: PrincipalIn[]): Infer<typeof usersSchema> {
  return { users: list.map(principalView) };
}

export const groupsSchema = lazy(() => z.strictObject({ groups: z.array(z.strictObject({ name: z.string(), members: z.array(z.string()) })) }));

export function groupsView(list: Array<{ name: string; members: string[] }>): Infer<typeof groupsSchema> {
  return { groups: list.map((g) => ({ name: g.name, members: [...g.members] })) };
}

export const membershipSchema = lazy(() => z.strictObject({ group: z.string(), member: z.string(), changed: z.boolean() }));

export function membershipView(group: string, member: string, changed: boolean): Infer<typeof membershipSchema> {
  return { group, member, changed };
}

const grantSchema = () =>
  z.strictObject({
    project: z.string(),
    /** null: every target of the project */
    target: z.string().nullable(),
    /** null: the whole target (or project) */
    resource: z.string().nullable(),
    principal_kind: z.enum(["user", "group", "service_principal"]),
    principal: z.string(),
    level: z.enum(["CAN_VIEW", "CAN_RUN", "CAN_MANAGE", "CAN_QUERY", "CAN_USE"]),
    source: z.enum(["api", "owner"]),
  });

export interface GrantIn {
  project: string;
  target: string;
  resource: string;
  principal_kind: string;
  principal: string;
  level: string;
  source: "api" | "owner";
}

function grantView(g: GrantIn): z.infer<ReturnType<typeof grantSchema>> {
  return {
    project: g.project,
    target: g.target || null,
    resource: g.resource || null,
    principal_kind: g.principal_kind as "user" | "group" | "service_principal",
    principal: g.principal,
    level: g.level as "CAN_VIEW" | "CAN_RUN" | "CAN_MANAGE" | "CAN_QUERY" | "CAN_USE",
    source: g.source,
  };
}

export const permissionChangeSchema = lazy(() => z.strictObject({ grant: grantSchema(), changed: z.boolean() }));

export function permissionChangeView(g: GrantIn, changed: boolean): Infer<typeof permissionChangeSchema> {
  return { grant: grantView(g), changed };
}

export const permissionsSchema = lazy(() => z.strictObject({ permissions: z.array(grantSchema()) }));

export function permissionsView(list: GrantIn[]): Infer<typeof permissionsSchema> {
  return { permissions: list.map(grantView) };
}

const auditEntrySchema = () =>
  z.strictObject({
    seq: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    project: z.string().nullable(),
    target: z.string().nullable(),
    resource: z.string().nullable(),
    client: z.string(),
    outcome: z.string(),
    detail: z.record(z.string(), z.unknown()),
    prev_hash: z.string(),
    hash: z.string(),
  });

interface AuditIn {
  seq: number;
  at: string;
  actor: string;
  action: string;
  project: string;
  target: string;
  resource: string;
  client: string;
  outcome: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

export const auditSchema = lazy(() => z.strictObject({ entries: z.array(auditEntrySchema()) }));

export function auditView(rows: AuditIn[]): Infer<typeof auditSchema> {
  return {
    entries: rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      action: r.action,
      project: r.project || null,
      target: r.target || null,
      resource: r.resource || null,
      client: r.client,
      outcome: r.outcome,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
      prev_hash: r.prev_hash,
      hash: r.hash,
    })),
  };
}

export const auditVerifySchema = lazy(() => z.strictObject({ intact: z.boolean(), entries: z.number().int(), broken_at: z.number().int().nullable(), reason: z.string().nullable(), last_hash: z.string() }));

export function auditVerifyView(v: { ok: boolean; entries: number; brokenAt: number | null; reason: string | null; lastHash: string }): Infer<typeof auditVerifySchema> {
  return { intact: v.ok, entries: v.entries, broken_at: v.brokenAt, reason: v.reason, last_hash: v.lastHash };
}

export const whoamiSchema = lazy(() => z.strictObject({ user: z.string(), kind: z.enum(["user", "service_principal", "local"]), admin: z.boolean(), groups: z.array(z.string()) }));

export function whoamiView(a: { name: string; kind: "user" | "service_principal" | "local"; admin: boolean; groups: string[] }): Infer<typeof whoamiSchema> {
  return { user: a.name, kind: a.kind, admin: a.admin, groups: [...a.groups] };
}

export const loginSchema = lazy(() => z.strictObject({ server: z.string(), user: z.string(), admin: z.boolean(), credentials: z.string() }));

export function loginView(server: string, who: { name: string; admin: boolean }, file: string): Infer<typeof loginSchema> {
  return { server, user: who.name, admin: who.admin, credentials: file };
}

/** `audit verify` finished but the chain is broken: exit 1 with the document. */
export function auditVerifyFailure(v: Infer<typeof auditVerifySchema>): ErrorJson | undefined {
  return v.intact ? undefined : failureView("audit_tampered", v.reason ?? "the audit log's chain is broken", "restore the state database from a backup; the entries before the broken one are intact");
}
