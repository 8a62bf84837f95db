// The task cache in the `cache` archive: a remote cache, as build tools have. Two homes (two machines)
// whose targets name one cache archive share it: a task whose inputs (its cache key, runner.ts) match
// an entry written by either reuses that entry's outputs. The state database's task_cache table stays
// as this home's index, asked first; on a miss the archive is asked.
//
//   tasks/<cache key>.json   one entry: {format, cache_key, project, target, task, run_id, created_at, outputs, digest}
//   files/<sha256>           the outputs' contents, once per distinct content (as persisted_data keeps them)
//
// An entry is used only when it checks out: its `digest` is the sha256 of the rest of it (canonical
// JSON), it names the key it is stored under and the project, target and task asking, its paths are
// relative and stay inside the output folder, and every file restored has the sha256 the entry says.
// Anything else (a truncated upload, a bit flip, an entry copied under another key, another project's)
// is ignored with a warning and the task runs. The digest proves integrity, not authorship: whoever can
// write the cache archive can write entries, so only trusted machines should have write access to it.
import type { BlobStore } from "../store/blobs/blob-store.js";
import { archiveFiles, restoreFiles, type FileHashes } from "../bundles/output-files.js";
import { canonicalJson, sha256 } from "../util/hash.js";

export const CACHE_ENTRY_FORMAT = 1;

export interface CacheEntry {
  format: typeof CACHE_ENTRY_FORMAT;
  cache_key: string;
  project: string;
  target: string;
  task: string;
  /** The run that produced the outputs (on whichever home ran it). */
  run_id: string;
  created_at: string;
  outputs: FileHashes;
  /** sha256 of the canonical JSON of every other field. */
  digest: string;
}

export type CacheEntryBody = Omit<CacheEntry, "digest" | "format">;

const HEX64 = /^[0-9a-f]{64}$/;

export function cacheEntryKey(cacheKey: string): string {
  if (!HEX64.test(cacheKey)) throw new Error(`invalid cache key ${JSON.stringify(cacheKey)}`);
  return `tasks/${cacheKey}.json`;
}

function digestOf(body: Omit<CacheEntry, "digest">): string {
  return sha256(canonicalJson(body));
}

/** The entry as stored: the body with its format and digest. */
export function sealEntry(body: CacheEntryBody): CacheEntry {
  const unsealed = { format: CACHE_ENTRY_FORMAT, ...body } as const;
  return { ...unsealed, digest: digestOf(unsealed) };
}

/**
 * Writes an entry: the output files first (content-addressed, skipped when there), the entry last, so
 * a reader never finds an entry whose files are not all there yet.
 */
export async function publishEntry(store: BlobStore, outputRoot: string, body: CacheEntryBody): Promise<void> {
  await archiveFiles(store, outputRoot, body.outputs);
  await store.put(cacheEntryKey(body.cache_key), JSON.stringify(sealEntry(body), null, 2) + "\n");
}

export type Lookup = { entry: CacheEntry } | { problem: string } | undefined;

/**
 * The archive's entry for `cacheKey`, checked against who asks: undefined when there is none, a
 * `problem` when there is one that must not be trusted.
 */
export async function lookupEntry(store: BlobStore, cacheKey: string, expect: { project: string; target: string; task: string }): Promise<Lookup> {
  const data = await store.get(cacheEntryKey(cacheKey));
  if (!data) return undefined;
  const problem = entryProblem(data, cacheKey, expect);
  if (typeof problem === "string") return { problem };
  return { entry: problem };
}

/** Why the stored bytes are not a usable entry for this key and asker, or the entry. */
export function entryProblem(data: Buffer, cacheKey: string, expect: { project: string; target: string; task: string }): string | CacheEntry {
  let e: CacheEntry;
  try {
    e = JSON.parse(data.toString("utf8")) as CacheEntry;
  } catch {
    return "it is not JSON";
  }
  if (!e || typeof e !== "object" || Array.isArray(e)) return "it is not an object";
  if (e.format !== CACHE_ENTRY_FORMAT) return `its format ${JSON.stringify(e.format)} is not ${CACHE_ENTRY_FORMAT}`;
  for (const field of ["cache_key", "project", "target", "task", "run_id", "created_at", "digest"] as const) {
    if (typeof e[field] !== "string") return `its ${field} is not a string`;
  }
  if (!e.outputs || typeof e.outputs !== "object" || Array.isArray(e.outputs)) return "its outputs are not an object";
  for (const [path, hash] of Object.entries(e.outputs)) {
    if (typeof hash !== "string" || !HEX64.test(hash)) return `output ${JSON.stringify(path)} has no sha256`;
    if (path === "" || path.startsWith("/") || path.includes("\\") || path.includes("\0") || path.split("/").some((s) => s === "" || s === "." || s === "..")) return `output path ${JSON.stringify(path)} leaves the output folder`;
  }
  const { digest, ...rest } = e;
  const known = new Set(["format", "cache_key", "project", "target", "task", "run_id", "created_at", "outputs"]);
  if (Object.keys(rest).some((k) => !known.has(k))) return "it has fields an entry does not have";
  if (digestOf(rest) !== digest) return "its digest does not match its content";
  if (e.cache_key !== cacheKey) return `it is the entry of another key (${e.cache_key.slice(0, 12)})`;
  if (e.project !== expect.project || e.target !== expect.target) return `it belongs to ${e.project}/${e.target}, not ${expect.project}/${expect.target}`;
  if (e.task !== expect.task) return `it is task ${e.task}'s, not ${expect.task}'s`;
  return e;
}

/**
 * Writes the outputs back under `root` from the first store holding all of them, each file checked
 * against its sha256 (restoreFiles); throws with every store's reason when none does. A stored file
 * whose content does not match its sha256 is removed from its store, so the next run that produces it
 * stores it again (content-addressed writes skip keys that are there).
 */
export async function restoreFromAny(stores: BlobStore[], outputs: FileHashes, root: string): Promise<void> {
  const reasons: string[] = [];
  for (const store of stores) {
    try {
      await restoreFiles(store, outputs, root, { dropCorrupt: true });
      return;
    } catch (e) {
      reasons.push((e as Error).message);
    }
  }
  throw new Error([...new Set(reasons)].join("; "));
}
