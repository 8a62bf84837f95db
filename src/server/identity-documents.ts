// The control plane's commands as documents (the views of src/views/identity.ts): the API answers with
// these and the embedded CLI prints them, so both print the same bytes.
import type { FieldsOf } from "../views/documents.js";
import { auditVerifyView, auditView, groupsView, membershipView, permissionChangeView, permissionsView, tokenRevokedView, tokensView, tokenView, usersView, userView, whoamiView } from "../views/identity.js";
import type { Actor } from "./auth/actor.js";
import type { AuditFilter } from "./auth/audit.js";
import type { ControlPlane, GrantRequest } from "./control-plane.js";

export interface TokenCreateArgs {
  user?: string;
  groups?: string[];
  description?: string;
  expiresInMs?: number;
}

/** Every control-plane command, with the arguments it takes and the document it returns. */
export interface IdentityCommands {
  "tokens create"(args: TokenCreateArgs): Promise<FieldsOf<"tokens create">>;
  "tokens list"(args: { user?: string }): Promise<FieldsOf<"tokens list">>;
  "tokens revoke"(args: { id: string }): Promise<FieldsOf<"tokens revoke">>;
  "users create"(args: { name: string; servicePrincipal?: boolean; admin?: boolean }): Promise<FieldsOf<"users create">>;
  "users list"(args: Record<string, never>): Promise<FieldsOf<"users list">>;
  "groups add"(args: { group: string; member: string }): Promise<FieldsOf<"groups add">>;
  "groups remove"(args: { group: string; member: string }): Promise<FieldsOf<"groups remove">>;
  "groups list"(args: Record<string, never>): Promise<FieldsOf<"groups list">>;
  "permissions grant"(args: GrantRequest): Promise<FieldsOf<"permissions grant">>;
  "permissions revoke"(args: GrantRequest): Promise<FieldsOf<"permissions revoke">>;
  "permissions list"(args: { project?: string; target?: string }): Promise<FieldsOf<"permissions list">>;
  audit(args: AuditFilter): Promise<FieldsOf<"audit">>;
  "audit verify"(args: Record<string, never>): Promise<FieldsOf<"audit verify">>;
  whoami(args: Record<string, never>): Promise<FieldsOf<"whoami">>;
}

export type IdentityCommand = keyof IdentityCommands;

/** The commands on a control plane, as one actor. */
export function identityCommands(cp: ControlPlane, actor: Actor): IdentityCommands {
  return {
    "tokens create": async (a) => tokenView(await cp.createToken(actor, a)),
    "tokens list": async (a) => tokensView(await cp.listTokens(actor, a.user)),
    "tokens revoke": async (a) => tokenRevokedView(await cp.revokeToken(actor, a.id)),
    "users create": async (a) => userView(await cp.createUser(actor, a.name, a)),
    "users list": async () => usersView(await cp.listUsers(actor)),
    "groups add": async (a) => membershipView(a.group, a.member, await cp.addMember(actor, a.group, a.member)),
    "groups remove": async (a) => membershipView(a.group, a.member, await cp.removeMember(actor, a.group, a.member)),
    "groups list": async () => groupsView(await cp.listGroups(actor)),
    "permissions grant": async (a) => {
      const r = await cp.grant(actor, a);
      return permissionChangeView(r.grant, r.changed);
    },
    "permissions revoke": async (a) => {
      const r = await cp.revoke(actor, a);
      return permissionChangeView(r.grant, r.changed);
    },
    "permissions list": async (a) => permissionsView(await cp.listGrants(actor, a.project, a.target)),
    audit: async (a) => auditView(await cp.auditEntries(actor, a)),
    "audit verify": async () => auditVerifyView(await cp.auditVerify(actor)),
    whoami: async () => whoamiView(actor),
  };
}
