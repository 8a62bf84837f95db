// The control plane's server: one Node listener on one port (127.0.0.1 unless told otherwise) for the
// HTTP API under /api/v1 (this folder's Hono app, via @hono/node-server's request listener), the
// serving gateway (src/serving: its plain handler, unchanged, so the hot path pays only a prefix
// check) and the server's background work. Identity lives in SLIPWAY_HOME's state database.
import { getRequestListener } from "@hono/node-server";
import type { RuntimeEnv } from "../env.js";
import { startServer, type RunningServer, type ServerOptions } from "../serving/server.js";
import { createApi } from "./api/app.js";
import { SourceStore } from "./api/sources.js";
import { blobStoreAt } from "../store/open.js";
import { openControlPlane, type ControlPlane } from "./control-plane.js";
import type { AppIdentity } from "../serving/apps/apps.js";
import { appPrincipal } from "../serving/apps/config.js";
import type { AppAccess } from "../serving/apps/proxy.js";
import type { Permission } from "../config/schema.js";
import { RefusedError } from "../errors.js";
import { ControlPlaneQueryAccess } from "./auth/query-access.js";
import { webHandler, webRoot } from "./web.js";

export interface ControlPlaneServerOptions extends ServerOptions {
  /** Create the first administrator (and print its token once) when there is none. */
  bootstrap: boolean;
}

export interface ControlPlaneServer extends RunningServer {
  /** The administrator made on this first start, with its token (null when it came from SLIPWAY_BOOTSTRAP_TOKEN). */
  bootstrap: { user: string; token: string | null } | null;
}

export const BOOTSTRAP_ADMIN = "admin";

/**
 * The first administrator: made when no administrator exists. Its token is SLIPWAY_BOOTSTRAP_TOKEN when
 * set (for automation; never printed), else a new one that the caller prints once.
 */
export async function bootstrapAdmin(cp: ControlPlane, env: RuntimeEnv, create: boolean): Promise<{ user: string; token: string | null } | null> {
  if (await cp.identities.anyAdmin()) return null;
  if (!env.bootstrapToken && !create) return null;
  const at = cp.now();
  if (!(await cp.identities.principal(BOOTSTRAP_ADMIN))) await cp.identities.createPrincipal(BOOTSTRAP_ADMIN, "user", true, "bootstrap", at);
  let token: string | null = null;
  if (env.bootstrapToken) await cp.identities.adoptToken(BOOTSTRAP_ADMIN, env.bootstrapToken, "bootstrap (SLIPWAY_BOOTSTRAP_TOKEN)", at);
  else token = (await cp.identities.createToken(BOOTSTRAP_ADMIN, { description: "bootstrap", expiresAt: null }, at)).token;
  await cp.audit.append({ actor: "server", action: "bootstrap admin", resource: BOOTSTRAP_ADMIN, client: "local", outcome: "ok", detail: { token_from_env: token === null } });
  return { user: BOOTSTRAP_ADMIN, token };
}

/**
 * An app's identity: the service principal `app-NAME`, made on first use (refused when a user holds
 * that name), and tokens the server issues each time it starts the app (stored hashed, like every
 * token; the clear value lives only in the app's environment).
 */
export function appIdentity(cp: ControlPlane): AppIdentity {
  return {
    async issue(app) {
      const name = appPrincipal(app);
      const existing = await cp.identities.principal(name);
      if (existing && existing.kind !== "service_principal") throw new RefusedError("principal_exists", `app ${app} speaks as the service principal ${name}, but a user has that name`, { hint: `rename the app, or remove the user ${name}` });
      if (!existing) {
        await cp.identities.createPrincipal(name, "service_principal", false, "server (app)", cp.now());
        await cp.audit.append({ actor: "server", action: "service principal create", resource: name, client: "local", outcome: "ok", detail: { app } });
      }
      const { token, info } = await cp.identities.createToken(name, { description: `app ${app} (issued by the server when it started the app)`, expiresAt: null }, cp.now());
      return { token, id: info.id };
    },
    async revoke(app, keep) {
      const name = appPrincipal(app);
      for (const t of await cp.identities.tokens(name)) {
        if (t.revoked_at || t.id === keep) continue;
        const found = await cp.identities.findToken(t.id);
        await cp.identities.revokeToken(found.hash, cp.now());
      }
    },
  };
}

/** Who may pass /apps/NAME/: the control plane's tokens (users, service principals, administrators) and API grants. */
export function appAccess(cp: ControlPlane): AppAccess {
  return {
    authenticate: (token, client) => cp.identities.authenticate(token, cp.now(), client),
    async apiGrants(project, target, address) {
      const rows = await cp.identities.grants(project, target);
      return rows.filter((r) => r.resource === "" || r.resource === address).map((r) => ({ level: r.level, [r.principal_kind]: r.principal }) as Permission);
    },
  };
}

export async function startControlPlaneServer(env: RuntimeEnv, options: ControlPlaneServerOptions): Promise<ControlPlaneServer> {
  const cp = await openControlPlane(env);
  try {
    const bootstrap = await bootstrapAdmin(cp, env, options.bootstrap);
    const api = createApi({ env, cp, sources: new SourceStore(env.home, env.serverBlobs ? blobStoreAt(env.serverBlobs) : undefined) }, { log: options.log });
    const running = await startServer(env, {
      ...options,
      api: getRequestListener(api.fetch),
      queryAccess: new ControlPlaneQueryAccess(cp.authorizer, env.clock),
      web: webHandler(webRoot()),
      appIdentity: () => appIdentity(cp),
      appAccess: () => appAccess(cp),
    });
    return {
      ...running,
      bootstrap,
      close: async () => {
        await running.close();
        await cp.stores.close();
      },
    };
  } catch (e) {
    await cp.stores.close();
    throw e;
  }
}
