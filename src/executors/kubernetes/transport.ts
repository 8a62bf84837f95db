// What a run's pod needs to find its way, and how it travels without a secret value in the Job.
//
// The runner's instructions (the run folder's run.json on the local and Slurm executors) go into the
// pod as one environment variable. Every secret value in them is replaced by a marker naming the
// variable that holds it: the module environment's variables holding secrets are keys of the Secret
// the executor names (the keys `slipway export` uses), and a PostgreSQL state URL with a password is
// the key SLIPWAY_STATE_URL. The pod receives those through secretKeyRef, and the runner puts the
// values back (`expandInstructions`). So the Job body, which anyone who may read Jobs can read, holds
// names of secrets, never their values.
//
// `reachability` is the other half: which of the target's stores a pod reaches (network stores always;
// folders only under the executor's shared volume), refused before any run is recorded.
import { isAbsolute, relative, resolve } from "node:path";
import { SlipwayError } from "../../errors.js";
import type { ArchiveConfig } from "../../store/archives.js";
import { ARCHIVE_KINDS } from "../../store/archives.js";
import type { BackendSpec, BlobBackend } from "../../store/open.js";
import { splitEnvironment } from "../../util/kubernetes/environment.js";

/** The fields of the runner's instructions (src/runs/instructions.ts) the executor reads or rewrites. */
export interface TransportedInstructions {
  runId: string;
  project: string;
  target: string;
  projectDir: string;
  home: string;
  state?: BackendSpec;
  blobs?: BlobBackend;
  archives: ArchiveConfig;
  env: Record<string, string>;
  secrets: string[];
  [field: string]: unknown;
}

/** The Secret key a PostgreSQL state URL holding a password is read from. */
export const STATE_URL_KEY = "SLIPWAY_STATE_URL";
/** Marks a secret's place in the transported text: MARK NAME MARK (a control character no config value holds). */
const MARK = "\u0001";

export interface Transport {
  /** The instructions as JSON, secrets replaced by markers. */
  text: string;
  /** Keys of the Secret the pod must read (each becomes the container variable of the same name). */
  secretKeys: string[];
}

/** Replaces every secret value in `instructions` by a marker naming the Secret key that holds it. */
export function transportInstructions(instructions: TransportedInstructions, where: string): Transport {
  const split = splitEnvironment(instructions.env, instructions.secrets, where);
  const holders = new Map(split.holders);
  const secretKeys = new Set(split.secretKeys);
  const url = instructions.state?.type === "postgres" ? instructions.state.url : undefined;
  if (typeof url === "string" && hasPassword(url)) {
    holders.set(url, STATE_URL_KEY);
    secretKeys.add(STATE_URL_KEY);
  }
  const values = [...holders.keys()].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
  const replace = (text: string): string => {
    if (text.includes(MARK)) throw new SlipwayError("kubernetes_unsupported", `${where}: a value of the run holds the control character U+0001`, { hint: "remove it from the env file or variable" });
    let out = text;
    for (const v of values) out = out.split(v).join(`${MARK}${holders.get(v)}${MARK}`);
    return out;
  };
  // The values to mask in the pod are those it can know: a secret of the project that this run's
  // environment does not hold (another module's) is not sent at all, not even as a marker.
  const held = instructions.secrets.filter((s) => holders.has(s));
  const text = JSON.stringify({ ...instructions, secrets: held }, (_key, value: unknown) => (typeof value === "string" ? replace(value) : value));
  // A secret no variable holds exactly (part of a longer value only) cannot be referred to: refused.
  const left = instructions.secrets.filter((s) => s.length > 0 && !holders.has(s) && text.includes(JSON.stringify(s).slice(1, -1)));
  if (left.length) {
    throw new SlipwayError("secret_in_command", `${where}: the run holds a secret value that no environment variable holds on its own, so it cannot be read from the Kubernetes Secret`, {
      hint: "put the secret in a variable (variables: { NAME: { secret: true } }) and use ${var.NAME} as the whole value of an env entry",
    });
  }
  return { text, secretKeys: [...secretKeys].sort() };
}

