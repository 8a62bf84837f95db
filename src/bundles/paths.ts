// Paths inside a bundle: safe relative paths, their order, and the tree they form.
import { isAbsolute, resolve, sep } from "node:path";
import { SlipwayError } from "../errors.js";

export const FILE_PREFIX = "files/";
export const BUNDLE_PREFIX = "bundles/";
export const TREE_PREFIX = "trees/";
export const HEX64 = /^[0-9a-f]{64}$/;
export const CONCURRENCY = 8;
/**
 * Blob-store requests that move little data (a HEAD, a tree node) run this many at once: against a
 * remote store (S3) each costs a round trip, and one after the other they would add up to seconds.
 */
export const STORE_CONCURRENCY = 32;
/** Files modified this close to (or after) the moment they were hashed are re-hashed next time (coarse mtimes). */
export const RACY_MS = 2000;

export function bundleKey(hash: string): string {
  return `${BUNDLE_PREFIX}${hash}.json`;
}

export function fileBlobKey(sha: string): string {
  return `${FILE_PREFIX}${sha}`;
}

/** Blob key of a tree node (format 2): trees/<sha256 of its bytes>. */
export function treeKey(hash: string): string {
  return `${TREE_PREFIX}${hash}`;
}

/** Why `p` is not a safe relative bundle path, or undefined when it is. */
export function unsafePathReason(p: unknown): string | undefined {
  if (typeof p !== "string" || p === "") return "empty or not a string";
  if (p.includes("\0")) return "contains NUL";
  if (p.includes("\\")) return "contains a backslash";
  if (p.startsWith("/") || isAbsolute(p)) return "is absolute";
  const parts = p.split("/");
  if (parts.includes("..")) return "contains a .. segment";
  if (parts.some((s) => s === "" || s === ".")) return "contains an empty or . segment";
  return undefined;
}

let lastRoot: string | undefined;
let lastBase = "";

/** Throws unless `p` is relative, clean and resolves inside `root`. Returns the absolute path. */
export function safeJoin(root: string, p: string, what: string): string {
  const reason = unsafePathReason(p);
  if (reason) throw new SlipwayError("bundle_unsafe_path", `${what} ${JSON.stringify(p)} ${reason}; refusing to write it`);
  if (root !== lastRoot) {
    lastBase = resolve(root);
    lastRoot = root;
  }
  // clean segments (no "", ".", "..", backslash or NUL) under an absolute, normalised folder: the
  // plain concatenation is already the resolved path (checked below all the same)
  const base = lastBase.endsWith(sep) ? lastBase : lastBase + sep;
  const abs = base + (sep === "/" ? p : p.split("/").join(sep));
  const rel = relativeInside(base, abs);
  if (!rel) throw new SlipwayError("bundle_unsafe_path", `${what} ${JSON.stringify(p)} resolves outside the working folder; refusing to write it`);
  return abs;
}

function relativeInside(base: string, abs: string): boolean {
  return abs.length > base.length && abs.startsWith(base) && !isAbsolute(abs.slice(base.length)) && !abs.slice(base.length).split(sep).includes("..");
}

/**
 * Code point order (UTF-8 byte order), the same on every platform and in every store. Compared on
 * UTF-16 code units, with surrogates (D800-DFFF, characters from U+10000) moved above E000-FFFF, which
 * gives the same order without encoding either string.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Throws when a path is listed twice, or a file is also used as a folder of another path. */
export function checkTree(paths: string[], what: string): void {
  const set = new Set<string>();
  for (const p of paths) {
    if (set.has(p)) throw new SlipwayError("bundle_invalid", `${what} ${JSON.stringify(p)} is listed twice`);
    set.add(p);
  }
  for (const p of paths) {
    for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) {
      const parent = p.slice(0, i);
      if (set.has(parent)) throw new SlipwayError("bundle_invalid", `${what} ${JSON.stringify(p)} lies under the file ${JSON.stringify(parent)}`);
    }
  }
}

export function modeOf(executable: boolean): 0o644 | 0o755 {
  return executable ? 0o755 : 0o644;
}
