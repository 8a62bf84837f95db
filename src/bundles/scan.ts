// A folder as a format-2 bundle without storing it: its file list (hashed through the capture index, so
// unchanged files are not read again), its bundle hash, and its tree on demand. The remote CLI and SDK
// scan the project this way and upload to the server only what it lacks (src/client/upload.ts); the
// index remembers the last bundle, so scanning an unchanged project builds no tree at all.
import { realpath } from "node:fs/promises";
import { resolve } from "node:path";
import { sha256 } from "../util/hash.js";
import { runDag } from "../util/dag.js";
import { readRegular, walkSource, type SourceEntry } from "./capture.js";
import { indexHit, loadIndex, saveIndex, type IndexEntry } from "./capture-index.js";
import type { BundleFile } from "./manifest.js";
import { CONCURRENCY, checkTree, comparePaths, modeOf } from "./paths.js";
import { buildTree, listDigest, remember, type BuiltTree } from "./tree.js";

export interface SourceScan {
  /** The folder's real path. */
  root: string;
  /** Every file the bundle takes, sorted by path. */
  files: BundleFile[];
  /** Where each bundle path is read from. */
  paths: Map<string, string>;
  /** The bundle's hash (format 2), what `source` names on the server. */
  hash: string;
  /** Source paths left out (see captureBundle). */
  skipped: string[];
  /** The tree and every node (pure; built when first asked, e.g. to upload what the server lacks). */
  tree(): BuiltTree;
}

/** Scans `sourceDir` (honouring .gitignore and .slipwayignore) with the capture index `indexFile`. */
export async function scanSource(sourceDir: string, indexFile: string): Promise<SourceScan> {
  const root = await realpath(sourceDir);
  const skip = new Set([resolve(indexFile)]);
  const walked = await walkSource(root, skip);
  const loaded = await loadIndex(indexFile, root);
  const next = new Map<string, IndexEntry>();
  const files = new Map<string, BundleFile>();
  const paths = new Map<string, string>();
  const skipped = [...walked.skipped];
  const toHash: SourceEntry[] = [];
  for (const entry of walked.entries) {
    const known = loaded.entries.get(entry.path);
    paths.set(entry.path, entry.abs);
    if (indexHit(known, entry.stat)) {
      next.set(entry.path, known);
      files.set(entry.path, { path: entry.path, mode: modeOf((entry.stat.mode & 0o111) !== 0), size: known.size, sha256: known.sha256 });
    } else {
      toHash.push(entry);
    }
  }
  const hashed = await runDag({
    nodes: toHash,
    key: (entry) => entry.path,
    limit: CONCURRENCY,
    run: async (entry) => {
      const hashedAt = Date.now();
      let read: Awaited<ReturnType<typeof readRegular>>;
      try {
        read = await readRegular(entry.abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        paths.delete(entry.path); // removed while scanning: not part of this bundle
        return;
      }
      if (!read) {
        skipped.push(entry.path);
        paths.delete(entry.path);
        return;
      }
      const sha = sha256(read.data);
      const st = read.stat;
      next.set(entry.path, { size: read.data.length, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: sha, hashedAt });
      files.set(entry.path, { path: entry.path, mode: modeOf((st.mode & 0o111) !== 0), size: read.data.length, sha256: sha });
    },
  });
  if (hashed.failed.length) throw hashed.failed[0]!.error;

  const sorted = [...files.values()].sort((a, b) => comparePaths(a.path, b.path));
  checkTree(sorted.map((f) => f.path), "bundle path");
  const digest = listDigest(sorted);
  let built: BuiltTree | undefined;
  let hash: string;
  let rootNode: string;
  if (loaded.last && loaded.last.digest === digest) {
    // The same list as the last scan: the same bundle, no tree to build.
    remember(digest, loaded.last.hash);
    hash = loaded.last.hash;
    rootNode = loaded.last.root;
  } else {
    built = buildTree(sorted);
    hash = built.record.hash;
    rootNode = built.root;
  }
  await saveIndex(indexFile, root, loaded, next, { digest, hash, root: rootNode });
  skipped.sort(comparePaths);
  return { root, files: sorted, paths, hash, skipped, tree: () => (built ??= buildTree(sorted)) };
}
