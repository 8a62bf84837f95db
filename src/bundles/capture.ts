// Capturing a folder into a content-addressed bundle (a tree of directory nodes, see tree.ts), with an
// index that skips re-hashing unchanged files (capture-index.ts).
import { constants as fsConstants, lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { open, realpath } from "node:fs/promises";
import type { Stats } from "node:fs";
import { basename, join, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { SlipwayError } from "../errors.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { runDag } from "../util/dag.js";
import type { BundleFile, BundleManifest, CaptureOptions, CaptureResult } from "./manifest.js";
import { CONCURRENCY, STORE_CONCURRENCY, bundleKey, checkTree, comparePaths, fileBlobKey, modeOf, unsafePathReason } from "./paths.js";
import { readIfFile, rebaseIgnoreRules } from "./ignore.js";
import { indexHit, loadIndex, saveIndex, type IndexEntry, type LastBundle, type LoadedIndex } from "./capture-index.js";
import { buildTree, listDigest, remember, rememberManifest, storeTree, storedNodes, type StoredNodes } from "./tree.js";

/** What the capture index compares of a file's lstat (or, through a link, stat). */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  mode: number;
}

export interface SourceEntry {
  path: string; // bundle path
  abs: string; // where to read it (a symlink inside sourceDir is read through)
  /** the stamps only, not the Stats (and its four Dates): every entry lives until the capture ends */
  stat: FileStamp;
}

/**
 * Every file of `sourceDir` a bundle takes, sorted by path. The walk uses synchronous calls (one lstat
 * per file, one readdir per folder: thousands of thread-pool round trips otherwise cost more than
 * the work) and yields to the event loop every YIELD_EVERY entries, so a server stays responsive.
 *
 * It runs on every capture, so its per-file work is kept to the lstat itself: names are sorted natively,
 * paths are concatenated (the root is real and absolute, names from readdir are single segments), and
 * the ignore rules are asked only once some .gitignore or .slipwayignore gave any (the matcher's
 * per-path work dominated the walk of a source without rules).
 */
export async function walkSource(sourceDir: string, skipAbs: Set<string>): Promise<{ entries: SourceEntry[]; skipped: string[] }> {
  const root = await realpath(sourceDir);
  const entries: SourceEntry[] = [];
  const skipped: string[] = [];
  const ig: Ignore = ignore({ ignorecase: false });
  let hasRules = false;
  const skipNames = new Set([...skipAbs].map((p) => basename(p)));
  const rootPrefix = root.endsWith(sep) ? root : root + sep;
  const inside = (real: string) => real === root || real.startsWith(rootPrefix);
  let sinceYield = 0;

  const walk = async (absDir: string, relDir: string, realDir: string, realAncestors: Set<string>): Promise<void> => {
    const names = readdirSync(absDir);
    sortNames(names);
    const absPrefix = absDir.endsWith(sep) ? absDir : absDir + sep;
    const realPrefix = realDir.endsWith(sep) ? realDir : realDir + sep;
    const relPrefix = relDir === "" ? "" : `${relDir}/`;
    // rules of this folder first (git reads a folder's .gitignore before looking at its entries);
    // .slipwayignore comes after .gitignore, so it can re-include what git ignores
    for (const name of [".gitignore", ".slipwayignore"]) {
      if (!names.includes(name)) continue;
      const text = readIfFile(absPrefix + name); // a regular file only
      if (text === undefined) continue;
      const rules = rebaseIgnoreRules(text, relDir);
      if (rules.length === 0) continue;
      ig.add(rules);
      hasRules = true;
    }
    for (const name of names) {
      if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise((r) => setImmediate(r));
      }
      if (name === ".git") continue; // never part of a bundle
      const rel = relPrefix + name;
      // a name from readdir is one segment (no slash, NUL, "." or ".."): only a backslash (or, on
      // Windows, a drive) can make the path unsafe, and the full check runs only then
      if ((name.includes("\\") || name.includes(":")) && unsafePathReason(rel)) {
        skipped.push(rel); // e.g. a backslash in a name: could not be materialized safely
        continue;
      }
      const abs = absPrefix + name;
      let st = lstatSync(abs, { throwIfNoEntry: false });
      if (st === undefined) continue; // removed while walking
      let readFrom = abs;
      let real = realPrefix + name; // the folder is real, and this entry is not a link (else below)
      if (st.isSymbolicLink()) {
        try {
          real = realpathSync(abs);
          st = statSync(real);
        } catch {
          skipped.push(rel); // dangling
          continue;
        }
        if (!inside(real)) {
          skipped.push(rel); // points outside the source folder
          continue;
        }
        readFrom = real;
      }
      if (st.isDirectory()) {
        if (hasRules && ig.ignores(`${rel}/`)) continue;
        if (realAncestors.has(real)) {
          skipped.push(rel); // symlink cycle
          continue;
        }
        await walk(abs, rel, real, new Set([...realAncestors, real]));
      } else if (st.isFile()) {
        if (hasRules && ig.ignores(rel)) continue;
        // the capture index itself (its name first: no long path is hashed for the other files)
        if ((skipNames.has(name) || readFrom !== abs) && (skipAbs.has(readFrom) || skipAbs.has(abs))) continue;
        entries.push({ path: rel, abs: readFrom, stat: { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode } });
      } else {
        if (hasRules && ig.ignores(rel)) continue;
        skipped.push(rel); // socket, FIFO, device
      }
    }
  };
  await walk(root, "", root, new Set([root]));
  return { entries, skipped };
}

