// `slipway server`: the local serving gateway, its admin routes (used by deploy and destroy), the
// model runtimes it supervises, and its background work (handed in: schedules, TTLs, retention, lost
// runs). Listens on 127.0.0.1 only.
// Start: stops model processes a dead server left, marks the recorded endpoints as restoring (503 until
// each is back), listens, then restores them in the background. Stop: drains requests (drain.ts),
// then stops the model processes. With an idle timeout, it stops by itself when it has nothing to do.
import { loadHomeConfig } from "../config/home-config.js";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { iso } from "../clock.js";
import type { RuntimeEnv } from "../env.js";
import { blobStoreAt, openStores, type Stores } from "../store/open.js";
import { TokenVerifier } from "./auth.js";
import { Drainer } from "./drain.js";
import { Endpoints, type EndpointConfig, type LiveEndpoint } from "./endpoints.js";
import { createGateway, type QueryAccess } from "./gateway.js";
import { InferenceLog } from "./inference-log.js";
import { inferencePlace } from "./inference-place.js";
import { applyRetention, type RetentionTarget } from "./inference-retention.js";
import { ProcessGroups } from "./process-groups.js";
import { claimServerLock, releaseServerLock, removeServerInfo, writeServerInfo, type ServerInfo } from "./server-file.js";
import { SlipwayError } from "../errors.js";
import { processAlive } from "../util/run-script.js";
import { answerClientError } from "./client-errors.js";
import { Apps, type AppIdentity } from "./apps/apps.js";
import type { AppConfig } from "./apps/config.js";
import { createAppProxy, type AppAccess } from "./apps/proxy.js";
import { serverEnvironment } from "./control.js";
import { EndpointSync, recordedEndpoints as recordedEndpointRows, type RecordedEndpoint } from "./endpoint-sync.js";
import { ENDPOINT_CHANGES } from "../store/state/notifications.js";

export interface ServerOptions {
  port: number;
  /** Address to listen on (default 127.0.0.1; put a TLS proxy in front of any other, see docs/server.md). */
  host?: string;
  /**
   * Requests whose path starts with /api/ go here (the control plane's API, composed by src/server):
   * the serving hot path only pays one prefix check.
   */
  api?: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * The dashboard's static files (src/server/web.ts): asked after /api/, before the gateway; answers
   * and returns true only for GET/HEAD of its own paths, so inference requests pass straight on.
   */
  web?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * The background work (src/server/background: schedules, endpoint TTLs, retention, lost runs),
   * started with the open stores once the server listens, stopped before they close.
   */
  background?: (stores: Stores) => BackgroundHooks;
  /** Apps' service principals and tokens (the control plane's identity store); without it apps get no token. */
  appIdentity?: (stores: Stores) => AppIdentity;
  /** Who may pass /apps/NAME/ (the control plane's authentication and API grants); without it, state's tokens and config grants. */
  appAccess?: (stores: Stores) => AppAccess;
  log(line: string): void;
  /** Who may query beyond an endpoint's configured grants (the control plane's API grants, owners, admins). */
  queryAccess?: QueryAccess;
  /**
   * Stop by itself after this many ms with no endpoint served or being restored, none recorded in the
   * state under SLIPWAY_HOME, no request, and no background work that keeps it (0: never).
   */
  idleExitMs?: number;
  /** Called once when the server decides to stop by itself; the caller then calls close(). */
  onIdle?(): void;
  /** How long a stop waits for requests in flight (default 30 s). */
  drainMs?: number;
  /**
   * `slipway run` handed over by a CLI of the same build on this machine (src/cli/run-handoff): the
   * connection upgraded on /admin/run-handoff, after the admin token is checked here. Its runs keep
   * the server from stopping when idle, and are cancelled first when it stops.
   */
  handoff?: HandoffHooks;
  /** The launcher's build identity (bin/slipway.cjs), written to server.json: a CLI hands `run` over only to a server of its own build. */
  build?: string;
}

