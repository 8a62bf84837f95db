// The only place that reads Slipway's own environment variables. Everything else receives these values.
import { homedir, hostname, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { offsetClock, systemClock, type Clock } from "./clock.js";
import { InvalidInputError } from "./errors.js";

/**
 * A user name that passed USER_NAME: the one rule for who someone is, wherever a name enters
 * (SLIPWAY_USER, tokens, permissions). It names files (credentials/<user>.token) and is written to
 * state and logs, so it never holds a path separator, "..", whitespace or control characters.
 */
export type UserName = string & { readonly __userName: unique symbol };

export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$/;
export const USER_NAME_MAX = 128;
export const USER_NAME_RULE = `1 to ${USER_NAME_MAX} letters, digits, "_", ".", "@", "+" and "-", starting with a letter, digit or "_"`;

/** Why `name` is not a valid user name, or undefined. */
export function userNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.length > USER_NAME_MAX) return `is ${name.length} characters long (at most ${USER_NAME_MAX})`;
  if (!USER_NAME.test(name)) return `is not a valid user name: use ${USER_NAME_RULE}`;
  return undefined;
}

/** `name` as a UserName; invalid input (exit 2) naming `what` otherwise. */
export function toUserName(name: string, what: string, hint?: string): UserName {
  const problem = userNameProblem(name);
  if (problem) {
    const shown = JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
    throw new InvalidInputError([{ message: `${what} ${shown} ${problem}`, hint: hint ?? `user names are ${USER_NAME_RULE}` }], "invalid_user");
  }
  return name as UserName;
}

export interface RuntimeEnv {
  /** Where embedded state lives: state.db, blobs/, runs/, logs/. */
  home: string;
  /** SLIPWAY_USER, else the login name; always valid (see USER_NAME). */
  user: UserName;
  /** SLIPWAY_HOST_ID, else the hostname: names this machine in run records (see hostIdentity). */
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
  /** SLIPWAY_INFERENCE_QUEUE_ROWS: inference-table rows the server holds before they are written, at most (beyond, it drops and counts them). */
  inferenceQueueRows: number;
  /** SLIPWAY_ENDPOINT_SYNC_MS: how often the server looks for endpoints deployed or removed through another server on its state database. */
  endpointSyncMs: number;
  /** SLIPWAY_INFERENCE_RETENTION_INTERVAL_MS: how often the server applies the inference tables' retention (`keep`, `keep_rows`). */
  inferenceRetentionEveryMs: number;
  /** SLIPWAY_SERVER_BLOBS: where the control plane keeps uploaded sources (a folder, or s3://BUCKET/PREFIX?endpoint=…&region=…); else SLIPWAY_HOME/server/sources/blobs. */
  serverBlobs?: string;
  /** SLIPWAY_SERVER_IDLE_MS: the server stops after this long with nothing to serve (0: never; unset: the default of how it was started). */
  serverIdleMs?: number;
  color: boolean;
  /** SLIPWAY_DEBUG: errors print their stack. */
  debug: boolean;
  /** SLIPWAY_TOKEN: the bearer token `endpoints query` sends (else the user's local token). */
  token?: string;
  /** SLIPWAY_SERVER: the control plane the CLI talks to (else `slipway login`'s, else embedded mode). */
  server?: string;
  /** SLIPWAY_BOOTSTRAP_TOKEN: the first administrator's token, for automation (else one is made and printed once). */
  bootstrapToken?: string;
  /** SLIPWAY_SMTP_URL: the SMTP server pipeline e-mail goes through when a channel names none (smtp://user:password@host:port). */
  smtpUrl?: string;
  /** The process environment hooks and jobs start from. */
  processEnv: NodeJS.ProcessEnv;
  /** Stores kept open by the server for the runs CLIs hand it (src/cli/run-handoff); unset: each operation opens its own. */
  storePool?: import("./store/open.js").StorePool;
}

/** Whether SLIPWAY_DEBUG asks for stack traces; readable even when the rest of the environment is invalid. */
export function debugRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.SLIPWAY_DEBUG;
}

