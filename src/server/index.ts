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

export async function startControlPlaneServer(env: RuntimeEnv, options: ControlPlaneServerOptions): Promise<ControlPlaneServer> {
  const cp = await openControlPlane(env);
  try {
    const bootstrap = await bootstrapAdmin(cp, env, options.bootstrap);
    const api = createApi({ env, cp, sources: new SourceStore(env.home, env.serverBlobs ? blobStoreAt(env.serverBlobs) : undefined) }, { log: options.log });
    const running = await startServer(env, { ...options, api: getRequestListener(api.fetch), queryAccess: new ControlPlaneQueryAccess(cp.authorizer, env.clock), web: webHandler(webRoot()) });
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
