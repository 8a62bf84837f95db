// Remote mode: with --server URL, SLIPWAY_SERVER or a stored `slipway login`, commands ask the server's
// API (src/server/api, through src/client) instead of acting on the local home. The API answers with the
// same documents the embedded commands build, and commands render their text from the document, so both
// print the same. `--no-server` works on the local home whatever is configured.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import type { RuntimeEnv } from "../env.js";
import { SlipwayError } from "../errors.js";
import { normalizeServer, RemoteClient, remoteError } from "../client/api-client.js";
import type { IdentityCommand, IdentityCommands } from "../server/identity-documents.js";
import type { FieldsOf } from "../views/documents.js";
import type { ErrorJson } from "../views/error.js";

export { normalizeServer, RemoteClient, remoteError };

export interface ServerFlags {
  /** A URL, or false for --no-server. */
  server?: string | false;
}

export function withServerOption(cmd: Command): Command {
  return cmd
    .option("--server <url>", "ask this Slipway server (default: SLIPWAY_SERVER, else the one `slipway login` stored, else work on the local home)")
    .option("--no-server", "work on the local home, even with SLIPWAY_SERVER or a stored login");
}

interface Login {
  server: string;
  token: string;
}

export function loginFile(env: RuntimeEnv): string {
  return join(env.home, "login.json");
}

export function readLogin(env: RuntimeEnv): Login | undefined {
  const file = loginFile(env);
  if (!existsSync(file)) return undefined;
  try {
    const l = JSON.parse(readFileSync(file, "utf8")) as Partial<Login>;
    return typeof l.server === "string" && typeof l.token === "string" ? { server: l.server, token: l.token } : undefined;
  } catch {
    return undefined;
  }
}

/** Stores the login with mode 0600 (the token is a secret). */
export function writeLogin(env: RuntimeEnv, login: Login): string {
  const file = loginFile(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(login, null, 2) + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The server to ask, or undefined for embedded mode. */
export function remoteFor(env: RuntimeEnv, flags: ServerFlags): RemoteClient | undefined {
  if (flags.server === false) return undefined;
  const login = readLogin(env);
  const server = flags.server ?? env.server ?? login?.server;
  if (!server) return undefined;
  const url = normalizeServer(server);
  const token = env.token ?? (login && normalizeServer(login.server) === url ? login.token : undefined);
  if (!token) throw new SlipwayError("not_logged_in", `no token for ${url}`, { hint: `run \`slipway login ${url}\`, or set SLIPWAY_TOKEN` });
  return new RemoteClient(url, token);
}

const IDENTITY_ROUTES: { [C in IdentityCommand]: (a: Parameters<IdentityCommands[C]>[0]) => { method: string; path: string; body?: unknown; query?: Record<string, string | number | undefined> } } = {
  "tokens create": (a) => ({ method: "POST", path: "/tokens", body: { user: a.user, groups: a.groups, description: a.description, expires_in_s: a.expiresInMs === undefined ? undefined : Math.ceil(a.expiresInMs / 1000) } }),
  "tokens list": (a) => ({ method: "GET", path: "/tokens", query: { user: a.user } }),
  "tokens revoke": (a) => ({ method: "DELETE", path: `/tokens/${encodeURIComponent(a.id)}` }),
  "users create": (a) => ({ method: "POST", path: "/users", body: { name: a.name, service_principal: a.servicePrincipal, admin: a.admin } }),
  "users list": () => ({ method: "GET", path: "/users" }),
  "groups add": (a) => ({ method: "POST", path: `/groups/${encodeURIComponent(a.group)}/members`, body: { member: a.member } }),
  "groups remove": (a) => ({ method: "DELETE", path: `/groups/${encodeURIComponent(a.group)}/members/${encodeURIComponent(a.member)}` }),
  "groups list": () => ({ method: "GET", path: "/groups" }),
  "permissions grant": (a) => ({ method: "POST", path: "/permissions", body: grantBody(a) }),
  "permissions revoke": (a) => ({ method: "POST", path: "/permissions/revoke", body: grantBody(a) }),
  "permissions list": (a) => ({ method: "GET", path: "/permissions", query: { project: a.project, target: a.target } }),
  audit: (a) => ({ method: "GET", path: "/audit", query: { since: a.since, user: a.user, target: a.target, limit: a.limit } }),
  "audit verify": () => ({ method: "GET", path: "/audit/verify" }),
  whoami: () => ({ method: "GET", path: "/whoami" }),
};

function grantBody(a: Parameters<IdentityCommands["permissions grant"]>[0]) {
  return { level: a.level, project: a.project, target: a.target || undefined, resource: a.resource || undefined, [a.principalKind]: a.principal };
}

/** A control-plane command's document on the server (its error thrown as the embedded command would throw it). */
export async function remoteIdentity<C extends IdentityCommand>(client: RemoteClient, command: C, args: Parameters<IdentityCommands[C]>[0]): Promise<FieldsOf<C>> {
  const r = (IDENTITY_ROUTES[command] as (a: typeof args) => { method: string; path: string; body?: unknown; query?: Record<string, string | number | undefined> })(args);
  const { doc } = await client.call(r.method, r.path, { body: r.body, query: r.query });
  const { ok, error, ...fields } = doc;
  // Commands that finish unsuccessfully with their document (audit verify) return it; others throw.
  if (ok === false && Object.keys(fields).length === 0) throw remoteError(error as ErrorJson);
  return fields as FieldsOf<C>;
}