export function readRuntimeEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const varOverrides: Record<string, string> = Object.create(null); // names are data: SLIPWAY_VAR___proto__ too
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith("SLIPWAY_VAR_") && value !== undefined) varOverrides[key.slice("SLIPWAY_VAR_".length)] = value;
  }
  const offset = Number(env.SLIPWAY_CLOCK_OFFSET_MS ?? 0);
  let user: UserName;
  if (env.SLIPWAY_USER !== undefined) {
    user = toUserName(env.SLIPWAY_USER, "SLIPWAY_USER", `set SLIPWAY_USER to a user name: ${USER_NAME_RULE}`);
  } else {
    let login = env.USER;
    if (!login) {
      try {
        login = userInfo().username;
      } catch {
        login = "unknown";
      }
    }
    user = toUserName(login, "the login name (USER)", `set SLIPWAY_USER to a user name: ${USER_NAME_RULE}`);
  }
  return {
    home: resolve(env.SLIPWAY_HOME ?? join(homedir(), ".slipway")),
    user,
    host: hostIdentity(env),
    pid: process.pid,
    varOverrides,
    lockTtlMs: positiveNumber(env.SLIPWAY_LOCK_TTL_MS, 60_000),
    clock: offset ? offsetClock(offset) : systemClock,
    failpoint: env.SLIPWAY_FAILPOINT || undefined,
    parallelism: positiveNumber(env.SLIPWAY_PARALLELISM, 8),
    retryBackoffMs: positiveNumber(env.SLIPWAY_RETRY_BACKOFF_MS, 1000),
    serverPort: env.SLIPWAY_SERVER_PORT !== undefined && /^\d+$/.test(env.SLIPWAY_SERVER_PORT) ? Number(env.SLIPWAY_SERVER_PORT) : 7878,
    reapEveryMs: positiveNumber(env.SLIPWAY_REAP_INTERVAL_MS, 60_000),
    inferenceQueueRows: positiveNumber(env.SLIPWAY_INFERENCE_QUEUE_ROWS, 100_000),
    inferenceRetentionEveryMs: positiveNumber(env.SLIPWAY_INFERENCE_RETENTION_INTERVAL_MS, 60_000),
    endpointSyncMs: positiveNumber(env.SLIPWAY_ENDPOINT_SYNC_MS, 5_000),
    serverBlobs: env.SLIPWAY_SERVER_BLOBS || undefined,
    serverIdleMs: env.SLIPWAY_SERVER_IDLE_MS !== undefined && /^\d+$/.test(env.SLIPWAY_SERVER_IDLE_MS) ? Number(env.SLIPWAY_SERVER_IDLE_MS) : undefined,
    color: !env.NO_COLOR && env.FORCE_COLOR !== "0",
    debug: !!env.SLIPWAY_DEBUG,
    token: env.SLIPWAY_TOKEN || undefined,
    server: env.SLIPWAY_SERVER || undefined,
    bootstrapToken: env.SLIPWAY_BOOTSTRAP_TOKEN || undefined,
    smtpUrl: env.SLIPWAY_SMTP_URL || undefined,
    processEnv: env,
  };
}

/**
 * The name of this machine in run records and leases: SLIPWAY_HOST_ID, else the hostname. A run's
 * processes are signalled only by a process on the machine of the same name, so two machines (or
 * containers with separate process tables) that share a hostname must set different SLIPWAY_HOST_IDs.
 */
export function hostIdentity(env: NodeJS.ProcessEnv = process.env): string {
  const id = env.SLIPWAY_HOST_ID?.trim();
  return id ? id : hostname();
}

/**
 * SLIPWAY_RUN_INSTRUCTIONS: a Kubernetes pod's runner instructions (src/executors/kubernetes). Taken out
 * of the environment once read, with SLIPWAY_STATE_URL, so the tasks the runner starts never see them.
 */
export function takeRunInstructions(env: NodeJS.ProcessEnv = process.env): { text?: string; stateUrl?: string } {
  const taken = { text: env.SLIPWAY_RUN_INSTRUCTIONS, stateUrl: env.SLIPWAY_STATE_URL };
  delete env.SLIPWAY_RUN_INSTRUCTIONS;
  delete env.SLIPWAY_STATE_URL;
  return taken;
}

/** The process environment with some variables set (the SDK's `home` option sets SLIPWAY_HOME). */
export function readRuntimeEnvWith(overrides: NodeJS.ProcessEnv): RuntimeEnv {
  return readRuntimeEnv({ ...process.env, ...overrides });
}

function positiveNumber(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw && Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * The AWS SDK for JavaScript warns (once per process, several lines on stderr) that its releases after
 * January 2027 need Node.js 22; the versions Slipway depends on run on Node.js 20. Switched off through
 * the SDK's own variable unless the user set it; called before the SDK is loaded (store/blobs/s3).
 */
export function quietAwsSdk(): void {
  if (!process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
}
