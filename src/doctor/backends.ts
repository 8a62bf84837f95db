// `slipway doctor`: the backends of the home (SLIPWAY_HOME/config.yaml) and of the target checked,
// where each comes from, and whether each answers: the PostgreSQL server (a connection and a query),
// the bucket (one listing of at most one key), the Slurm controller (checks.ts's checkSlurm). Nothing
// is written: no table is created, no object put.
import { createRequire } from "node:module";
import { join } from "node:path";
import { HOME_CONFIG_FILE, loadHomeConfig, type HomeConfig } from "../config/home-config.js";
import { formatLocation, InvalidInputError, SlipwayError } from "../errors.js";
import type { RuntimeEnv } from "../env.js";
import { S3BlobStore } from "../store/blobs/s3/s3-blob-store.js";
import type { Check } from "./checks.js";

export type BackendSource = "target" | "home" | "default";

/** Which backend a target resolved to, and from where: its own setting, the home's config.yaml, the default. */
export interface ResolvedBackends {
  state: { type: string; from: BackendSource };
  blobs: { type: string; from: BackendSource };
  executor: { type: string; from: BackendSource };
}

const DEFAULT_TYPES = { state: "sqlite", blobs: "fs", executor: "local" } as const;

/** The home's config.yaml and a check saying what it names (none without the file), or what is wrong with it. */
export function readHomeBackends(env: RuntimeEnv): { config?: HomeConfig; check?: Check } {
  const file = join(env.home, HOME_CONFIG_FILE);
  try {
    const config = loadHomeConfig(env.home, env.processEnv);
    const named = (["state", "blobs", "executor"] as const).filter((k) => config[k]).map((k) => `${k} ${describe(k, config[k])}`);
    if (!named.length) return { config };
    return { config, check: { name: "backends", status: "ok", message: `${file}: ${named.join(", ")}` } };
  } catch (e) {
    if (e instanceof InvalidInputError) {
      const d = e.diagnostics[0];
      const where = d?.location ? `${formatLocation(d.location)}: ` : "";
      return { check: { name: "backends", status: "fail", message: `${file} has ${e.diagnostics.length} problem(s): ${where}${d?.message ?? e.message}`, fix: d?.hint ?? "keys: state, blobs, executor (docs/scale-out.md, \"The home's backends\")" } };
    }
    if (e instanceof SlipwayError) return { check: { name: "backends", status: "fail", message: e.message, fix: e.hint } };
    throw e;
  }
}

/** Where each of a target's backends comes from (its configuration already has the home's merged in). */
export function resolvedBackends(target: HomeConfig, home: HomeConfig): ResolvedBackends {
  const one = <K extends keyof HomeConfig>(k: K) => {
    const value = target[k];
    if (!value) return { type: DEFAULT_TYPES[k], from: "default" as const };
    const from: BackendSource = home[k] && JSON.stringify(home[k]) === JSON.stringify(value) ? "home" : "target";
    return { type: String(value.type), from };
  };
  return { state: one("state"), blobs: one("blobs"), executor: one("executor") };
}

/** Checks that the PostgreSQL state and the S3 bucket named answer (the slurm executor is checkSlurm's). */
export async function checkBackendReach(backends: HomeConfig, forWhat: string): Promise<Check[]> {
  const checks: Check[] = [];
  if (backends.state?.type === "postgres") checks.push(await checkPostgres(String(backends.state.url ?? ""), forWhat));
  if (backends.blobs?.type === "s3") checks.push(await checkBucket(backends.blobs, forWhat));
  return checks;
}

async function checkPostgres(url: string, forWhat: string): Promise<Check> {
  const where = safeUrl(url);
  const fix = `check that the server runs and that the url (${where}) names a database this user may open: psql "URL" -c 'select 1'`;
  if (!url) return { name: "state", status: "fail", message: `state { type: postgres } has no url; ${forWhat}`, fix: "state: { type: postgres, url: postgres://USER@HOST:PORT/DATABASE }" };
  // Loaded only when a PostgreSQL backend is named (the CLI bundle is CommonJS).
  const { Client } = createRequire(import.meta.url)("pg") as typeof import("pg");
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000, query_timeout: 10_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    const version = String((await client.query("show server_version")).rows[0]?.server_version ?? "?");
    return { name: "state", status: "ok", message: `PostgreSQL ${version.split(" ")[0]} at ${where} answers, ${forWhat}` };
  } catch (e) {
    return { name: "state", status: "fail", message: `PostgreSQL at ${where} does not answer: ${(e as Error).message}; ${forWhat}`, fix };
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkBucket(blobs: NonNullable<HomeConfig["blobs"]>, forWhat: string): Promise<Check> {
  if (blobs.type !== "s3") throw new Error("not an s3 backend");
  let store: S3BlobStore;
  try {
    store = new S3BlobStore({ bucket: blobs.bucket, prefix: blobs.prefix, endpoint: blobs.endpoint, region: blobs.region, profile: blobs.profile, forcePathStyle: blobs.path_style });
  } catch (e) {
    return { name: "blobs", status: "fail", message: `${(e as Error).message}; ${forWhat}`, fix: (e as SlipwayError).hint };
  }
  try {
    await store.probe();
    return { name: "blobs", status: "ok", message: `bucket ${store.location} can be listed, ${forWhat}` };
  } catch (e) {
    return { name: "blobs", status: "fail", message: `${(e as Error).message}; ${forWhat}`, fix: (e as SlipwayError).hint ?? "check the bucket, the endpoint and the AWS credentials" };
  }
}

/** A connection URL without its password. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(not a URL)";
  }
}

function describe(kind: keyof HomeConfig, value: HomeConfig[keyof HomeConfig]): string {
  const v = value as Record<string, unknown>;
  if (kind === "state") return v.type === "postgres" ? `postgres (${safeUrl(String(v.url ?? ""))})` : String(v.type);
  if (kind === "blobs") return v.type === "s3" ? `s3 (bucket ${v.bucket}${v.prefix ? `, prefix ${v.prefix}` : ""}${v.endpoint ? ` at ${v.endpoint}` : ""})` : `fs${v.path ? ` (${v.path})` : ""}`;
  return v.type === "slurm" ? `slurm${v.partition ? ` (partition ${v.partition})` : ""}` : String(v.type);
}