const YIELD_EVERY = 512;

/**
 * Sorts a folder's names in bundle order (comparePaths), which is the engine's own string order
 * (UTF-16 code units, sorted natively without a call per comparison) unless a name holds a surrogate
 * (characters from U+10000). The walk's files then come nearly sorted, and sorting the list costs little.
 */
function sortNames(names: string[]): void {
  if (SURROGATE.test(names.join(""))) names.sort(comparePaths);
  else names.sort();
}
const SURROGATE = /[\ud800-\udfff]/;

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
  let indexBytesWritten = 0;
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
  /** Files taken from the index without reading them; their blobs are checked only when the bundle is new. */
  const unverified: SourceEntry[] = [];
  let rehash = async (_entries: SourceEntry[]): Promise<void> => {};
  let saveIndexLater = async (_last?: LastBundle): Promise<void> => {};
  let indexState: LoadedIndex | undefined;
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
    const loaded = options.indexFile ? await loadIndex(options.indexFile, root) : undefined;
    indexState = loaded;
    const index = loaded?.entries ?? new Map<string, IndexEntry>();
    const nextIndex = new Map<string, IndexEntry>();
    const sources = walked.entries.filter((e) => !Object.hasOwn(extra, e.path));

    /** Reads, hashes and stores one file. */
    const hashEntry = async (entry: SourceEntry): Promise<void> => {
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
    };
    const toHash: SourceEntry[] = [];
    for (const entry of sources) {
      const known = index.get(entry.path);
      if (indexHit(known, entry.stat)) {
        // unchanged since it was hashed; whether its blob is still stored is checked below, once per bundle
        nextIndex.set(entry.path, known);
        files.set(entry.path, { path: entry.path, mode: modeOf((entry.stat.mode & 0o111) !== 0), size: known.size, sha256: known.sha256 });
        unverified.push(entry);
      } else {
        toHash.push(entry);
      }
    }
    const pool = await runDag({ nodes: toHash, key: (entry) => entry.path, limit: CONCURRENCY, run: hashEntry });
    // The first failure stops the capture; nothing half-captured becomes a bundle.
    if (pool.failed.length) throw pool.failed[0]!.error;
    rehash = async (entries) => {
      const again = await runDag({ nodes: entries, key: (entry) => entry.path, limit: CONCURRENCY, run: hashEntry });
      if (again.failed.length) throw again.failed[0]!.error;
    };
    saveIndexLater = async (last) => {
      if (options.indexFile && loaded) indexBytesWritten = await saveIndex(options.indexFile, root, loaded, nextIndex, last);
    };
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

  const shape = () => {
    const sorted = [...files.values()].sort((a, b) => comparePaths(a.path, b.path));
    checkTree(sorted.map((f) => f.path), "bundle path");
    if (options.format === "flat") {
      const manifest: BundleManifest = { version: 1, files: sorted };
      const json = canonicalJson(manifest);
      return { sorted, manifest, hash: sha256(json), json, digest: "", built: undefined };
    }
    // The index remembers the bundle its last capture made: the same list of files is the same tree,
    // which then need not be built again (it is, when its record is missing from the store).
    const digest = listDigest(sorted);
    const last = indexState?.last;
    if (last && last.digest === digest) {
      remember(digest, last.hash);
      return { sorted, manifest: { version: 2, files: sorted, tree: last.root } as BundleManifest, hash: last.hash, json: "", digest, built: undefined };
    }
    const built = buildTree(sorted);
    const manifest: BundleManifest = { version: 2, files: sorted, tree: built.root };
    return { sorted, manifest, hash: built.record.hash, json: built.record.data, digest, built };
  };
  let shaped = shape();
  // A bundle already in the store had all its blobs stored before its record (written last). A new one
  // may hold files the index vouched for whose blobs are gone (a store emptied by hand): read those again.
  // The tree's nodes already stored vouch for the blobs below them; only the rest are asked about.
  let known: StoredNodes | undefined;
  if (unverified.length > 0 && !(await blobs.has(bundleKey(shaped.hash)))) {
    known = shaped.built ? await storedNodes(blobs, shaped.built) : undefined;
    const vouched = known?.vouched ?? new Set<string>();
    const gone: SourceEntry[] = [];
    const checked = await runDag({
      nodes: unverified.filter((entry) => !vouched.has(files.get(entry.path)!.sha256)),
      key: (entry) => entry.path,
      limit: STORE_CONCURRENCY,
      run: async (entry) => {
        if (!(await blobs.has(fileBlobKey(files.get(entry.path)!.sha256)))) gone.push(entry);
      },
    });
    if (checked.failed.length) throw checked.failed[0]!.error;
    if (gone.length > 0) {
      await rehash(gone);
      shaped = shape();
      known = undefined;
    }
  }

  let metadataBytesWritten = 0;
  let nodesWritten = 0;
  if (options.format === "flat") {
    const key = bundleKey(shaped.hash);
    if (!(await blobs.has(key))) {
      await blobs.put(key, shaped.json);
      metadataBytesWritten = Buffer.byteLength(shaped.json);
    }
  } else {
    if (!shaped.built && !(await blobs.has(bundleKey(shaped.hash)))) {
      const built = buildTree(shaped.sorted); // remembered, but not in the store: build and store it
      shaped = { ...shaped, built, hash: built.record.hash, manifest: { version: 2, files: shaped.sorted, tree: built.root } };
    }
    if (shaped.built) {
      const stored = await storeTree(blobs, shaped.built, known);
      metadataBytesWritten = stored.bytes;
      nodesWritten = stored.nodes;
    }
  }
  await saveIndexLater(options.format === "flat" ? undefined : { digest: shaped.digest, hash: shaped.hash, root: shaped.manifest.tree! });

  const { sorted, manifest, hash } = shaped;
  if (options.format !== "flat") rememberManifest(hash, manifest); // a checkout in this process compares against it
  skipped.sort(comparePaths);
  return {
    hash,
    key: bundleKey(hash),
    manifest,
    bytesTotal: sorted.reduce((n, f) => n + f.size, 0),
    filesWritten,
    skipped,
    indexBytesWritten,
    bytesWritten: bytesWritten + metadataBytesWritten,
    metadataBytesWritten,
    nodesWritten,
  };
}
