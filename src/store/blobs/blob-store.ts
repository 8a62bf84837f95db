// Blob storage by key; content-addressed helpers on top (sha256) for bundles, models, scripts, snapshots.
// Implementations: fs/ (a folder, the default), s3/ (a bucket of an S3-compatible object store), and
// memory-blob-store.ts (scratch space). test/conformance/blob-store.test.ts holds every one to the same
// behaviour.
import { sha256 } from "../../util/hash.js";

export interface BlobStore {
  /**
   * Where the blobs live, for people and for reopening the store with store/open.ts's `blobStoreAt`:
   * a folder path, or `s3://BUCKET/PREFIX` (with `?endpoint=…&region=…` when they are set).
   */
  readonly location: string;
  /** Stores `data` under `key`, replacing what was there; readers see the old or the new content, never a part. */
  put(key: string, data: Uint8Array | string): Promise<void>;
  /** Stores the content of the local file `file` under `key`, streamed: a large file is not read into memory. */
  putFile(key: string, file: string): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  /** Writes the blob into the local file `file` (replaced), streamed; false (and no file written) when there is no such blob. */
  getFile(key: string, file: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** Every key that starts with `prefix` (a plain string prefix, not only whole segments), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes the blob; removing one that is not there succeeds. */
  delete(key: string): Promise<void>;
  /**
   * Optional, for many small blobs at once (a revision's trie nodes): the keys of `keys` that are not
   * stored. Stores without it are asked key by key (missingKeys below).
   */
  missing?(keys: readonly string[]): Promise<string[]>;
  /** Optional: stores every item, each as put() would. Stores without it get one put() per item (putMany below). */
  putMany?(items: ReadonlyArray<{ key: string; data: Uint8Array | string }>): Promise<void>;
  /**
   * Like `list`, with each blob's size and last change (what `slipway archives list` shows). Optional:
   * a store without it is listed by key only (see listEntries).
   */
  listDetailed?(prefix: string): Promise<BlobEntry[]>;
}

/** One blob as listed with its size in bytes and when it was last written (ISO 8601, UTC). */
export interface BlobEntry {
  key: string;
  size: number | null;
  modified: string | null;
}

/** Every blob under `prefix` with its size and time where the store can tell them, sorted by key. */
export async function listEntries(store: BlobStore, prefix: string): Promise<BlobEntry[]> {
  if (store.listDetailed) return store.listDetailed(prefix);
  return (await store.list(prefix)).map((key) => ({ key, size: null, modified: null }));
}

/** How many single-key calls the fallbacks below keep in flight: thousands at once only queue up. */
const FALLBACK_CONCURRENCY = 16;

async function eachBounded<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(FALLBACK_CONCURRENCY, items.length) }, worker));
}

/** The keys of `keys` that `store` does not hold, in their order. */
export async function missingKeys(store: BlobStore, keys: readonly string[]): Promise<string[]> {
  if (store.missing) return store.missing(keys);
  const absent = new Set<string>();
  await eachBounded(keys, async (key) => void (!(await store.has(key)) && absent.add(key)));
  return keys.filter((k) => absent.has(k));
}

/** Stores every item (replacing what is there). */
export async function putMany(store: BlobStore, items: ReadonlyArray<{ key: string; data: Uint8Array | string }>): Promise<void> {
  if (store.putMany) return store.putMany(items);
  await eachBounded(items, (item) => store.put(item.key, item.data));
}

/**
 * Keys are "/"-separated relative paths: not empty, no empty segment (leading, trailing or doubled
 * slash), no "." or ".." segment, no backslash or NUL. Every store refuses the same keys.
 */
export function checkKey(key: string): void {
  if (typeof key !== "string" || key === "" || key.includes("\0") || key.includes("\\") || key.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new Error(`invalid blob key ${JSON.stringify(key)}`);
  }
}

/** A list prefix may end with "/" or be empty; its complete segments follow the key rules. */
export function checkPrefix(prefix: string): void {
  if (prefix === "") return;
  const complete = prefix.slice(0, prefix.lastIndexOf("/") + 1);
  if (prefix.includes("\0") || prefix.includes("\\") || (complete !== "" && complete.slice(0, -1).split("/").some((s) => s === "" || s === "." || s === ".."))) {
    throw new Error(`invalid blob prefix ${JSON.stringify(prefix)}`);
  }
}

/** Stores `data` under its own hash; storing the same content twice writes nothing. Returns the key. */
export async function putContent(store: BlobStore, data: Uint8Array | string, namespace = "sha256"): Promise<string> {
  const key = `${namespace}/${sha256(data)}`;
  if (!(await store.has(key))) await store.put(key, data);
  return key;
}
