// Files a run writes under $SLIPWAY_OUTPUT_DIR: listed with their hashes, archived content-addressed
// (a file already archived by any run is not stored again), and restored for cache hits.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { BlobStore } from "../store/blobs/blob-store.js";

/** path (posix, relative) -> sha256 */
export type FileHashes = Record<string, string>;

export async function hashTree(root: string): Promise<FileHashes> {
  const out: FileHashes = {};
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out[relative(root, full).split(sep).join("/")] = await hashFile(full);
    }
  };
  await walk(root);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
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

export async function archiveFiles(store: BlobStore, root: string, files: FileHashes): Promise<void> {
  for (const [path, hash] of Object.entries(files)) {
    const key = `files/${hash}`;
    if (!(await store.has(key))) await store.put(key, await readFile(join(root, path)));
  }
}

/** Writes archived files back under `root`; refuses any path that would land outside it. */
export async function restoreFiles(store: BlobStore, files: FileHashes, root: string): Promise<void> {
  const base = resolve(root);
  for (const [path, hash] of Object.entries(files)) {
    const target = resolve(base, path);
    if (!target.startsWith(base + sep)) throw new Error(`refusing to restore "${path}": it is outside the output folder`);
    const data = await store.get(`files/${hash}`);
    if (!data) throw new Error(`archived output ${path} (${hash.slice(0, 12)}) is missing`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
  }
}
