// Capturing a folder into a content-addressed bundle, with an index that skips re-hashing unchanged files.
import { constants as fsConstants } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, realpath, rename, stat, writeFile } from "node:fs/promises";
import type { Stats } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { SlipwayError } from "../errors.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { runDag } from "../util/dag.js";
import type { BundleFile, BundleManifest, CaptureOptions, CaptureResult } from "./manifest.js";
import { CONCURRENCY, HEX64, RACY_MS, bundleKey, checkTree, comparePaths, fileBlobKey, modeOf, unsafePathReason } from "./paths.js";
import { readIfFile, rebaseIgnoreRules } from "./ignore.js";

export interface SourceEntry {
  path: string; // bundle path
  abs: string; // where to read it (a symlink inside sourceDir is read through)
  stat: Stats;
}

export interface IndexEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
  /** Date.now() just before the content was read */
  hashedAt: number;
}

export interface IndexFile {
  version: 1;
  root: string;
  entries: Record<string, IndexEntry>;
}

export async function loadIndex(file: string, root: string): Promise<Map<string, IndexEntry>> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<IndexFile>;
    if (parsed.version !== 1 || parsed.root !== root || !parsed.entries || typeof parsed.entries !== "object") return new Map();
    const map = new Map<string, IndexEntry>();
    for (const [p, e] of Object.entries(parsed.entries)) {
      if (
        e && typeof e.size === "number" && typeof e.mtimeMs === "number" && typeof e.ctimeMs === "number" &&
        typeof e.ino === "number" && typeof e.hashedAt === "number" && typeof e.sha256 === "string" && HEX64.test(e.sha256)
      ) map.set(p, e);
    }
    return map;
  } catch {
    return new Map(); // missing or unreadable: hash everything
  }
}

export async function saveIndex(file: string, root: string, entries: Map<string, IndexEntry>): Promise<void> {
  const doc: IndexFile = { version: 1, root, entries: Object.fromEntries([...entries].sort(([a], [b]) => comparePaths(a, b))) };
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, JSON.stringify(doc));
  await rename(tmp, file);
}

/** The index entry still describes the file: same identity and stamps, and not modified around hashing time. */
export function indexHit(e: IndexEntry | undefined, st: Stats): e is IndexEntry {
  return (
    e !== undefined && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs && e.ino === st.ino &&
    Math.max(st.mtimeMs, st.ctimeMs) + RACY_MS <= e.hashedAt
  );
}

export async function walkSource(sourceDir: string, skipAbs: Set<string>): Promise<{ entries: SourceEntry[]; skipped: string[] }> {
  const root = await realpath(sourceDir);
  const entries: SourceEntry[] = [];
  const skipped: string[] = [];
  const ig: Ignore = ignore({ ignorecase: false });
  const inside = (real: string) => real === root || real.startsWith(root + sep);

  const walk = async (absDir: string, relDir: string, realAncestors: Set<string>): Promise<void> => {
    // rules of this folder first (git reads a folder's .gitignore before looking at its entries);
    // .slipwayignore comes after .gitignore, so it can re-include what git ignores
    for (const name of [".gitignore", ".slipwayignore"]) {
      const text = await readIfFile(join(absDir, name));
      if (text !== undefined) ig.add(rebaseIgnoreRules(text, relDir));
    }
    const dirents = await readdir(absDir, { withFileTypes: true });
    dirents.sort((a, b) => comparePaths(a.name, b.name));
    for (const d of dirents) {
      if (d.name === ".git") continue; // never part of a bundle
      const rel = relDir === "" ? d.name : `${relDir}/${d.name}`;
      const abs = join(absDir, d.name);
      if (unsafePathReason(rel)) {
        skipped.push(rel); // e.g. a backslash in a name: could not be materialized safely
        continue;
      }
      let st: Stats;
      let readFrom = abs;
      const lst = await lstat(abs);
      if (lst.isSymbolicLink()) {
        let real: string;
        try {
          real = await realpath(abs);
          st = await stat(real);
        } catch {
          skipped.push(rel); // dangling
          continue;
        }
        if (!inside(real)) {
          skipped.push(rel); // points outside the source folder
          continue;
        }
        readFrom = real;
      } else {
        st = lst;
      }
      if (st.isDirectory()) {
        if (ig.ignores(`${rel}/`)) continue;
        const real = await realpath(abs);
        if (realAncestors.has(real)) {
          skipped.push(rel); // symlink cycle
          continue;
        }
        await walk(abs, rel, new Set([...realAncestors, real]));
      } else if (st.isFile()) {
        if (ig.ignores(rel)) continue;
        if (skipAbs.has(readFrom) || skipAbs.has(abs)) continue; // the capture index itself
        entries.push({ path: rel, abs: readFrom, stat: st });
      } else {
        if (ig.ignores(rel)) continue;
        skipped.push(rel); // socket, FIFO, device
      }
    }
  };
  await walk(root, "", new Set([root]));
  return { entries, skipped };
}

