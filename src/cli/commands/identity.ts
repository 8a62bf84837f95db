// The control plane's commands: tokens, users, groups, permissions, the audit log, whoami. Embedded,
// they act on SLIPWAY_HOME as the local user (an administrator of their own home); with a server
// (--server, SLIPWAY_SERVER or `slipway login`) they ask its API. Text is rendered from the document
// either way, so both print the same.
import { Option, type Command } from "commander";
import type { RuntimeEnv } from "../../env.js";
import { InvalidInputError } from "../../errors.js";
import type { GrantRequest } from "../../server/control-plane.js";
import type { IdentityCommand, IdentityCommands } from "../../server/identity-documents.js";
import { parseDuration } from "../../util/duration.js";
import type { FieldsOf } from "../../views/documents.js";
import { collect, execute, intOption, type CommonFlags } from "../common.js";
import type { Output } from "../output.js";
import { remoteFor, remoteIdentity, withServerOption, type ServerFlags } from "../remote.js";

type Flags = Pick<CommonFlags, "json"> & ServerFlags;
const JSON_FLAG = "print a stable machine-readable JSON document";

/** Runs a control-plane command on the server when one is configured, else on the local home. */
export async function onControlPlane<C extends IdentityCommand>(env: RuntimeEnv, flags: ServerFlags, command: C, args: Parameters<IdentityCommands[C]>[0]): Promise<FieldsOf<C>> {
  const remote = remoteFor(env, flags);
  if (remote) return remoteIdentity(remote, command, args);
  const [{ openControlPlane }, { identityCommands }, { localActor }] = await Promise.all([import("../../server/control-plane.js"), import("../../server/identity-documents.js"), import("../../server/auth/actor.js")]);
  const cp = await openControlPlane(env);
  try {
    const commands = identityCommands(cp, localActor(env.user));
    return (await (commands[command] as (a: typeof args) => Promise<FieldsOf<C>>)(args)) as FieldsOf<C>;
  } finally {
    await cp.stores.close();
  }
}

function leaf(cmd: Command): Command {
  return withServerOption(cmd.option("--json", JSON_FLAG));
}

