// The only place that reads Slipway's own environment variables. Everything else receives these values.
import { homedir, hostname, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { offsetClock, systemClock, type Clock } from "./clock.js";

export interface RuntimeEnv {
  /** Where embedded state lives: state.db, blobs/, runs/, logs/. */
  home: string;
  user: string;
  host: string;
  pid: number;
  /** SLIPWAY_VAR_<NAME> values, by NAME. */
  varOverrides: Record<string, string>;
  /** Lease length for deploy locks, in ms. */
  lockTtlMs: number;
  clock: Clock;
  /** Crash-test failpoints, e.g. "apply.after-action=3" (see engine/failpoint.ts). */
  failpoint?: string;
  /** Maximum number of actions applied at once. */
  parallelism: number;
  /** A failed task's first retry waits this long, each further one twice as long. */
  retryBackoffMs: number;
  /** Port of the local server on 127.0.0.1 (0: any free one). */
  serverPort: number;
  /** How often the server's TTL reaper runs. */
  reapEveryMs: number;
  /** SLIPWAY_SERVER_IDLE_MS: the server stops after this long with nothing to serve (0: never; unset: the default of how it was started). */
  serverIdleMs?: number;
  color: boolean;
  /** SLIPWAY_DEBUG: errors print their stack. */
  debug: boolean;
  /** SLIPWAY_TOKEN: the bearer token `endpoints query` sends (else the user's local token). */
  token?: string;
  /** The process environment hooks and jobs start from. */
  processEnv: NodeJS.ProcessEnv;
}

export function readRuntimeEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const varOverrides: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith("SLIPWAY_VAR_") && value !== undefined) varOverrides[key.slice("SLIPWAY_VAR_".length)] = value;
  }
  const offset = Number(env.SLIPWAY_CLOCK_OFFSET_MS ?? 0);
  let user = env.SLIPWAY_USER ?? env.USER;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = "unknown";
    }
  }
  return {
    home: resolve(env.SLIPWAY_HOME ?? join(homedir(), ".slipway")),
    user,
    host: hostname(),
    pid: process.pid,
    varOverrides,
    lockTtlMs: positiveNumber(env.SLIPWAY_LOCK_TTL_MS, 60_000),
    clock: offset ? offsetClock(offset) : systemClock,
    failpoint: env.SLIPWAY_FAILPOINT || undefined,
    parallelism: positiveNumber(env.SLIPWAY_PARALLELISM, 8),
    retryBackoffMs: positiveNumber(env.SLIPWAY_RETRY_BACKOFF_MS, 1000),
    serverPort: env.SLIPWAY_SERVER_PORT !== undefined && /^\d+$/.test(env.SLIPWAY_SERVER_PORT) ? Number(env.SLIPWAY_SERVER_PORT) : 7878,
    reapEveryMs: positiveNumber(env.SLIPWAY_REAP_INTERVAL_MS, 60_000),
    serverIdleMs: env.SLIPWAY_SERVER_IDLE_MS !== undefined && /^\d+$/.test(env.SLIPWAY_SERVER_IDLE_MS) ? Number(env.SLIPWAY_SERVER_IDLE_MS) : undefined,
    color: !env.NO_COLOR && env.FORCE_COLOR !== "0",
    debug: !!env.SLIPWAY_DEBUG,
    token: env.SLIPWAY_TOKEN || undefined,
    processEnv: env,
  };
}

/** The process environment with some variables set (the SDK's `home` option sets SLIPWAY_HOME). */
export function readRuntimeEnvWith(overrides: NodeJS.ProcessEnv): RuntimeEnv {
  return readRuntimeEnv({ ...process.env, ...overrides });
}

function positiveNumber(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw && Number.isFinite(n) && n > 0 ? n : fallback;
}
