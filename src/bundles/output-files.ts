// Files a run writes under $SLIPWAY_OUTPUT_DIR: listed with their hashes, archived content-addressed
// (a file already archived by any run is not stored again), and restored for cache hits.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { listFiles } from "../util/list-files.js";
import type { BlobStore } from "../store/blobs/blob-store.js";

/** path (posix, relative) -> sha256 */
export type FileHashes = Record<string, string>;

export async function hashTree(root: string): Promise<FileHashes> {
  const out: FileHashes = {};
  for (const path of (await listFiles(root)).sort()) out[path] = await hashFile(join(root, path));
  return out;
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("data", (d) => h.update(d))
      .on("end", () => resolvePromise(h.digest("hex")))
      .on("error", reject);
  });
}

/** Files that are new or changed in `after` compared with `before`. */
export function changedFiles(before: FileHashes, after: FileHashes): FileHashes {
  return Object.fromEntries(Object.entries(after).filter(([path, hash]) => before[path] !== hash));
}

/** Stores each file under its hash unless the store has it (streamed: model files can be large). */
export async function archiveFiles(store: BlobStore, root: string, files: FileHashes): Promise<void> {
  for (const [path, hash] of Object.entries(files)) {
    const key = `files/${hash}`;
    if (!(await store.has(key))) await store.putFile(key, join(root, path));
  }
}

/**
 * Writes archived files back under `root` (streamed from the store), each checked against its sha256;
 * refuses any path that would land outside it. `dropCorrupt` removes a stored file whose content does
 * not match its sha256.
 */
export async function restoreFiles(store: BlobStore, files: FileHashes, root: string, options: { dropCorrupt?: boolean } = {}): Promise<void> {
  const base = resolve(root);
  for (const [path, hash] of Object.entries(files)) {
    const target = resolve(base, path);
    if (!target.startsWith(base + sep)) throw new Error(`refusing to restore "${path}": it is outside the output folder`);
    await mkdir(dirname(target), { recursive: true });
    if (!(await store.getFile(`files/${hash}`, target))) throw new Error(`archived output ${path} (${hash.slice(0, 12)}) is missing`);
    if ((await hashFile(target)) !== hash) {
      await rm(target, { force: true });
      // Content that does not match its own name is wrong for everyone: removed (with dropCorrupt), the
      // next run that produces it stores it again instead of skipping a key that is "already there".
      if (options.dropCorrupt) await store.delete(`files/${hash}`).catch(() => {});
      throw new Error(`archived output ${path}: the stored content does not match its sha256 ${hash.slice(0, 12)}`);
    }
  }
}