export function registerIdentity(program: Command): void {
  const tokens = program.command("tokens").description("bearer tokens for the API and for querying endpoints: create (shown once), list, revoke");
  leaf(tokens.command("create").description("create a token (for yourself; administrators: for anyone); it is shown once and stored hashed"))
    .option("--user <name>", "who the token speaks for (default: you)")
    .option("--group <name>", "a group the token's user belongs to (repeatable; administrators)", collect)
    .option("--description <text>", "what the token is for")
    .option("--expires-in <duration>", "the token stops working after this long: 90s, 30m, 12h, 30d (default: never)")
    .action((flags: Flags & { user?: string; group?: string[]; description?: string; expiresIn?: string }) =>
      execute("tokens create", flags, async ({ env, out }) => {
        const fields = await onControlPlane(env, flags, "tokens create", { user: flags.user, groups: flags.group, description: flags.description, expiresInMs: duration(flags.expiresIn) });
        return { fields, text: () => out.line(fields.token) };
      }),
    );
  leaf(tokens.command("list").description("your tokens (administrators: everyone's, or --user's): id, user, created, expiry, revoked"))
    .option("--user <name>", "only this user's tokens")
    .action((flags: Flags & { user?: string }) =>
      execute("tokens list", flags, async ({ env, out }) => {
        const fields = await onControlPlane(env, flags, "tokens list", { user: flags.user });
        return { fields, text: () => printTokens(out, fields) };
      }),
    );
  leaf(tokens.command("revoke").description("revoke a token by its id (from `tokens list`); it stops working at once on the API, within 5 s on endpoints"))
    .argument("<id>", "token id (12 characters, or a unique prefix of at least 6)")
    .action((id: string, flags: Flags) =>
      execute("tokens revoke", flags, async ({ env, out }) => {
        const fields = await onControlPlane(env, flags, "tokens revoke", { id });
        return { fields, text: () => out.line(`revoked token ${fields.revoked.id} of ${fields.revoked.user}${fields.revoked.description ? ` (${fields.revoked.description})` : ""}`) };
      }),
    );

  const users = program.command("users").description("users and service principals of the control plane (administrators)");
  leaf(users.command("create").description("add a user (or, with --service-principal, a service principal for automation)"))
    .argument("<name>", "user name")
    .option("--service-principal", "a service principal (a program, not a person)")
    .option("--admin", "an administrator: manages users, groups, every permission; reads the audit log")
    .action((name: string, flags: Flags & { servicePrincipal?: boolean; admin?: boolean }) =>
      execute("users create", flags, async ({ env, out }) => {
        const fields = await onControlPlane(env, flags, "users create", { name, servicePrincipal: flags.servicePrincipal, admin: flags.admin });
        return { fields, text: () => out.line(`created ${fields.user.kind === "user" ? "user" : "service principal"} ${fields.user.name}${fields.user.admin ? " (administrator)" : ""}; give it a token with: slipway tokens create --user ${fields.user.name}`) };
      }),
    );
  leaf(users.command("list").description("every user and service principal, with their groups")).action((flags: Flags) =>
    execute("users list", flags, async ({ env, out }) => {
      const fields = await onControlPlane(env, flags, "users list", {});
      const text = () => {
        if (!fields.users.length) return out.line("no users yet.");
        for (const u of fields.users) out.line(`${u.name.padEnd(20)} ${(u.kind === "user" ? "user" : "service principal").padEnd(17)} ${u.admin ? "admin " : "      "} ${u.groups.length ? `groups: ${u.groups.join(", ")}` : ""}`.trimEnd());
      };
      return { fields, text };
    }),
  );

  const groups = program.command("groups").description("groups of users and service principals (administrators)");
  for (const [verb, description] of [
    ["add", "add a member to a group (the group exists while it has members)"],
    ["remove", "remove a member from a group"],
  ] as const) {
    leaf(groups.command(verb).description(description))
      .argument("<group>", "group name")
      .argument("<member>", "user or service principal")
      .action((group: string, member: string, flags: Flags) =>
        execute(`groups ${verb}`, flags, async ({ env, out }) => {
          const fields = await onControlPlane(env, flags, `groups ${verb}`, { group, member });
          const done = verb === "add" ? `added ${member} to ${group}` : `removed ${member} from ${group}`;
          return { fields, text: () => out.line(fields.changed ? done : `${member} was ${verb === "add" ? "already" : "not"} in ${group}`) };
        }),
      );
  }
  leaf(groups.command("list").description("every group and its members")).action((flags: Flags) =>
    execute("groups list", flags, async ({ env, out }) => {
      const fields = await onControlPlane(env, flags, "groups list", {});
      return { fields, text: () => (fields.groups.length ? fields.groups.forEach((g) => out.line(`${g.name}: ${g.members.join(", ")}`)) : out.line("no groups yet.")) };
    }),
  );

  const permissions = program.command("permissions").description("grant and revoke CAN_VIEW, CAN_RUN, CAN_MANAGE, CAN_QUERY on a project, a target or one resource");
  for (const verb of ["grant", "revoke"] as const) {
    leaf(permissions.command(verb).description(verb === "grant" ? "grant a level (needs CAN_MANAGE there; on a whole project, an administrator)" : "revoke a level granted with `permissions grant`"))
      .argument("<level>", "CAN_VIEW | CAN_RUN | CAN_MANAGE | CAN_QUERY")
      .argument("<scope>", "PROJECT (every target), PROJECT/TARGET, or PROJECT/TARGET/ADDRESS (one resource, e.g. demo/prod/endpoint.churn)")
      .addOption(new Option("--user <name>", "to a user").conflicts(["group", "servicePrincipal"]))
      .addOption(new Option("--group <name>", "to a group (`users` means every user)").conflicts(["servicePrincipal"]))
      .option("--service-principal <name>", "to a service principal")
      .action((level: string, scope: string, flags: Flags & { user?: string; group?: string; servicePrincipal?: string }) =>
        execute(`permissions ${verb}`, flags, async ({ env, out }) => {
          const fields = await onControlPlane(env, flags, `permissions ${verb}`, grantRequest(level, parseScope(scope), flags));
          const g = fields.grant;
          const where = `${g.project}${g.target ? `/${g.target}` : " (every target)"}${g.resource ? ` ${g.resource}` : ""}`;
          const who = `${g.principal_kind === "service_principal" ? "service principal" : g.principal_kind} ${g.principal}`;
          const text = verb === "grant" ? (fields.changed ? `granted ${g.level} on ${where} to ${who}` : `${who} already had ${g.level} on ${where}`) : fields.changed ? `revoked ${g.level} on ${where} from ${who}` : `${who} had no ${g.level} granted on ${where}`;
          return { fields, text: () => out.line(text) };
        }),
      );
  }
  leaf(permissions.command("list").description("grants made with `permissions grant`, and target owners (the config's `permissions:` are recorded with each resource)"))
    .argument("[scope]", "PROJECT or PROJECT/TARGET (default: everything; administrators)")
    .action((scope: string | undefined, flags: Flags) =>
      execute("permissions list", flags, async ({ env, out }) => {
        const s = scope === undefined ? undefined : parseScope(scope);
        const fields = await onControlPlane(env, flags, "permissions list", { project: s?.project, target: s?.target || undefined });
        const text = () => {
          if (!fields.permissions.length) return out.line("no permissions granted.");
          for (const g of fields.permissions) out.line(`${g.level.padEnd(11)} ${`${g.principal_kind} ${g.principal}`.padEnd(28)} ${g.project}${g.target ? `/${g.target}` : " (every target)"}${g.resource ? ` ${g.resource}` : ""}${g.source === "owner" ? "  (owner)" : ""}`);
        };
        return { fields, text };
      }),
    );

  const audit = leaf(program.command("audit").description("the audit log: every change with who, what, target, when, from where, and its outcome (administrators)"))
    .option("--since <time>", "entries at or after this ISO time (e.g. 2025-01-31 or 2025-01-31T12:00:00Z)")
    .option("--user <name>", "one user's entries")
    .option("--target <name>", "one target's entries")
    .addOption(intOption("--limit <n>", "at most the latest N entries").default(1000))
    .action((flags: Flags & { since?: string; user?: string; target?: string; limit: number }) =>
      execute("audit", flags, async ({ env, out }) => {
        const fields = await onControlPlane(env, flags, "audit", { since: flags.since, user: flags.user, target: flags.target, limit: flags.limit });
        const text = () => {
          if (!fields.entries.length) return out.line("no audit entries.");
          for (const e of fields.entries) out.line(`${String(e.seq).padStart(5)} ${e.at} ${e.actor} ${e.action}${e.project ? ` ${e.project}/${e.target ?? ""}` : ""}${e.resource ? ` ${e.resource}` : ""} from ${e.client}: ${e.outcome}`);
        };
        return { fields, text };
      }),
    );
  audit.enablePositionalOptions();
  withServerOption(audit.command("verify").description("check the audit log's hash chain: exit 1 if an entry was changed, removed or reordered").option("--json", JSON_FLAG)).action((flags: Flags) =>
    execute("audit verify", flags, async ({ env, out }) => {
      const fields = await onControlPlane(env, flags, "audit verify", {});
      const { auditVerifyFailure } = await import("../../views/identity.js");
      return {
        fields,
        error: auditVerifyFailure(fields),
        text: () => (fields.intact ? out.line(`audit log intact: ${fields.entries} entr${fields.entries === 1 ? "y" : "ies"}, last hash ${fields.last_hash}`) : out.err(`audit log broken at entry ${fields.broken_at}: ${fields.reason}`)),
      };
    }),
  );
  leaf(program.command("whoami").description("who you are to the server (or the local user, embedded): name, kind, administrator, groups")).action((flags: Flags) =>
    execute("whoami", flags, async ({ env, out }) => {
      const fields = await onControlPlane(env, flags, "whoami", {});
      return { fields, text: () => out.line(`${fields.user} (${fields.kind === "local" ? "local user" : fields.kind === "user" ? "user" : "service principal"}${fields.admin ? ", administrator" : ""})${fields.groups.length ? ` groups: ${fields.groups.join(", ")}` : ""}`) };
    }),
  );
}