/** In the pod: the instructions with each marker replaced by its variable's value (from the Secret). */
export function expandInstructions(text: string, env: NodeJS.ProcessEnv): TransportedInstructions {
  const missing = new Set<string>();
  const parsed = JSON.parse(text, (_key, value: unknown) => {
    if (typeof value !== "string" || !value.includes(MARK)) return value;
    return value.replace(new RegExp(`${MARK}([^${MARK}]*)${MARK}`, "g"), (_m, name: string) => {
      const v = env[name];
      if (v === undefined) missing.add(name);
      return v ?? "";
    });
  }) as TransportedInstructions;
  if (missing.size) {
    throw new SlipwayError("executor_failed", `the pod lacks the secret variable(s) ${[...missing].sort().join(", ")}`, { hint: "add these keys to the executor's Secret (targets.NAME.executor.secret)" });
  }
  return parsed;
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== "";
  } catch {
    return true; // not a URL we can read: treated as secret
  }
}

/** Folder stores with absolute paths (the pod's working folder is not the submitter's). */
export function withAbsolutePaths(i: TransportedInstructions): TransportedInstructions {
  const archives: ArchiveConfig = {};
  for (const kind of ARCHIVE_KINDS) {
    const spec = i.archives[kind];
    if (spec) archives[kind] = spec.type === "fs" ? { ...spec, path: isAbsolute(spec.path) ? spec.path : resolve(i.projectDir, spec.path) } : spec;
  }
  const state = i.state && (i.state.type ?? "sqlite") === "sqlite" && typeof i.state.path === "string" ? { ...i.state, path: resolve(i.state.path) } : i.state;
  const blobs = i.blobs?.type === "fs" && i.blobs.path ? { ...i.blobs, path: resolve(i.blobs.path) } : i.blobs;
  return { ...i, archives, state, blobs };
}

/** Every place the runner reads or writes, and whether a pod reaches it. */
export interface Place {
  what: string;
  /** A local folder or file, or undefined for a network store. */
  path?: string;
}

/** The target's stores as the runner opens them (src/runs/runner.ts), folders resolved to absolute paths. */
export function placesOf(i: Pick<TransportedInstructions, "home" | "projectDir" | "state" | "blobs" | "archives">): Place[] {
  const places: Place[] = [];
  const state = i.state;
  if (!state || state.type === "sqlite") places.push({ what: "the state database (SQLite)", path: resolve(typeof state?.path === "string" ? state.path : resolve(i.home, "state.db")) });
  else places.push({ what: `the state database (${state.type})` });
  places.push(i.blobs?.type === "s3" ? { what: "the target's blobs (S3)" } : { what: "the target's blobs", path: i.blobs?.path ? resolve(i.blobs.path) : resolve(i.home, "blobs") });
  for (const kind of ARCHIVE_KINDS) {
    const spec = i.archives[kind];
    if (spec?.type === "s3") places.push({ what: `archive ${kind} (S3)` });
    else places.push({ what: `archive ${kind}`, path: spec?.path ? (isAbsolute(spec.path) ? spec.path : resolve(i.projectDir, spec.path)) : resolve(i.home, "archives", kind) });
  }
  return places;
}

export const isUnder = (path: string, folder: string) => {
  const rel = relative(folder, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
};

/**
 * Refuses a target whose runs could not reach a store from a pod: a local folder (or SQLite file) that
 * is not under the executor's shared volume. Network stores (PostgreSQL, S3) are taken as reachable.
 */
export function assertReachable(places: Place[], volumePath: string | undefined, target: string): void {
  const unreachable = places.filter((p) => p.path !== undefined && !(volumePath && isUnder(p.path, volumePath)));
  if (!unreachable.length) return;
  const list = unreachable.map((p) => `${p.what} at ${p.path}`).join("; ");
  throw new SlipwayError(
    "kubernetes_unreachable_store",
    volumePath
      ? `target ${target} runs on Kubernetes, but ${list} ${unreachable.length > 1 ? "are" : "is"} not under the executor's shared volume (${volumePath}), so a run's pod cannot reach ${unreachable.length > 1 ? "them" : "it"}`
      : `target ${target} runs on Kubernetes, but its runs' pods cannot reach local folders: ${list}`,
    {
      hint: volumePath
        ? `move them under ${volumePath} (SLIPWAY_HOME, state: { path }, blobs/archives: { type: fs, path }), or use network stores`
        : "use network stores (state: { type: postgres, url: … }, blobs: { type: s3, bucket: … }), or mount a shared volume at the same path (executor.volume: { claim, path }) and keep them under it",
    },
  );
}
