// Client side of the local server: find it (SLIPWAY_HOME/server.json), start it in the background when
// it is not running (deploy needs no manual server start), and call its admin routes.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { SlipwayError } from "../errors.js";
import type { Clock } from "../clock.js";
import type { RuntimeEnv } from "../env.js";
import { cliEntry } from "../util/package-root.js";
import { homeBackendEnvironment } from "../config/home-config.js";
import { processAlive } from "../util/run-script.js";
import { restoreFiles, type FileHashes } from "../bundles/output-files.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import type { EndpointConfig } from "./endpoints.js";
import type { AppConfig } from "./apps/config.js";
import type { AppStatus } from "./apps/apps.js";
import { materializeBundle } from "../bundles/index.js";
import type { InferenceLogStats } from "./inference-log.js";
import { openInferenceReader } from "./inference-table.js";
import { inferencePlace } from "./inference-place.js";
import { readServerInfo, type ServerInfo } from "./server-file.js";

export async function runningServer(env: RuntimeEnv): Promise<ServerInfo | undefined> {
  const info = readServerInfo(env.home);
  if (!info || info.host !== env.host || !processAlive(info.pid)) return undefined;
  try {
    const r = await fetch(`${info.url}/v2/health/live`, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.ok ? info : undefined;
  } catch {
    return undefined;
  }
}

const starting = new Map<string, Promise<ServerInfo>>();

/** A server started in the background (by deploy or a query) stops after this long with nothing to serve. */
export const DEFAULT_BACKGROUND_IDLE_MS = 60_000;

/** The running server for this home, started in the background if needed (once, however many ask at once). */
export function ensureServer(env: RuntimeEnv): Promise<ServerInfo> {
  let pending = starting.get(env.home);
  if (!pending) {
    pending = startIfNeeded(env).finally(() => starting.delete(env.home));
    starting.set(env.home, pending);
  }
  return pending;
}

async function startIfNeeded(env: RuntimeEnv, attempt = 1): Promise<ServerInfo> {
  const running = await runningServer(env);
  if (running) return running;
  // A server that is stopping (draining after `server stop`, or idle) no longer answers but still holds
  // the lock: let it finish, then start a new one.
  const stopping = readServerInfo(env.home);
  if (stopping && stopping.host === env.host && processAlive(stopping.pid) && isServerProcess(stopping.pid)) await waitForExit(stopping.pid, STOP_WAIT_MS, env.clock);
  mkdirSync(join(env.home, "logs"), { recursive: true });
  const logFile = join(env.home, "logs", "server.log");
  const out = openSync(logFile, "a");
  let exited: number | null | undefined;
  try {
    // A server started for a deploy stops by itself once it has nothing left to serve.
    const idle = String(env.serverIdleMs ?? DEFAULT_BACKGROUND_IDLE_MS);
    const child = spawn(process.execPath, [cliEntry(), "server", "--idle-exit", idle, "--no-bootstrap"], { env: { ...serverEnvironment(env.processEnv), ...homeBackendEnvironment(env.home, env.processEnv), SLIPWAY_HOME: env.home }, detached: true, stdio: ["ignore", out, out] });
    child.on("exit", (code) => (exited = code));
    child.unref();
  } finally {
    closeSync(out);
  }
  const deadline = env.clock.now() + 20_000;
  while (env.clock.now() < deadline) {
    await env.clock.sleep(50);
    const info = await runningServer(env);
    if (info) return info;
    if (exited !== undefined) {
      // It stopped at once (a taken port, another server starting): say why instead of waiting.
      const tail = readFileSync(logFile, "utf8").trim().split("\n").slice(-3).join("\n  ");
      const racing = await runningServer(env);
      if (racing) return racing;
      // Refused because another server still held the lock (it was stopping): once more.
      if (exited === 3 && attempt === 1) return startIfNeeded(env, 2);
      throw new SlipwayError("server_unavailable", `the local Slipway server exited at start (code ${exited}):\n  ${tail}`, { hint: "free the port (SLIPWAY_SERVER_PORT, default 7878) or stop the other server; `slipway server` shows the error in a terminal" });
    }
  }
  throw new SlipwayError("server_unavailable", "the local Slipway server did not start within 20 s", { hint: `see ${join(env.home, "logs", "server.log")}, or run \`slipway server\` in a terminal` });
}

/** Whether a pid is a `slipway server` process (not another process that reused the pid); true without /proc. */
function isServerProcess(pid: number): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return args.includes("server");
  } catch {
    return !existsSync("/proc/self/cmdline");
  }
}

