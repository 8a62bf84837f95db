// Bundles as content-addressed trees (format 2), like git's: one node per directory listing, so a
// changed file writes its blob plus the nodes on its path, and unchanged subtrees are shared.
//
//   bundles/<sha256>.json   the bundle record: {"bytes":N,"files":N,"tree":"<root node>","version":2}
//   trees/<sha256>          a node, canonical JSON, its key the sha256 of its bytes:
//                             {"entries":[[name, kind, size, hash], ...]}   a directory listing
//                               kind "f": file 0644, "x": file 0755 (hash = the file's sha256, size = its bytes)
//                               kind "d": directory (hash = its node, size = bytes of every file below it)
//                               sorted by name (code point order); names are single clean path segments
//                             {"pages":[[bucket, hash], ...]}              a large directory, split in pages
//
// A listing whose JSON is larger than PAGE_BYTES is split by the bits of sha256(name): at split level
// k an entry goes to page (bits 3k..3k+2) = 0..7, and each page is built the same way at level k+1.
// The shape is a function of the entries alone (no history), so the same content always gives the
// same hash, and a change in a directory of 100,000 files rewrites a few pages of at most ~1 KiB,
// not a 10 MB listing. What one changed file writes: the file, the listing or pages on its path,
// and the bundle record; nothing else.
import * as crypto from "node:crypto";
import { SlipwayError } from "../errors.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import type { BundleFile, BundleManifest } from "./manifest.js";
import { HEX64, STORE_CONCURRENCY, bundleKey, comparePaths, treeKey } from "./paths.js";
import { runDag } from "../util/dag.js";

/** A listing larger than this (bytes of its JSON) is split into pages. */
export const PAGE_BYTES = 1024;
/** Pages per split: 8, chosen by 3 bits of sha256(name) per level. */
export const PAGE_BITS = 3;
const MAX_LEVEL = Math.floor(256 / PAGE_BITS);
/** A bundle larger than this is refused when read (a crafted tree repeating one subtree could otherwise expand without end). */
export const MAX_FILES = 1_000_000;
/** Directories (and page levels) nested deeper than this are refused when read. */
export const MAX_DEPTH = 1024;

export type EntryKind = "f" | "x" | "d";
export type TreeEntry = [name: string, kind: EntryKind, size: number, hash: string];

export interface BundleRecord {
  version: 2;
  tree: string;
  files: number;
  bytes: number;
}

export interface BuiltTree {
  /** sha256 of the root node */
  root: string;
  /** every node of the tree, children before their parents */
  nodes: { hash: string; data: string }[];
  record: { hash: string; data: string; value: BundleRecord };
}

interface Dir {
  dirs: Map<string, Dir>;
  files: Map<string, BundleFile>;
}

/** Which page (0..7) `name` falls in at split level `level`. */
export function pageOf(nameHash: Buffer, level: number): number {
  const bit = level * PAGE_BITS;
  const word = ((nameHash[bit >> 3] ?? 0) << 8) | (nameHash[(bit >> 3) + 1] ?? 0);
  return (word >> (16 - PAGE_BITS - (bit & 7))) & ((1 << PAGE_BITS) - 1);
}

/** sha256(name) as bytes; crypto.hash (Node 20.12+) is a one-shot without a Hash object. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "buffer") => Buffer }).hash;
function nameHash(name: string): Buffer {
  return oneShot ? oneShot("sha256", name, "buffer") : crypto.createHash("sha256").update(name).digest();
}

/**
 * The tree of a bundle's files (sorted or not; paths already checked), every node and the record.
 * Pure: nothing is read or written.
 */