/** What the server needs of the run hand-over (src/cli/run-handoff/serve.ts implements it). */
export interface HandoffHooks {
  /** Takes the upgraded connection (the admin token was right). */
  accept(socket: import("node:stream").Duplex, head: Buffer): void;
  /** Runs in progress. */
  busy(): boolean;
  /** Cancels the runs in progress and waits until they have ended and their clients have been told. */
  stop(): Promise<void>;
}

/** Whether `given` is the admin token (in constant time). */
function tokenMatches(given: string | string[] | undefined, token: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the server needs of its background work (src/server/background implements it). */
export interface BackgroundHooks {
  /** Deployed schedules or retention to run: the server has work even with nothing to serve. */
  hasDeployedWork(): Promise<boolean>;
  /** Work in progress (a tick, a gc): an idle timer starts again after it. */
  busy(): boolean;
  /** Each loop's last and next run, for `/admin/server`. */
  status(): Promise<unknown[]>;
  stop(): Promise<void>;
}

export interface RunningServer {
  info: ServerInfo;
  endpoints: Endpoints;
  apps: Apps;
  /** Drains requests in flight, stops the model processes, removes server.json. Idempotent. */
  close(): Promise<void>;
}

/** What `/admin/status` says about each endpoint. */
export function endpointStatus(e: LiveEndpoint) {
  return {
    name: e.config.name,
    project: e.config.project,
    target: e.config.target,
    config_version: e.config.configVersion,
    ready: e.served.some((s) => s.ready()),
    served: e.served.map((s) => ({
      model: s.config.model,
      version: s.config.version,
      percent: s.config.percent,
      ready: s.ready(),
      replicas: s.replicas.length,
      ready_replicas: s.readyReplicas(),
      in_flight: s.inFlight,
      restarts: s.replicas.reduce((n, r) => n + ((r as { restarts?: number }).restarts ?? 0), 0),
      pids: s.replicas.map((r) => (r as { pid?: number }).pid).filter(Boolean),
    })),
  };
}

export async function startServer(env: RuntimeEnv, options: ServerOptions): Promise<RunningServer> {
  mkdirSync(env.home, { recursive: true });
  if (!claimServerLock(env.home, process.pid, processAlive)) {
    throw new SlipwayError("server_running", `a Slipway server for ${env.home} is already running`, { exitCode: 3, hint: "stop it with `slipway server stop`" });
  }
  // Holding the lock, any group another server recorded belongs to a server that is gone.
  const groups = new ProcessGroups(env.home, process.pid);
  const leftovers = groups.stopLeftovers();
  if (leftovers) options.log(`stopped ${leftovers} model process group(s) left by a server that is gone`);
  const stores = await openStores(env.home, loadHomeConfig(env.home, env.processEnv));
  let inference: InferenceLog;
  try {
    // After openStores: in a PostgreSQL home the table is the state database's (its migrations made it).
    inference = await InferenceLog.open(inferencePlace(env.home, env.processEnv), { maxQueuedRows: env.inferenceQueueRows, log: options.log });
  } catch (e) {
    await stores.close();
    releaseServerLock(env.home, process.pid);
    throw e;
  }
  const endpoints = new Endpoints({ env: env.processEnv, log: options.log, groups, clock: env.clock });
  const gateway = createGateway({ endpoints, tokens: new TokenVerifier(stores.state.tokens(), undefined, env.clock), access: options.queryAccess, log: inference, now: () => env.clock.now() });
  let serverUrl = "";
  const apps = new Apps({
    home: env.home,
    // Apps get the server's plain environment (PATH, HOME, locale), none of its SLIPWAY_* settings.
    env: Object.fromEntries(Object.entries(serverEnvironment(env.processEnv)).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith("SLIPWAY_"))),
    serverUrl: () => serverUrl,
    log: options.log,
    groups,
    identity: options.appIdentity?.(stores),
    clock: env.clock,
  });
  const tokenVerifier = new TokenVerifier(stores.state.tokens(), undefined, env.clock);
  const appProxy = createAppProxy(
    apps,
    options.appAccess?.(stores) ?? {
      authenticate: async (token) => {
        const identity = await tokenVerifier.identify(token);
        return identity ? { name: identity.user, kind: "local", admin: false, groups: identity.groups } : undefined;
      },
    },
    options.log,
  );
  const recordedApps = async () => (await stores.state.resourcesOfKind("app")).map((r) => r.outputs.config as AppConfig | undefined).filter((c): c is AppConfig => !!c);
  const adminToken = randomBytes(24).toString("base64url");
  const idleExitMs = options.idleExitMs ?? 0;
  const startedAt = performance.now();
  let closing: Promise<void> | undefined;
  let stopRequested = false;
  const stopByItself = (why: string) => {
    if (stopRequested || closing) return;
    stopRequested = true;
    options.log(why);
    options.onIdle?.();
  };
  const recordedEndpoints = async () => (await recordedEndpointRows(stores.state)).map((r) => r.config);
  // Other servers on the same state database deploy too: follow the recorded endpoints (endpoint-sync.ts).
  const sync = new EndpointSync({ home: env.home, state: stores.state, endpoints, log: options.log, onRemoved: () => inference.flush().then(() => undefined) });

  const admin = async (path: string, body: unknown): Promise<{ status: number; body: unknown }> => {
    // A deploy or destroy through this server: the endpoint sync must not undo it (endpoint-sync.ts).
    if (path === "/admin/apply") {
      const seen = sync.told((body as EndpointConfig).name);
      await endpoints.apply(body as EndpointConfig);
      await seen();
      return { status: 200, body: { applied: (body as EndpointConfig).name } };
    }
    if (path === "/admin/remove") {
      const seen = sync.told((body as { name: string }).name);
      await endpoints.remove((body as { name: string }).name);
      await seen();
      await inference.flush();
      return { status: 200, body: { removed: (body as { name: string }).name } };
    }
    if (path === "/admin/apps/apply") {
      await apps.apply(body as AppConfig);
      return { status: 200, body: { applied: (body as AppConfig).name } };
    }
    if (path === "/admin/apps/remove") {
      const b = body as { name: string; project?: string; target?: string };
      const removed = await apps.remove(b.name, b.project !== undefined && b.target !== undefined ? { project: b.project, target: b.target } : undefined);
      return { status: 200, body: { removed } };
    }
    if (path === "/admin/apps/status") return { status: 200, body: apps.status() };
    if (path === "/admin/apps/ensure") {
      // Deploy asks that these recorded apps run: wait for a restore in progress, start the ones not running.
      const out = { running: [] as string[], started: [] as string[], failed: [] as Array<{ name: string; message: string }> };
      await Promise.all(
        ((body as { configs?: AppConfig[] }).configs ?? []).map(async (config) => {
          await apps.restored(config.name);
          if (apps.get(config.name)) return void out.running.push(config.name);
          try {
            await apps.apply(config);
            out.started.push(config.name);
          } catch (e) {
            out.failed.push({ name: config.name, message: (e as Error).message });
          }
        }),
      );
      return { status: 200, body: out };
    }
    if (path === "/admin/apps/logs") {
      const b = body as { name: string; offset?: number; tail?: number };
      if (!apps.get(b.name) && !apps.status().some((a) => a.name === b.name)) return { status: 404, body: { message: `no app named ${b.name} runs on this server` } };
      return { status: 200, body: apps.logOf(b.name).read(b.offset, b.tail) };
    }
    if (path === "/admin/flush") {
      await inference.flush();
      return { status: 200, body: { written: inference.stats().written } };
    }
    if (path === "/admin/status") return { status: 200, body: endpoints.list().map(endpointStatus) };
    if (path === "/admin/server") {
      return {
        status: 200,
        body: {
          ...serverInfo(),
          uptime_s: Math.round((performance.now() - startedAt) / 1000),
          idle_exit_ms: idleExitMs,
          stopping: closing !== undefined || stopRequested,
          restoring: endpoints.restoringNames(),
          endpoints: endpoints.list().map(endpointStatus),
          apps: apps.status().map(({ recent_logs: _logs, ...a }) => a),
          background: (await background?.status()) ?? [],
          inference_log: inference.stats(),
        },
      };
    }
    if (path === "/admin/ensure") {
      // Deploy asks that these recorded endpoints be served: wait for a restore in progress, start the
      // ones that are not served (the server was restarted without them, or restoring them failed).
      const out = { served: [] as string[], started: [] as string[], failed: [] as Array<{ name: string; message: string }> };
      const rows = new Map((await recordedEndpointRows(stores.state)).map((r) => [r.config.name, r]));
      await Promise.all(
        ((body as { configs?: EndpointConfig[] }).configs ?? []).map(async (config) => {
          await endpoints.restored(config.name);
          if (endpoints.get(config.name)) return void out.served.push(config.name);
          try {
            // Recorded by another server's deploy: its model files come into this home's folders.
            const row = rows.get(config.name);
            const seen = sync.told(config.name);
            await endpoints.apply(await sync.localize(row && row.config.configVersion === config.configVersion ? { ...row, config } : { config }));
            await seen();
            out.started.push(config.name);
          } catch (e) {
            out.failed.push({ name: config.name, message: (e as Error).message });
          }
        }),
      );
      return { status: 200, body: out };
    }
    if (path === "/admin/stop-if-idle") {
      // Destroy asks: stop now if nothing is left to serve (only a server that would stop when idle).
      if (idleExitMs <= 0) return { status: 200, body: { stopping: false, reason: "this server does not stop when idle" } };
      if (endpoints.list().length || endpoints.restoringNames().length || (await recordedEndpoints()).length) return { status: 200, body: { stopping: false, reason: "it still has endpoints" } };
      if (apps.list().length || apps.restoringNames().length || (await recordedApps()).length) return { status: 200, body: { stopping: false, reason: "it still has apps" } };
      if (await background?.hasDeployedWork()) return { status: 200, body: { stopping: false, reason: "it still has background work (schedules, retention)" } };
      setImmediate(() => stopByItself("no endpoint is left to serve: stopping"));
      return { status: 200, body: { stopping: true } };
    }
    return { status: 404, body: { message: `no admin route ${path}` } };
  };

  const http = createServer(handle);
  const drainer = new Drainer(http);
  // Upgrades (WebSockets) are for apps only; the gateway has none.
  http.on("upgrade", (req: IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => {
    if (req.url?.startsWith("/apps/") && !drainer.draining) appProxy.upgrade(req, socket, head);
    else if (req.url === "/admin/run-handoff" && options.handoff && !drainer.draining && !closing && String(req.headers.upgrade).toLowerCase() === "slipway-run") {
      // The admin token is in server.json (mode 0600): only this home's user can read it.
      if (!tokenMatches(req.headers["x-slipway-admin"], adminToken)) socket.end("HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      else {
        try {
          options.handoff.accept(socket, head);
        } catch (e) {
          options.log(`run hand-over: ${(e as Error).message}`);
          socket.destroy();
        }
      }
    } else socket.destroy();
  });
  http.on("clientError", answerClientError);
  function handle(req: IncomingMessage, res: ServerResponse): void {
    drainer.requests++;
    if (options.api && req.url?.startsWith("/api/")) {
      if (drainer.draining) res.setHeader("connection", "close");
      return options.api(req, res);
    }
    // Apps stream their bodies both ways (no buffering, no size bound of the gateway's).
    if (req.url?.startsWith("/apps/") || req.url === "/apps") {
      if (drainer.draining) res.setHeader("connection", "close");
      return appProxy(req, res);
    }
    if (options.web && req.method === "GET" && options.web(req, res)) return;
    if (options.web && req.method === "HEAD" && options.web(req, res)) return;
    // Plain 'data'/'end' events: cheaper per request than an async iterator over the stream.
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        if (!tooLarge) send(res, 413, { error_code: "REQUEST_TOO_LARGE", message: `request bodies are limited to ${MAX_BODY_BYTES} bytes` }, drainer.draining);
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
        if (!tokenMatches(req.headers["x-slipway-admin"], adminToken)) return send(res, 401, { message: "admin token required" }, drainer.draining);
        const out = await admin(req.url, body.length ? JSON.parse(body.toString("utf8")) : {}).catch((e: Error) => ({ status: 500, body: { message: e.message } }));
        return send(res, out.status, out.body, drainer.draining);
      }
      const path = (req.url ?? "/").split("?")[0]!;
      const out = await gateway({ method: req.method ?? "GET", path, header: (n) => headerOf(req, n), body });
      out.headers["content-length"] = String(Buffer.byteLength(out.body));
      // While draining, each answer closes its connection: the client will not send another request on it.
      if (drainer.draining) out.headers.connection = "close";
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    } catch (e) {
      send(res, 500, { error_code: "INTERNAL_ERROR", message: (e as Error).message }, drainer.draining);
    }
  }
  http.keepAliveTimeout = 30_000;

  // The endpoints recorded in state count as restoring from the first request on (503, not 404).
  let recorded: RecordedEndpoint[];
  let recordedAppConfigs: AppConfig[];
  try {
    recorded = await recordedEndpointRows(stores.state);
    sync.remember(recorded);
    recordedAppConfigs = await recordedApps();
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
    });
  } catch (e) {
    await inference.close();
    await stores.close();
    releaseServerLock(env.home, process.pid);
    throw e;
  }
  const port = (http.address() as { port: number }).port;
  // The URL clients on this machine use (a server bound to every address is reached on 127.0.0.1 too).
  const bound = options.host && options.host !== "0.0.0.0" && options.host !== "::" ? options.host : "127.0.0.1";
  const info: ServerInfo = { pid: process.pid, host: env.host, port, url: `http://${bound.includes(":") ? `[${bound}]` : bound}:${port}`, adminToken, startedAt: iso(env.clock.now()), ...(options.build && options.handoff ? { build: options.build } : {}) };
  const serverInfo = () => ({ pid: info.pid, host: info.host, port: info.port, url: info.url, started_at: info.startedAt });
  // Restoring starts before server.json is written: a client that finds the server sees them restoring.
  serverUrl = info.url;
  const byName = new Map(recorded.map((r) => [r.config.name, r]));
  const restored = endpoints.restore(
    recorded.map((r) => r.config),
    (c) => sync.localize(byName.get(c.name)!),
  );
  const appsRestored = apps.restore(recordedAppConfigs);
  writeServerInfo(env.home, info);

  const background = options.background?.(stores);

  // Inference-table retention (`inference_table.keep` / `keep_rows` of recorded endpoints), one pass at a time.
  const stopRetention = new AbortController();
  let retaining: Promise<void> | undefined;
  const retention = setInterval(() => {
    retaining ??= retainInferenceRows(inference, recordedRetention, env.clock.now(), stopRetention.signal, options.log).finally(() => (retaining = undefined));
  }, env.inferenceRetentionEveryMs);
  retention.unref();
  async function recordedRetention(): Promise<RetentionTarget[]> {
    const recorded = await stores.state.resourcesOfKind("endpoint");
    return recorded.flatMap((r) => {
      const config = r.outputs.config as EndpointConfig | undefined;
      if (!config || (config.inference.keepMs === undefined && config.inference.keepRows === undefined)) return [];
      const root = typeof r.outputs.archive_root === "string" ? r.outputs.archive_root : join(env.home, "archives", "misc");
      return [{ where: { project: config.project, target: config.target, endpoint: config.name }, rule: { keepMs: config.inference.keepMs, keepRows: config.inference.keepRows }, archive: blobStoreAt(root) }];
    });
  }

  // The recorded endpoints, followed once the restore is done, a pass at a time: at once when the state
  // database announces a change of an endpoint's record (PostgreSQL's notifications, migration 0012),
  // and every few seconds in any case (SQLite announces nothing; a notification may be missed).
  let syncing: Promise<unknown> | undefined;
  let syncAgain = false;
  const syncNow = () => {
    if (syncing) return void (syncAgain = true);
    syncing = restored
      .then(() => sync.pass())
      .catch((e: Error) => options.log(`endpoint sync: ${e.message}`))
      .finally(() => {
        syncing = undefined;
        if (syncAgain && !closing) {
          syncAgain = false;
          syncNow();
        }
      });
  };
  const syncTimer = setInterval(syncNow, env.endpointSyncMs);
  syncTimer.unref();
  const stopListening = restored
    .then(() => stores.state.listen(ENDPOINT_CHANGES, syncNow, (e) => options.log(`endpoint sync: listening for changes: ${e.message}`)))
    .catch((e: Error) => {
      options.log(`endpoint sync: cannot listen for changes (${e.message}); looking every ${env.endpointSyncMs} ms`);
      return undefined;
    });

  // Idle: no endpoint served or restoring, no request for idleExitMs, none recorded in state (the TTL
  // loop then has nothing to do either), and no background work that keeps it (deployed schedules).
  let idleSince = performance.now();
  let seenRequests = drainer.requests;
  let checking = false;
  const idleCheck =
    idleExitMs > 0
      ? setInterval(() => {
          if (checking || closing) return;
          if (endpoints.list().length || endpoints.restoringNames().length || endpoints.changing() || apps.list().length || apps.restoringNames().length || apps.changing() || drainer.requests !== seenRequests || background?.busy() || options.handoff?.busy()) {
            seenRequests = drainer.requests;
            idleSince = performance.now();
            return;
          }
          if (performance.now() - idleSince < idleExitMs) return;
          checking = true;
          Promise.all([recordedEndpoints(), background?.hasDeployedWork(), recordedApps()])
            .then(([left, busy, leftApps]) => {
              if (left.length || busy || leftApps.length) idleSince = performance.now();
              else stopByItself(`no endpoint to serve for ${idleExitMs} ms: stopping`);
            })
            .catch((e: Error) => options.log(`idle check: ${e.message}`))
            .finally(() => (checking = false));
        }, Math.max(20, Math.min(1000, Math.floor(idleExitMs / 4))))
      : undefined;
  idleCheck?.unref();

  return {
    info,
    endpoints,
    apps,
    close() {
      closing ??= (async () => {
        clearInterval(idleCheck);
        clearInterval(retention);
        clearInterval(syncTimer);
        await (await stopListening)?.();
        stopRetention.abort();
        await background?.stop().catch((e: Error) => options.log(`background work: ${e.message}`));
        // Runs handed over by a CLI end as that CLI's run would on SIGTERM: cancelled, the client told.
        await options.handoff?.stop().catch((e: Error) => options.log(`handed-over runs: ${e.message}`));
        const drainMs = options.drainMs ?? 30_000;
        const dropped = await drainer.drain(drainMs);
        if (dropped) options.log(`${dropped} connection(s) still had a request in flight after ${drainMs} ms; they were closed`);
        await syncing;
        await Promise.all([endpoints.stopAll(), apps.stopAll()]);
        await restored.catch(() => {});
        await appsRestored.catch(() => {});
        groups.clear();
        await retaining;
        // Every row recorded before the stop is written now.
        const { unwritten } = await inference.close();
        const stats = inference.stats();
        options.log(`inference log: wrote ${stats.written} row(s) since the start, dropped ${stats.dropped} row(s)${unwritten ? `; ${unwritten} row(s) could not be written (see the errors above)` : ""}`);
        await stores.close();
        removeServerInfo(env.home, process.pid);
        releaseServerLock(env.home, process.pid);
      })();
      return closing;
    },
  };
}

/** One retention pass over the recorded endpoints that have a rule; what it did goes to the server log. */
async function retainInferenceRows(inference: InferenceLog, targets: () => Promise<RetentionTarget[]>, now: number, signal: AbortSignal, log: (line: string) => void): Promise<void> {
  try {
    const outcomes = await applyRetention(inference, await targets(), now, { signal, onError: (w, e) => log(`inference retention: ${w.project}/${w.target}/${w.endpoint}: ${e.message}`) });
    for (const o of outcomes) log(`inference retention: archived ${o.rows} row(s) of ${o.where.project}/${o.where.target}/${o.where.endpoint} in ${o.files.length} file(s), last ${o.files[o.files.length - 1]}`);
  } catch (e) {
    log(`inference retention: ${(e as Error).message}`);
  }
}

/** Largest request body the server reads (a bound on memory per request). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body: unknown, closeConnection = false): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) };
  if (closeConnection) headers.connection = "close";
  res.writeHead(status, headers);
  res.end(text);
}