/**
 * The environment the background server (and the model servers it starts) gets: not the whole
 * environment of whichever command happened to start it (its secrets, tokens, cloud credentials) —
 * one server serves every project of this SLIPWAY_HOME. The certificates to trust come along (a
 * private CA for an S3 store or a registry): they are paths, not secrets.
 */
const SERVER_ENV = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LC_[A-Z]+|TZ|TMPDIR|NO_COLOR|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|SLIPWAY_HOME|SLIPWAY_USER|SLIPWAY_SERVER_PORT|SLIPWAY_REAP_INTERVAL_MS|SLIPWAY_SERVER_IDLE_MS|SLIPWAY_CLOCK_OFFSET_MS|SLIPWAY_INFERENCE_QUEUE_ROWS|SLIPWAY_INFERENCE_RETENTION_INTERVAL_MS|SLIPWAY_ENDPOINT_SYNC_MS|SLIPWAY_HOST_ID)$/;

export function serverEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => SERVER_ENV.test(k)));
}

export async function adminCall<T = unknown>(info: ServerInfo, path: string, body: unknown = {}): Promise<T> {
  const r = await fetch(`${info.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-slipway-admin": info.adminToken }, body: JSON.stringify(body) });
  const text = await r.text();
  const parsed = text ? JSON.parse(text) : {};
  if (!r.ok) throw new SlipwayError("server_error", `the Slipway server refused ${path}: ${(parsed as { message?: string }).message ?? text}`);
  return parsed as T;
}

/**
 * What the endpoint kind needs from serving, and nothing more: the provider never starts a server or
 * opens SLIPWAY_HOME itself. `localServingControl` is the one implementation today (the server of
 * this SLIPWAY_HOME); the control-plane server will hand in its own.
 */
export interface ServingControl {
  /** A local folder holding a model version's files, restored once from `source` (the archive that keeps them). */
  modelDir(model: string, version: number, files: FileHashes, source: BlobStore): Promise<string>;
  /** Hands an endpoint's configuration to the server (starting it when needed); returns the server's base URL. */
  apply(config: EndpointConfig): Promise<{ url: string }>;
  /** Stops an endpoint's traffic, then moves its inference table into `archive` (archive first, delete after). */
  retire(name: string, archive: BlobStore): Promise<{ archived: number; key?: string }>;
  /**
   * Removes this target's local model folders (made by `modelDir`) that `keep` does not name: the
   * folders recorded endpoints still serve. Returns the folders removed.
   */
  sweepModelDirs(keep: ReadonlySet<string>): Promise<string[]>;
}

/** This home's folder for a model version's files. */
export function modelDirOf(home: string, v: { project: string; target: string; model: string; version: number }): string {
  return join(home, "models", v.project, v.target, v.model, String(v.version));
}

/** This home's folder holding a model version's files, restored once from `source` (the archive that keeps them). */
export async function localModelDir(home: string, v: { project: string; target: string; model: string; version: number }, files: FileHashes, source: BlobStore): Promise<string> {
  const dir = modelDirOf(home, v);
  if (!existsSync(join(dir, ".complete"))) {
    await restoreFiles(source, files, dir);
    writeFileSync(join(dir, ".complete"), "");
  }
  return dir;
}

export function localServingControl(env: RuntimeEnv, project: string, target: string): ServingControl {
  return {
    modelDir: (model, version, files, source) => localModelDir(env.home, { project, target, model, version }, files, source),
    async apply(config) {
      const server = await ensureServer(env);
      await adminCall(server, "/admin/apply", config);
      return { url: server.url };
    },
    retire: (name, archive) => retireEndpoint(env, project, target, name, archive),
    sweepModelDirs: (keep) => sweepModelDirs(join(env.home, "models"), project, target, keep),
  };
}

/**
 * What the app kind needs from the server: a local folder for a bundle, and the app's configuration
 * handed over (rolling: the new replicas are healthy before the route switches) or withdrawn.
 */
export interface AppControl {
  /** A local folder holding the app's bundle, laid out once from `blobs`. */
  appDir(name: string, bundle: string, blobs: BlobStore): Promise<string>;
  /** Hands the app to the server (starting it when needed); returns the server's base URL. */
  apply(config: AppConfig): Promise<{ url: string }>;
  /** Stops the app and removes its route (nothing to do when no server runs). */
  remove(name: string): Promise<void>;
  /** Removes the app's local bundle folders that `keep` does not name. */
  sweepAppDirs(name: string, keep: ReadonlySet<string>): Promise<string[]>;
}

export function localAppControl(env: RuntimeEnv, project: string, target: string): AppControl {
  const root = join(env.home, "apps", project, target);
  return {
    async appDir(name, bundle, blobs) {
      const dir = join(root, name, bundle);
      if (!existsSync(join(dir, ".slipway-complete"))) {
        // A folder a crash left half written is laid out again from scratch.
        await rm(dir, { recursive: true, force: true });
        await materializeBundle(blobs, bundle, dir);
        writeFileSync(join(dir, ".slipway-complete"), "");
      }
      return dir;
    },
    async apply(config) {
      const server = await ensureServer(env);
      await adminCall(server, "/admin/apps/apply", config);
      return { url: server.url };
    },
    async remove(name) {
      const server = await runningServer(env);
      if (server) await adminCall(server, "/admin/apps/remove", { name, project, target });
    },
    async sweepAppDirs(name, keep) {
      const removed: string[] = [];
      const appRoot = join(root, name);
      for (const bundle of existsSync(appRoot) ? readdirSync(appRoot) : []) {
        const dir = join(appRoot, bundle);
        if (keep.has(dir)) continue;
        await rm(dir, { recursive: true, force: true });
        removed.push(dir);
      }
      for (const dir of [appRoot, root, join(env.home, "apps", project), join(env.home, "apps")]) {
        if (!existsSync(dir) || readdirSync(dir).length) break;
        await rm(dir, { recursive: true, force: true });
      }
      return removed;
    },
  };
}

/** The apps the running server runs (empty when none runs). */
export async function appsStatus(env: RuntimeEnv): Promise<AppStatus[]> {
  const info = await runningServer(env);
  return info ? adminCall<AppStatus[]>(info, "/admin/apps/status") : [];
}

async function sweepModelDirs(root: string, project: string, target: string, keep: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  const targetDir = join(root, project, target);
  const children = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  for (const model of children(targetDir)) {
    for (const version of children(join(targetDir, model))) {
      const dir = join(targetDir, model, version);
      if (keep.has(dir)) continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
    if (children(join(targetDir, model)).length === 0) await rm(join(targetDir, model), { recursive: true, force: true });
  }
  for (const dir of [targetDir, join(root, project)]) {
    if (!existsSync(dir) || children(dir).length) break;
    await rm(dir, { recursive: true, force: true });
  }
  return removed;
}

/** Stops the endpoint's traffic, then moves its inference table into the archive store. */
export async function retireEndpoint(env: RuntimeEnv, project: string, target: string, name: string, archive: BlobStore): Promise<{ archived: number; key?: string }> {
  const server = await runningServer(env);
  if (server) await adminCall(server, "/admin/remove", { name });
  const table = await openInferenceReader(inferencePlace(env.home, env.processEnv));
  try {
    const where = { project, target, endpoint: name };
    const stamp = new Date(env.clock.now()).toISOString().replace(/[:.]/g, "-");
    const key = `inference/${project}/${target}/${name}/${stamp}.jsonl.gz`;
    // Archive first, delete after: rows leave the table only once the archive holds them.
    const rows = await table.takeAll(where, (data) => archive.put(key, data));
    return rows === 0 ? { archived: 0 } : { archived: rows, key };
  } finally {
    await table.close();
  }
}

/** Time `server stop` (and destroy) wait for the server to exit: its drain (30 s) plus stopping models. */
export const STOP_WAIT_MS = 45_000;

/** Sends SIGTERM to the server and waits for it to exit. */
export async function stopServer(info: ServerInfo, clock: Clock, waitMs = STOP_WAIT_MS): Promise<"stopped" | "timeout"> {
  try {
    process.kill(info.pid, "SIGTERM");
  } catch {
    return "stopped";
  }
  return waitForExit(info.pid, waitMs, clock);
}

async function waitForExit(pid: number, waitMs: number, clock: Clock): Promise<"stopped" | "timeout"> {
  const deadline = clock.now() + waitMs;
  while (processAlive(pid) && clock.now() < deadline) await clock.sleep(50);
  return processAlive(pid) ? "timeout" : "stopped";
}

/**
 * After a destroy: asks the running server to stop if it has nothing left to serve (only a server that
 * stops when idle, as the one deploy starts). `stopped` holds its info when it stopped; `problem` says
 * why asking failed or why it did not stop in time (a server that keeps running because it still has
 * work, or was started to keep running, is neither).
 */
export async function stopServerIfIdle(env: RuntimeEnv): Promise<{ stopped?: ServerInfo; problem?: string }> {
  const info = await runningServer(env);
  if (!info) return {};
  let answer: { stopping: boolean };
  try {
    answer = await adminCall<{ stopping: boolean }>(info, "/admin/stop-if-idle");
  } catch (e) {
    // It may have stopped by itself meanwhile (its idle check saw the last endpoint go).
    if (!processAlive(info.pid)) return { stopped: info };
    return { problem: `could not ask the local Slipway server (pid ${info.pid}) to stop: ${(e as Error).message}` };
  }
  if (!answer.stopping) return {};
  if ((await waitForExit(info.pid, STOP_WAIT_MS, env.clock)) === "stopped") return { stopped: info };
  return { problem: `the local Slipway server (pid ${info.pid}) was asked to stop but has not within ${STOP_WAIT_MS / 1000} s: see ${env.home}/logs/server.log` };
}

export interface ServerStatus {
  pid: number;
  host: string;
  port: number;
  url: string;
  started_at: string;
  uptime_s: number;
  idle_exit_ms: number;
  stopping: boolean;
  restoring: string[];
  endpoints: Array<{ name: string; project: string; target: string; config_version: number; ready: boolean; served: Array<{ model: string; version: number; percent: number; ready: boolean; replicas: number; ready_replicas: number; pids: number[] }> }>;
  /** The inference log's counters (absent from a server older than them). */
  inference_log?: InferenceLogStats;
  /** Each background loop's and unit's last run and next run (src/server/background). */
  background?: Array<{ unit: string; owner: string | null; last_started_at: string | null; last_finished_at: string | null; last_outcome: string | null; last_message: string | null; next_at: string | null }>;
}

/** What the running server says about itself, or undefined when none runs. */
export async function serverStatus(env: RuntimeEnv): Promise<ServerStatus | undefined> {
  const info = await runningServer(env);
  return info ? adminCall<ServerStatus>(info, "/admin/server") : undefined;
}

/**
 * A request to the gateway that waits out a 503 with Retry-After (an endpoint being restored after a
 * server start, or a model restarting), for up to `waitMs`; then returns the last answer.
 */
export async function fetchRetrying(url: string, init: RequestInit, clock: Clock, waitMs = 30_000): Promise<Response> {
  const deadline = clock.now() + waitMs;
  for (;;) {
    const r = await fetch(url, init);
    const after = r.status === 503 ? Number(r.headers.get("retry-after")) : NaN;
    if (!(after >= 0) || clock.now() + after * 1000 > deadline) return r;
    await r.arrayBuffer();
    await clock.sleep(Math.max(50, after * 1000));
  }
}