export function buildTree(files: readonly BundleFile[]): BuiltTree {
  const top: Dir = { dirs: new Map(), files: new Map() };
  for (const f of files) {
    const parts = f.path.split("/");
    let d = top;
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i] as string;
      let next = d.dirs.get(name);
      if (!next) d.dirs.set(name, (next = { dirs: new Map(), files: new Map() }));
      d = next;
    }
    d.files.set(parts[parts.length - 1] as string, f);
  }
  const nodes: { hash: string; data: string }[] = [];
  const seen = new Set<string>();
  const emit = (data: string): string => {
    const hash = sha256(data);
    if (!seen.has(hash)) {
      seen.add(hash);
      nodes.push({ hash, data });
    }
    return hash;
  };
  // A listing is {"entries":[e1,e2,...]}: its size is known from its entries' JSON, so a large folder is
  // split without serialising the whole listing at every level. (Same bytes as canonicalJson: one key,
  // arrays of strings and numbers.)
  const page = (entries: { json: string; bytes: number; hash: Buffer }[], level: number): string => {
    const bytes = 14 + entries.reduce((n, e) => n + e.bytes, 0) + Math.max(0, entries.length - 1);
    if (bytes <= PAGE_BYTES || entries.length <= 1 || level >= MAX_LEVEL) return emit(`{"entries":[${entries.map((e) => e.json).join(",")}]}`);
    const buckets = new Map<number, { json: string; bytes: number; hash: Buffer }[]>();
    for (const e of entries) {
      const b = pageOf(e.hash, level);
      const bucket = buckets.get(b);
      if (bucket) bucket.push(e);
      else buckets.set(b, [e]);
    }
    const pages = [...buckets.keys()].sort((a, b) => a - b).map((b) => [b, page(buckets.get(b)!, level + 1)]);
    return emit(canonicalJson({ pages }));
  };
  const dir = (d: Dir): { hash: string; size: number; count: number } => {
    const entries: TreeEntry[] = [];
    let size = 0;
    let count = 0;
    for (const [name, sub] of d.dirs) {
      const built = dir(sub);
      entries.push([name, "d", built.size, built.hash]);
      size += built.size;
      count += built.count;
    }
    for (const [name, f] of d.files) {
      entries.push([name, f.mode === 0o755 ? "x" : "f", f.size, f.sha256]);
      size += f.size;
      count += 1;
    }
    entries.sort((a, b) => comparePaths(a[0], b[0]));
    const encoded = entries.map((e) => {
      const json = JSON.stringify(e);
      return { json, bytes: Buffer.byteLength(json), hash: nameHash(e[0]) };
    });
    return { hash: page(encoded, 0), size, count };
  };
  const built = dir(top);
  const value: BundleRecord = { version: 2, tree: built.hash, files: built.count, bytes: built.size };
  const data = canonicalJson(value);
  const hash = sha256(data);
  remember(listDigest(files), hash);
  return { root: built.hash, nodes, record: { hash, data, value } };
}

/** The bundle hash a list of files has in format 2 (computed in memory). */
export function treeBundleHash(files: readonly BundleFile[]): string {
  const digest = listDigest(files);
  const known = builtHashes.get(digest);
  if (known) return known;
  const hash = buildTree(files).record.hash;
  remember(digest, hash);
  return hash;
}

// buildTree is a pure function of its list; a process that captures a bundle and then checks a
// working folder against it (`run --wait`) would otherwise build the same tree twice.
const builtHashes = new Map<string, string>();
/** Records that the list with this digest is bundle `hash` (built, or vouched for by a capture index). */
export function remember(digest: string, hash: string): void {
  if (builtHashes.size >= 64) builtHashes.clear();
  builtHashes.set(digest, hash);
}
// The last bundle this process captured, with its files: a checkout of that bundle in the same
// process (`run --wait`) compares a kept folder's state.json against this list instead of hashing
// the state's list to prove it is the bundle.
let lastCaptured: { hash: string; manifest: BundleManifest } | undefined;
/** Records that `manifest` (its files sorted and checked) is bundle `hash`, as this process just computed it. */
export function rememberManifest(hash: string, manifest: BundleManifest): void {
  lastCaptured = { hash, manifest };
}
/** The manifest of bundle `hash` when this process captured it last, else undefined. */
export function rememberedManifest(hash: string): BundleManifest | undefined {
  return lastCaptured?.hash === hash ? lastCaptured.manifest : undefined;
}
/** sha256 of the list in its order: path, mode, size and sha256 of each file, NUL-separated (no path holds NUL). */
export function listDigest(files: readonly BundleFile[]): string {
  const h = crypto.createHash("sha256");
  let chunk = "";
  for (const f of files) {
    chunk += `${f.path}\0${f.mode}\0${f.size}\0${f.sha256}\0`;
    if (chunk.length > 65536) {
      h.update(chunk);
      chunk = "";
    }
  }
  return h.update(chunk).digest("hex");
}

/** Why `name` cannot be one segment of a bundle path, or undefined when it can. */
function unsafeName(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return "is empty or not a string";
  if (name === "." || name === "..") return `is ${JSON.stringify(name)}`;
  if (name.includes("/")) return "contains a slash";
  if (name.includes("\\")) return "contains a backslash";
  if (name.includes("\0")) return "contains NUL";
  return undefined;
}