/** Reads a regular file through one descriptor (never blocks on a FIFO swapped in meanwhile). */
export async function readRegular(path: string): Promise<{ data: Buffer; stat: Stats } | undefined> {
  const fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    return { data: await fh.readFile(), stat: st };
  } finally {
    await fh.close();
  }
}

export async function captureBundle(blobs: BlobStore, options: CaptureOptions): Promise<CaptureResult> {
  let bytesWritten = 0;
  let filesWritten = 0;
  const writes = new Map<string, Promise<void>>();
  /** Stores one file's content unless the store has it; concurrent stores of the same content write once. */
  const storeContent = (sha: string, data: Buffer): Promise<void> => {
    let p = writes.get(sha);
    if (!p) {
      p = (async () => {
        const key = fileBlobKey(sha);
        if (await blobs.has(key)) return;
        await blobs.put(key, data);
        bytesWritten += data.length;
        filesWritten += 1;
      })();
      writes.set(sha, p);
    }
    return p;
  };

  const files = new Map<string, BundleFile>();
  const skipped: string[] = [];
  const extra = options.extraFiles ?? {};
  for (const p of Object.keys(extra)) {
    const reason = unsafePathReason(p);
    if (reason) throw new SlipwayError("bundle_unsafe_path", `extra file path ${JSON.stringify(p)} ${reason}`);
  }

  if (options.sourceDir !== undefined) {
    const root = await realpath(options.sourceDir);
    const skipAbs = new Set<string>();
    if (options.indexFile) {
      skipAbs.add(resolve(options.indexFile));
      try {
        skipAbs.add(await realpath(options.indexFile));
      } catch {
        /* not there yet */
      }
    }
    const walked = await walkSource(root, skipAbs);
    skipped.push(...walked.skipped);
    const index = options.indexFile ? await loadIndex(options.indexFile, root) : new Map<string, IndexEntry>();
    const nextIndex = new Map<string, IndexEntry>();
    const sources = walked.entries.filter((e) => !Object.hasOwn(extra, e.path));

    const pool = await runDag({ nodes: sources, key: (entry) => entry.path, limit: CONCURRENCY, run: async (entry) => {
      const known = index.get(entry.path);
      if (indexHit(known, entry.stat) && (await blobs.has(fileBlobKey(known.sha256)))) {
        nextIndex.set(entry.path, known);
        files.set(entry.path, { path: entry.path, mode: modeOf((entry.stat.mode & 0o111) !== 0), size: known.size, sha256: known.sha256 });
        return;
      }
      const hashedAt = Date.now();
      let read: Awaited<ReturnType<typeof readRegular>>;
      try {
        read = await readRegular(entry.abs);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return; // removed while capturing: not part of this bundle
        throw e;
      }
      if (!read) {
        skipped.push(entry.path);
        return;
      }
      const sha = sha256(read.data);
      await storeContent(sha, read.data);
      const st = read.stat;
      nextIndex.set(entry.path, { size: read.data.length, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: sha, hashedAt });
      files.set(entry.path, { path: entry.path, mode: modeOf((st.mode & 0o111) !== 0), size: read.data.length, sha256: sha });
    } });
    // The first failure stops the capture; nothing half-captured becomes a bundle.
    if (pool.failed.length) throw pool.failed[0]!.error;
    if (options.indexFile) await saveIndex(options.indexFile, root, nextIndex);
  }

  for (const [p, value] of Object.entries(extra)) {
    const content = typeof value === "string" || Buffer.isBuffer(value) ? value : value.content;
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    const mode = typeof value === "string" || Buffer.isBuffer(value) ? modeOf(data.subarray(0, 2).toString("latin1") === "#!") : value.mode;
    if (mode !== 0o644 && mode !== 0o755) throw new SlipwayError("bundle_invalid", `extra file ${JSON.stringify(p)}: mode must be 0o644 or 0o755`);
    const sha = sha256(data);
    await storeContent(sha, data);
    files.set(p, { path: p, mode, size: data.length, sha256: sha });
  }

  const sorted = [...files.values()].sort((a, b) => comparePaths(a.path, b.path));
  checkTree(sorted.map((f) => f.path), "bundle path");
  const manifest: BundleManifest = { version: 1, files: sorted };
  const json = canonicalJson(manifest);
  const hash = sha256(json);
  const key = bundleKey(hash);
  if (!(await blobs.has(key))) {
    await blobs.put(key, json);
    bytesWritten += Buffer.byteLength(json);
  }
  skipped.sort(comparePaths);
  return { hash, key, manifest, bytesWritten, bytesTotal: sorted.reduce((n, f) => n + f.size, 0), filesWritten, skipped };
}
