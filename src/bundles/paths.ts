// Paths inside a bundle: safe relative paths, their order, and the tree they form.
import { relative, resolve, isAbsolute } from "node:path";
import { SlipwayError } from "../errors.js";

export const FILE_PREFIX = "files/";
export const BUNDLE_PREFIX = "bundles/";
export const HEX64 = /^[0-9a-f]{64}$/;
export const CONCURRENCY = 8;
/** Files modified this close to (or after) the moment they were hashed are re-hashed next time (coarse mtimes). */
export const RACY_MS = 2000;

export function bundleKey(hash: string): string {
  return `${BUNDLE_PREFIX}${hash}.json`;
}

export function fileBlobKey(sha: string): string {
  return `${FILE_PREFIX}${sha}`;
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

/** Throws unless `p` is relative, clean and resolves inside `root`. Returns the absolute path. */
export function safeJoin(root: string, p: string, what: string): string {
  const reason = unsafePathReason(p);
  if (reason) throw new SlipwayError("bundle_unsafe_path", `${what} ${JSON.stringify(p)} ${reason}; refusing to write it`);
  const abs = resolve(root, ...p.split("/"));
  const rel = relative(root, abs);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new SlipwayError("bundle_unsafe_path", `${what} ${JSON.stringify(p)} resolves outside the working folder; refusing to write it`);
  }
  return abs;
}

/** Code point order (UTF-8 byte order), the same on every platform and in every store. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Throws when a path is listed twice, or a file is also used as a folder of another path. */
export function checkTree(paths: string[], what: string): void {
  const set = new Set<string>();
  for (const p of paths) {
    if (set.has(p)) throw new SlipwayError("bundle_invalid", `${what} ${JSON.stringify(p)} is listed twice`);
    set.add(p);
  }
  for (const p of paths) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (set.has(parent)) throw new SlipwayError("bundle_invalid", `${what} ${JSON.stringify(p)} lies under the file ${JSON.stringify(parent)}`);
    }
  }
}

export function modeOf(executable: boolean): 0o644 | 0o755 {
  return executable ? 0o755 : 0o644;
}