/** Parses and checks a bundle record (format 2); `hash` was already verified against its bytes. */
export function parseRecord(hash: string, parsed: Record<string, unknown>): BundleRecord {
  const { tree, files, bytes } = parsed;
  if (typeof tree !== "string" || !HEX64.test(tree)) throw new SlipwayError("bundle_invalid", `bundle ${hash}: the record's tree is not a sha256`);
  if (typeof files !== "number" || !Number.isSafeInteger(files) || files < 0) throw new SlipwayError("bundle_invalid", `bundle ${hash}: the record's file count is invalid`);
  if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 0) throw new SlipwayError("bundle_invalid", `bundle ${hash}: the record's size is invalid`);
  return { version: 2, tree, files, bytes };
}

export type ParsedNode = { entries: TreeEntry[] } | { pages: [number, string][] };

/**
 * One tree node's bytes (already verified against `hash`), parsed and checked: every name, kind, size
 * and hash of a listing, every page of a split one. `label` starts each error ("bundle <hash>").
 */
export function parseNode(label: string, hash: string, data: Buffer | string): ParsedNode {
  const bad = (why: string) => new SlipwayError("bundle_invalid", `${label}: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch {
    throw bad(`tree node ${hash} is not JSON`);
  }
  const n = parsed as { entries?: unknown; pages?: unknown } | null;
  if (n && typeof n === "object" && Array.isArray(n.entries) && Object.keys(n).length === 1) {
    for (const e of n.entries as unknown[]) {
      if (!Array.isArray(e) || e.length !== 4) throw bad(`tree node ${hash} has a malformed entry`);
      const [name, kind, size, h] = e as unknown[];
      const why = unsafeName(name);
      if (why) throw new SlipwayError("bundle_unsafe_path", `${label}: the name ${JSON.stringify(name)} ${why}; refusing to write it`);
      if (kind !== "f" && kind !== "x" && kind !== "d") throw bad(`${JSON.stringify(name)} has the kind ${JSON.stringify(kind)}`);
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw bad(`${JSON.stringify(name)} has an invalid size`);
      if (typeof h !== "string" || !HEX64.test(h)) throw bad(`${JSON.stringify(name)} has an invalid hash`);
    }
    return { entries: n.entries as TreeEntry[] };
  }
  if (n && typeof n === "object" && Array.isArray(n.pages) && Object.keys(n).length === 1) {
    for (const p of n.pages as unknown[]) {
      if (!Array.isArray(p) || p.length !== 2 || !Number.isInteger(p[0]) || typeof p[1] !== "string" || !HEX64.test(p[1])) throw bad(`tree node ${hash} has a malformed page`);
    }
    return { pages: n.pages as [number, string][] };
  }
  throw bad(`tree node ${hash} is neither a listing nor pages`);
}

/**
 * Every file of a format-2 bundle, sorted by path. Each node's bytes are checked against its hash,
 * every name, kind, size and hash is validated, and directory sizes must add up; nothing is written.
 */
export async function readTree(blobs: BlobStore, bundle: string, record: BundleRecord): Promise<BundleFile[]> {
  const bad = (why: string) => new SlipwayError("bundle_invalid", `bundle ${bundle}: ${why}`);
  const cache = new Map<string, Promise<ParsedNode>>();
  const load = (hash: string): Promise<ParsedNode> => {
    let p = cache.get(hash);
    if (!p) {
      p = (async () => {
        const data = await blobs.get(treeKey(hash));
        if (!data) throw new SlipwayError("bundle_blob_missing", `bundle ${bundle}: tree node ${hash} is missing from the blob store`);
        if (sha256(data) !== hash) throw new SlipwayError("bundle_corrupt", `bundle ${bundle}: tree node ${hash} does not match its hash`);
        return parseNode(`bundle ${bundle}`, hash, data);
      })();
      cache.set(hash, p);
    }
    return p;
  };

  const files: BundleFile[] = [];
  /** Walks one directory (a listing or its pages) under `prefix`; returns the bytes below it. */
  const walk = async (hash: string, prefix: string, depth: number): Promise<number> => {
    if (depth > MAX_DEPTH) throw bad(`the tree is nested deeper than ${MAX_DEPTH} levels`);
    const node = await load(hash);
    if ("pages" in node) {
      const sizes = await Promise.all(node.pages.map(([, child]) => walk(child, prefix, depth + 1)));
      return sizes.reduce((a, b) => a + b, 0);
    }
    let total = 0;
    const subdirs: Promise<number>[] = [];
    const expected: number[] = [];
    for (const [name, kind, size, h] of node.entries) {
      const path = prefix === "" ? name : `${prefix}/${name}`;
      if (kind === "d") {
        subdirs.push(walk(h, path, depth + 1));
        expected.push(size);
      } else {
        if (files.length >= MAX_FILES) throw bad(`more than ${MAX_FILES} files`);
        files.push({ path, mode: kind === "x" ? 0o755 : 0o644, size, sha256: h });
      }
      total += size;
    }
    const got = await Promise.all(subdirs);
    got.forEach((g, i) => {
      if (g !== expected[i]) throw bad(`a directory under ${JSON.stringify(prefix || ".")} says ${expected[i]} bytes, its files hold ${g}`);
    });
    return total;
  };
  const total = await walk(record.tree, "", 0);
  if (total !== record.bytes || files.length !== record.files) throw bad(`the record says ${record.files} files of ${record.bytes} bytes, the tree holds ${files.length} of ${total}`);
  return files.sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * Which nodes of a built tree the store already has. Nodes are written children first, and every file
 * blob before any node (see storeTree and captureBundle), so a stored node vouches for its whole
 * subtree: the walk goes from the root down and asks only about the children of missing nodes. For a
 * tree that differs from a stored one in a few files that is a few requests, not one per node.
 */
export interface StoredNodes {
  /** Nodes to write (children before parents, as in built.nodes). */
  missing: Set<string>;
  /** The sha256 of every file below a stored node: its blob is in the store. */
  vouched: Set<string>;
}

export async function storedNodes(blobs: BlobStore, built: BuiltTree): Promise<StoredNodes> {
  const parsed = new Map<string, { dirs: string[]; files: string[] }>();
  for (const n of built.nodes) {
    const v = JSON.parse(n.data) as { entries?: TreeEntry[]; pages?: [number, string][] };
    if (v.pages) parsed.set(n.hash, { dirs: v.pages.map(([, h]) => h), files: [] });
    else parsed.set(n.hash, { dirs: v.entries!.filter((e) => e[1] === "d").map((e) => e[3]), files: v.entries!.filter((e) => e[1] !== "d").map((e) => e[3]) });
  }
  const missing = new Set<string>();
  const vouched = new Set<string>();
  const vouch = (hash: string): void => {
    const n = parsed.get(hash)!;
    for (const f of n.files) vouched.add(f);
    for (const d of n.dirs) vouch(d);
  };
  let level = [built.root];
  const asked = new Set<string>();
  while (level.length > 0) {
    const next: string[] = [];
    const checked = await runDag({
      nodes: level,
      key: (h) => h,
      limit: STORE_CONCURRENCY,
      run: async (hash) => {
        if (await blobs.has(treeKey(hash))) return vouch(hash);
        missing.add(hash);
        for (const d of parsed.get(hash)!.dirs) {
          if (!asked.has(d)) {
            asked.add(d);
            next.push(d);
          }
        }
      },
    });
    if (checked.failed.length) throw checked.failed[0]!.error;
    level = next;
  }
  return { missing, vouched };
}

/**
 * Stores the missing nodes, children before parents, and then the record (last: a record in the
 * store means its whole tree is there). Returns bytes and nodes written.
 */
export async function storeTree(blobs: BlobStore, built: BuiltTree, known?: StoredNodes): Promise<{ bytes: number; nodes: number }> {
  const key = bundleKey(built.record.hash);
  if (await blobs.has(key)) return { bytes: 0, nodes: 0 };
  const { missing } = known ?? (await storedNodes(blobs, built));
  const toWrite = built.nodes.filter((n) => missing.has(n.hash));
  const children = new Map<string, string[]>();
  for (const n of toWrite) {
    const v = JSON.parse(n.data) as { entries?: TreeEntry[]; pages?: [number, string][] };
    const kids = v.pages ? v.pages.map(([, h]) => h) : v.entries!.filter((e) => e[1] === "d").map((e) => e[3]);
    children.set(n.hash, kids.filter((h) => missing.has(h)));
  }
  let bytes = 0;
  let nodes = 0;
  const stored = await runDag({
    nodes: toWrite,
    key: (n) => n.hash,
    prerequisites: (n) => children.get(n.hash) ?? [],
    limit: STORE_CONCURRENCY,
    run: async (n) => {
      await blobs.put(treeKey(n.hash), n.data);
      bytes += Buffer.byteLength(n.data);
      nodes += 1;
    },
  });
  if (stored.failed.length || stored.notStarted.length) throw stored.failed[0]?.error ?? new Error("storing the bundle's tree stopped early");
  await blobs.put(key, built.record.data);
  bytes += Buffer.byteLength(built.record.data);
  return { bytes, nodes };
}
