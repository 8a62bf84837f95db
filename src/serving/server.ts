// `slipway server`: the local serving gateway, its admin routes (used by deploy and destroy), the
// model runtimes it supervises, and the background loop (TTL reaper). Listens on 127.0.0.1 only.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { hostname } from "node:os";
import { join } from "node:path";
import { iso } from "../clock.js";
import type { RuntimeEnv } from "../env.js";
import { openStores, type Stores } from "../store/open.js";
import { TokenVerifier } from "./auth.js";
import { Endpoints, type EndpointConfig } from "./endpoints.js";
import { createGateway } from "./gateway.js";
import { InferenceLog } from "./inference-log.js";
import { claimServerLock, releaseServerLock, removeServerInfo, writeServerInfo, type ServerInfo } from "./server-file.js";
import { SlipwayError } from "../errors.js";
import { processAlive } from "../util/run-script.js";
import { answerClientError } from "./client-errors.js";

export interface ServerOptions {
  port: number;
  /** Runs the TTL reaper every this many ms (0: never). */
  reapEveryMs: number;
  /** The reaper, given the open stores (operations/endpoints.ts: reapExpiredEndpoints). */
  reap?: (stores: Stores) => Promise<string[]>;
  log(line: string): void;
}

export interface RunningServer {
  info: ServerInfo;
  endpoints: Endpoints;
  close(): Promise<void>;
}

export async function startServer(env: RuntimeEnv, options: ServerOptions): Promise<RunningServer> {
  mkdirSync(env.home, { recursive: true });
  if (!claimServerLock(env.home, process.pid, processAlive)) {
    throw new SlipwayError("server_running", `a Slipway server for ${env.home} is already running`, { exitCode: 3, hint: "stop it with `slipway server stop`" });
  }
  const stores = await openStores(env.home);
  const inference = new InferenceLog(join(env.home, "inference.db"));
  const endpoints = new Endpoints({ env: env.processEnv, log: options.log });
  const gateway = createGateway({ endpoints, tokens: new TokenVerifier(stores.state.tokens()), log: inference, now: () => env.clock.now() });
  const adminToken = randomBytes(24).toString("base64url");


  const admin = async (path: string, body: unknown): Promise<{ status: number; body: unknown }> => {
    if (path === "/admin/apply") {
      await endpoints.apply(body as EndpointConfig);
      return { status: 200, body: { applied: (body as EndpointConfig).name } };
    }
    if (path === "/admin/remove") {
      await endpoints.remove((body as { name: string }).name);
      inference.flush();
      return { status: 200, body: { removed: (body as { name: string }).name } };
    }
    if (path === "/admin/flush") {
      inference.flush();
      return { status: 200, body: { written: inference.written } };
    }
    if (path === "/admin/status") {
      return {
        status: 200,
        body: endpoints.list().map((e) => ({
          name: e.config.name,
          project: e.config.project,
          target: e.config.target,
          config_version: e.config.configVersion,
          served: e.served.map((s) => ({ model: s.config.model, version: s.config.version, percent: s.config.percent, ready: s.ready(), replicas: s.replicas.length, in_flight: s.inFlight, restarts: s.replicas.reduce((n, r) => n + ((r as { restarts?: number }).restarts ?? 0), 0), pids: s.replicas.map((r) => (r as { pid?: number }).pid).filter(Boolean) })),
        })),
      };
    }
    return { status: 404, body: { message: `no admin route ${path}` } };
  };

  const http = createServer(handle);
  http.on("clientError", answerClientError);
  function handle(req: IncomingMessage, res: ServerResponse): void {
    // Plain 'data'/'end' events: cheaper per request than an async iterator over the stream.
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        if (!tooLarge) send(res, 413, { error_code: "REQUEST_TOO_LARGE", message: `request bodies are limited to ${MAX_BODY_BYTES} bytes` });
        tooLarge = true;
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!tooLarge) void respond(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
  }
  async function respond(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    try {
      if (req.url?.startsWith("/admin/")) {
        if (req.headers["x-slipway-admin"] !== adminToken) return send(res, 401, { message: "admin token required" });
        const out = await admin(req.url, body.length ? JSON.parse(body.toString("utf8")) : {}).catch((e: Error) => ({ status: 500, body: { message: e.message } }));
        return send(res, out.status, out.body);
      }
      const path = (req.url ?? "/").split("?")[0]!;
      const out = await gateway({ method: req.method ?? "GET", path, header: (n) => headerOf(req, n), body: body.toString("utf8") });
      out.headers["content-length"] = String(Buffer.byteLength(out.body));
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    } catch (e) {
      send(res, 500, { error_code: "INTERNAL_ERROR", message: (e as Error).message });
    }
  }
  http.keepAliveTimeout = 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(options.port, "127.0.0.1", () => resolve());
    });
  } catch (e) {
    inference.close();
    await stores.close();
    releaseServerLock(env.home, process.pid);
    throw e;
  }
  const port = (http.address() as { port: number }).port;
  const info: ServerInfo = { pid: process.pid, host: hostname(), port, url: `http://127.0.0.1:${port}`, adminToken, startedAt: iso(env.clock.now()) };
  writeServerInfo(env.home, info);

  // Serve what state says is deployed (a restarted server picks up where it was), in the background:
  // clients can find the server, and stop it, while slow model servers start.
  const restored = stores.state.resourcesOfKind("endpoint").then((recorded) =>
    Promise.allSettled(
      recorded
        .map((r) => r.outputs.config as EndpointConfig | undefined)
        .filter((c): c is EndpointConfig => !!c)
        .map((config) => endpoints.apply(config).catch((e: Error) => options.log(`could not start endpoint ${config.name}: ${e.message}`))),
    ),
  );

  let reaping = false;
  const reaper =
    options.reapEveryMs > 0 && options.reap
      ? setInterval(() => {
          if (reaping) return;
          reaping = true;
          options.reap!(stores)
            .then((gone) => gone.forEach((name) => options.log(`endpoint ${name} expired (TTL) and was destroyed`)))
            .catch((e: Error) => options.log(`TTL reaper: ${e.message}`))
            .finally(() => (reaping = false));
        }, options.reapEveryMs)
      : undefined;
  reaper?.unref();

  return {
    info,
    endpoints,
    async close() {
      clearInterval(reaper);
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
      await restored.catch(() => {});
      await endpoints.stopAll();
      inference.close();
      await stores.close();
      removeServerInfo(env.home, process.pid);
      releaseServerLock(env.home, process.pid);
    },
  };
}

/** Largest request body the server reads (a bound on memory per request). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}