function duration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch {
    throw new InvalidInputError([{ message: `--expires-in "${text}" is not a duration`, hint: "write 90s, 30m, 12h or 30d" }], "invalid_flag");
  }
}

function parseScope(scope: string): { project: string; target: string; resource: string } {
  const [project = "", target = "", ...rest] = scope.split("/");
  const resource = rest.join("/");
  if (!project || (scope.includes("/") && !target) || (rest.length && !resource)) throw new InvalidInputError([{ message: `"${scope}" is not PROJECT, PROJECT/TARGET or PROJECT/TARGET/ADDRESS`, hint: "for example demo/prod or demo/prod/endpoint.churn" }], "invalid_flag");
  return { project, target, resource };
}

function grantRequest(level: string, scope: { project: string; target: string; resource: string }, f: { user?: string; group?: string; servicePrincipal?: string }): GrantRequest {
  const [principalKind, principal] = f.user !== undefined ? (["user", f.user] as const) : f.group !== undefined ? (["group", f.group] as const) : f.servicePrincipal !== undefined ? (["service_principal", f.servicePrincipal] as const) : [undefined, undefined];
  if (!principalKind) throw new InvalidInputError([{ message: "a permission is granted to one of --user, --group or --service-principal", hint: "for example --group ml-team" }], "invalid_flag");
  return { level, principalKind, principal, ...scope };
}

function printTokens(out: Output, fields: FieldsOf<"tokens list">): void {
  if (!fields.tokens.length) return out.line("no tokens.");
  for (const t of fields.tokens) {
    const state = t.revoked_at ? `revoked ${t.revoked_at}` : t.expires_at ? `expires ${t.expires_at}` : "no expiry";
    out.line(`${t.id}  ${t.user.padEnd(16)} created ${t.created_at}  ${state}${t.description ? `  ${t.description}` : ""}`);
  }
}
