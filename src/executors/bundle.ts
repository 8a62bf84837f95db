// Job bundles: a job's source folder (minus what .gitignore / .slipwayignore exclude), its resolved
// configuration and Slipway's runner script, captured content-addressed in the blob store.
//
//   files/<sha256>            one blob per distinct file content (written only when new)
//   bundles/<sha256>.json     the manifest: canonical JSON of { version: 1, files: [...] }, sorted by path;
//                             the bundle's hash is the sha256 of exactly these bytes
//
// Re-capturing after one file changed writes that file's blob and a new manifest, nothing else.
// materializeBundle() writes a bundle into a fresh working folder; packBundle()/unpackArchive() carry it
// to remote executors as a .tar.gz. Neither ever writes outside the working folder, whatever the
// manifest or the archive says: every path is checked before anything is written.
import { constants as fsConstants } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, readFile, realpath, rename, stat, writeFile } from "node:fs/promises";
import type { Stats } from "node:fs";
import { dirname, join, relative, resolve, sep, isAbsolute } from "node:path";
import * as zlibModule from "node:zlib";
import { constants as zlibConstants, deflateRaw, deflateRawSync } from "node:zlib";
import { promisify } from "node:util";
import ignore, { type Ignore } from "ignore";
import { Header, Pax, Parser, Unpack, type ReadEntry } from "tar";
import { SlipwayError } from "../errors.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import type { BlobStore } from "../store/blobs/blob-store.js";

export interface BundleFile {
  /** posix, relative to the bundle root */
  path: string;
  /** 0o644 or 0o755 */
  mode: number;
  size: number;
  sha256: string;
}

export interface BundleManifest {
  version: 1;
  /** sorted by path (code point order) */
  files: BundleFile[];
}

/** Content of an extra file; a bare string/Buffer gets 0o755 when it starts with "#!", else 0o644. */
export type ExtraFile = string | Buffer | { content: string | Buffer; mode: 0o644 | 0o755 };

export interface CaptureOptions {
  /** folder to capture; honours .gitignore and .slipwayignore (root and nested); .git is always skipped */
  sourceDir?: string;
  /** files added at these bundle paths (e.g. ".slipway/job.json"), replacing source files of the same path */
  extraFiles?: Record<string, ExtraFile>;
  /** JSON file remembering path -> {size, mtime, sha256} so unchanged files are not read again */
  indexFile?: string;
}

export interface CaptureResult {
  /** sha256 of the manifest JSON: the bundle's identity */
  hash: string;
  /** blob key of the manifest: bundles/<hash>.json */
  key: string;
  manifest: BundleManifest;
  /** bytes this capture wrote to the blob store (new file blobs + the manifest if it was new) */
  bytesWritten: number;
  /** sum of the sizes of every file in the bundle */
  bytesTotal: number;
  /** number of file blobs this capture wrote (the manifest is not counted) */
  filesWritten: number;
  /** source paths left out: symlinks leaving sourceDir or dangling, special files, unrepresentable names */
  skipped: string[];
}

const FILE_PREFIX = "files/";
const BUNDLE_PREFIX = "bundles/";
const HEX64 = /^[0-9a-f]{64}$/;
const CONCURRENCY = 8;
/** Files modified this close to (or after) the moment they were hashed are re-hashed next time (coarse mtimes). */
const RACY_MS = 2000;

export function bundleKey(hash: string): string {
  return `${BUNDLE_PREFIX}${hash}.json`;
}

export function fileBlobKey(sha: string): string {
  return `${FILE_PREFIX}${sha}`;
}

// ---------------------------------------------------------------------------------------------------
// paths

/** Why `p` is not a safe relative bundle path, or undefined when it is. */
function unsafePathReason(p: unknown): string | undefined {
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
function safeJoin(root: string, p: string, what: string): string {
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
function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Throws when a path is listed twice, or a file is also used as a folder of another path. */
function checkTree(paths: string[], what: string): void {
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

function modeOf(executable: boolean): 0o644 | 0o755 {
  return executable ? 0o755 : 0o644;
}

// ---------------------------------------------------------------------------------------------------
// ignore rules

/** Escapes a folder path so it matches itself literally inside a gitignore pattern. */
function escapeGlob(s: string): string {
  return s.replace(/[\\*?[\]!# ]/g, "\\$&");
}

/**
 * Rewrites the lines of a .gitignore found in folder `dir` (posix, relative to the root; "" for the
 * root) into patterns relative to the root, following git: a pattern with a slash at its start or
 * middle is anchored to `dir`; one without matches at any depth below `dir`.
 */
export function rebaseIgnoreRules(text: string, dir: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === "" || raw.startsWith("#")) continue;
    if (dir === "") {
      out.push(raw);
      continue;
    }
    const negated = raw.startsWith("!");
    let body = negated ? raw.slice(1) : raw;
    body = body.replace(/(?<!\\) +$/, ""); // trailing unescaped spaces are insignificant
    if (body === "" || body === "/") continue;
    const core = body.endsWith("/") ? body.slice(0, -1) : body;
    const anchored = core.includes("/");
    const prefix = escapeGlob(dir);
    const rebased = anchored ? `${prefix}/${body.replace(/^\/+/, "")}` : `${prefix}/**/${body}`;
    out.push(`${negated ? "!" : ""}${rebased}`);
  }
  return out;
}

async function readIfFile(path: string): Promise<string | undefined> {
  try {
    const st = await lstat(path);
    if (!st.isFile()) return undefined;
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// capture

interface SourceEntry {
  path: string; // bundle path
  abs: string; // where to read it (a symlink inside sourceDir is read through)
  stat: Stats;
}

interface IndexEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
  /** Date.now() just before the content was read */
  hashedAt: number;
}

interface IndexFile {
  version: 1;
  root: string;
  entries: Record<string, IndexEntry>;
}

async function loadIndex(file: string, root: string): Promise<Map<string, IndexEntry>> {
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

async function saveIndex(file: string, root: string, entries: Map<string, IndexEntry>): Promise<void> {
  const doc: IndexFile = { version: 1, root, entries: Object.fromEntries([...entries].sort(([a], [b]) => comparePaths(a, b))) };
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, JSON.stringify(doc));
  await rename(tmp, file);
}

/** The index entry still describes the file: same identity and stamps, and not modified around hashing time. */
function indexHit(e: IndexEntry | undefined, st: Stats): e is IndexEntry {
  return (
    e !== undefined && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs && e.ino === st.ino &&
    Math.max(st.mtimeMs, st.ctimeMs) + RACY_MS <= e.hashedAt
  );
}

async function walkSource(sourceDir: string, skipAbs: Set<string>): Promise<{ entries: SourceEntry[]; skipped: string[] }> {
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

async function runPool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Reads a regular file through one descriptor (never blocks on a FIFO swapped in meanwhile). */
async function readRegular(path: string): Promise<{ data: Buffer; stat: Stats } | undefined> {
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

    await runPool(sources, CONCURRENCY, async (entry) => {
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
    });
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

// ---------------------------------------------------------------------------------------------------
// reading bundles back

/** Loads, verifies (content hash) and validates a manifest, including every path. */
export async function loadManifest(blobs: BlobStore, hash: string): Promise<BundleManifest> {
  if (!HEX64.test(hash)) throw new SlipwayError("bundle_invalid", `invalid bundle hash ${JSON.stringify(hash)}`);
  const data = await blobs.get(bundleKey(hash));
  if (!data) throw new SlipwayError("bundle_not_found", `bundle ${hash} is not in the blob store`);
  if (sha256(data) !== hash) throw new SlipwayError("bundle_corrupt", `bundle ${hash}: manifest content does not match its hash`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch {
    throw new SlipwayError("bundle_invalid", `bundle ${hash}: manifest is not JSON`);
  }
  const m = parsed as { version?: unknown; files?: unknown };
  if (!m || typeof m !== "object" || m.version !== 1 || !Array.isArray(m.files)) {
    throw new SlipwayError("bundle_invalid", `bundle ${hash}: not a version 1 manifest`);
  }
  const files: BundleFile[] = [];
  for (const f of m.files as unknown[]) {
    const e = f as Partial<BundleFile> | null;
    const path = e && typeof e === "object" ? e.path : undefined;
    const reason = unsafePathReason(path);
    if (reason) throw new SlipwayError("bundle_unsafe_path", `bundle ${hash}: path ${JSON.stringify(path)} ${reason}; refusing to write it`);
    if (e!.mode !== 0o644 && e!.mode !== 0o755) throw new SlipwayError("bundle_invalid", `bundle ${hash}: ${JSON.stringify(path)} has mode ${e!.mode}`);
    if (typeof e!.size !== "number" || !Number.isSafeInteger(e!.size) || e!.size < 0) throw new SlipwayError("bundle_invalid", `bundle ${hash}: ${JSON.stringify(path)} has an invalid size`);
    if (typeof e!.sha256 !== "string" || !HEX64.test(e!.sha256)) throw new SlipwayError("bundle_invalid", `bundle ${hash}: ${JSON.stringify(path)} has an invalid sha256`);
    files.push({ path: path as string, mode: e!.mode, size: e!.size, sha256: e!.sha256 });
  }
  checkTree(files.map((f) => f.path), `bundle ${hash}: path`);
  return { version: 1, files };
}

async function readVerifiedBlob(blobs: BlobStore, f: BundleFile): Promise<Buffer> {
  const data = await blobs.get(fileBlobKey(f.sha256));
  if (!data) throw new SlipwayError("bundle_blob_missing", `bundle file ${JSON.stringify(f.path)}: blob ${f.sha256} is missing from the blob store`);
  if (data.length !== f.size || sha256(data) !== f.sha256) {
    throw new SlipwayError("bundle_corrupt", `bundle file ${JSON.stringify(f.path)}: blob content does not match sha256 ${f.sha256}`);
  }
  return data;
}

/** Creates `workDir` (it must be missing or an empty folder). */
async function prepareWorkDir(workDir: string): Promise<string> {
  const abs = resolve(workDir);
  let st: Stats | undefined;
  try {
    st = await stat(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (st) {
    if (!st.isDirectory()) throw new SlipwayError("workdir_not_empty", `working folder ${abs} exists and is not a folder`);
    if ((await readdir(abs)).length > 0) throw new SlipwayError("workdir_not_empty", `working folder ${abs} is not empty`);
  } else {
    await mkdir(abs, { recursive: true });
  }
  return realpath(abs);
}

/**
 * Writes bundle `hash` into `workDir` (created; must be missing or empty), each file with its mode.
 * The manifest is checked entirely (paths, modes, hashes) before anything is written, and each blob's
 * sha256 is verified before its file is written.
 */
export async function materializeBundle(blobs: BlobStore, hash: string, workDir: string): Promise<void> {
  const manifest = await loadManifest(blobs, hash);
  const lexicalRoot = resolve(workDir);
  for (const f of manifest.files) safeJoin(lexicalRoot, f.path, "bundle path");
  const root = await prepareWorkDir(workDir);
  await runPool(manifest.files, CONCURRENCY, async (f) => {
    const target = safeJoin(root, f.path, "bundle path");
    const data = await readVerifiedBlob(blobs, f);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data, { flag: "wx", mode: f.mode });
    await chmod(target, f.mode); // the umask must not decide whether the runner is executable
  });
}

// ---------------------------------------------------------------------------------------------------
// transport archive

const ARCHIVE_MTIME = new Date(0);

function tarEntryHeader(f: BundleFile): Buffer {
  const fields = { path: f.path, mode: f.mode, uid: 0, gid: 0, size: f.size, mtime: ARCHIVE_MTIME, type: "File" as const, uname: "", gname: "" };
  const header = new Header(fields);
  const block = Buffer.alloc(512);
  const needPax = header.encode(block, 0);
  if (!needPax) return block;
  const pax = new Pax({ path: f.path, size: f.size, mtime: ARCHIVE_MTIME }).encode();
  return Buffer.concat([pax, block]);
}

/** Whether deflate is worth its time on this content: random-looking data (weights, archives) is stored instead. */
function compressible(data: Buffer): boolean {
  if (data.length < 16 * 1024) return true;
  const sample = data.subarray(0, 64 * 1024);
  return deflateRawSync(sample, { level: 1 }).length < sample.length * 0.9;
}

const deflateRawAsync = promisify(deflateRaw);
const SEGMENT_BYTES = 4 * 1024 * 1024;
const PACK_PARALLELISM = 4;

/** CRC-32 as gzip wants it; zlib.crc32 exists from Node 20.15, a table fallback below that. */
let crcTable: Uint32Array | undefined;
function crc32(data: Uint8Array, value = 0): number {
  const native = (zlibModule as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(data, value);
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = (crcTable[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The bundle as a gzipped tar (deterministic: fixed owner and mtime, files in manifest order).
 *
 * The gzip member is written segment by segment: runs of compressible bytes (headers, source files) are
 * deflated at level 6, random-looking file contents (weights, archives) at level 0, in up to 4 threads.
 * Each segment ends on a sync flush, so they join into one ordinary deflate stream.
 */
export async function packBundle(blobs: BlobStore, hash: string): Promise<Buffer> {
  const manifest = await loadManifest(blobs, hash);
  const segments: Promise<Buffer>[] = [];
  const done: Buffer[] = [];
  let crc = 0;
  let total = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const emit = async (data: Buffer, level: number) => {
    if (data.length === 0) return;
    crc = crc32(data, crc);
    total += data.length;
    segments.push(deflateRawAsync(data, { level, finishFlush: zlibConstants.Z_SYNC_FLUSH }));
    while (segments.length >= PACK_PARALLELISM) done.push(await (segments.shift() as Promise<Buffer>));
  };
  const flushPending = async () => {
    const data = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    await emit(data, 6);
  };
  const addCompressible = async (data: Buffer) => {
    pending.push(data);
    pendingBytes += data.length;
    if (pendingBytes >= SEGMENT_BYTES) await flushPending();
  };

  for (const f of manifest.files) {
    const data = await readVerifiedBlob(blobs, f);
    await addCompressible(tarEntryHeader(f));
    if (compressible(data)) {
      await addCompressible(data);
    } else {
      await flushPending();
      for (let at = 0; at < data.length; at += SEGMENT_BYTES) await emit(data.subarray(at, at + SEGMENT_BYTES), 0);
    }
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) await addCompressible(Buffer.alloc(pad));
  }
  await addCompressible(Buffer.alloc(1024)); // end-of-archive marker
  await flushPending();
  for (const s of segments) done.push(await s);

  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]); // gzip, deflate, no name, mtime 0, unknown OS
  const last = deflateRawSync(Buffer.alloc(0)); // the final (empty) block
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  return Buffer.concat([header, ...done, last, trailer]);
}

interface ArchiveEntry {
  raw: string;
  type: string;
  linkpath?: string;
}

const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);
const LINK_TYPES = new Set(["SymbolicLink", "Link"]);

function unsafeEntry(name: string, why: string): SlipwayError {
  return new SlipwayError("archive_unsafe_entry", `archive entry ${JSON.stringify(name)} ${why}; nothing was extracted`);
}

/** Splits an archive entry path into clean segments ("./a//b/" -> [a, b]); throws when it could leave the root. */
function archiveSegments(name: string): string[] {
  if (name.includes("\0")) throw unsafeEntry(name, "contains NUL");
  if (name.includes("\\")) throw unsafeEntry(name, "contains a backslash");
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw unsafeEntry(name, "is an absolute path");
  const parts = name.split("/").filter((s) => s !== "" && s !== ".");
  if (parts.includes("..")) throw unsafeEntry(name, "contains a .. segment");
  return parts;
}

function listArchive(data: Buffer): Promise<ArchiveEntry[]> {
  return new Promise((resolveList, reject) => {
    const entries: ArchiveEntry[] = [];
    const parser = new Parser({
      strict: true,
      onReadEntry: (e: ReadEntry) => {
        entries.push({ raw: e.path, type: e.type, linkpath: e.linkpath });
        e.resume();
      },
    });
    parser.on("error", reject);
    parser.on("end", () => resolveList(entries));
    parser.end(data);
  });
}

/**
 * Checks every entry before anything is extracted. Accepts files, folders, and links whose target stays
 * inside the root without passing through another link; refuses absolute paths, `..`, device/FIFO
 * entries, duplicates, and any entry that would be written through a link or under a file.
 * Returns the clean path of every entry, by raw name.
 */
function checkArchive(entries: ArchiveEntry[]): Map<string, { path: string; type: string }> {
  const kinds = new Map<string, string>(); // clean path -> type
  const approved = new Map<string, { path: string; type: string }>();
  const cleaned: { e: ArchiveEntry; parts: string[] }[] = [];
  for (const e of entries) {
    if (!FILE_TYPES.has(e.type) && e.type !== "Directory" && !LINK_TYPES.has(e.type)) throw unsafeEntry(e.raw, `has unsupported type ${e.type}`);
    const parts = archiveSegments(e.raw);
    if (parts.length === 0) {
      if (e.type !== "Directory") throw unsafeEntry(e.raw, "has an empty path");
      continue;
    }
    const path = parts.join("/");
    const seen = kinds.get(path);
    if (seen !== undefined && !(seen === "Directory" && e.type === "Directory")) throw unsafeEntry(e.raw, "appears twice in the archive");
    kinds.set(path, e.type);
    cleaned.push({ e, parts });
  }
  const isLink = (p: string) => LINK_TYPES.has(kinds.get(p) ?? "");
  const isNonDir = (p: string) => kinds.has(p) && kinds.get(p) !== "Directory";
  for (const { e, parts } of cleaned) {
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (isLink(parent)) throw unsafeEntry(e.raw, `would be written through the link ${JSON.stringify(parent)}`);
      if (isNonDir(parent)) throw unsafeEntry(e.raw, `lies under the file ${JSON.stringify(parent)}`);
    }
    if (LINK_TYPES.has(e.type)) {
      const target = e.linkpath ?? "";
      if (target === "" || target.includes("\0") || target.includes("\\")) throw unsafeEntry(e.raw, `has an invalid link target ${JSON.stringify(target)}`);
      if (target.startsWith("/") || /^[A-Za-z]:/.test(target)) throw unsafeEntry(e.raw, `links to the absolute path ${JSON.stringify(target)}`);
      // symlink targets are relative to the link's folder, hard link targets to the archive root
      const at = e.type === "SymbolicLink" ? parts.slice(0, -1) : [];
      const segs = target.split("/").filter((s) => s !== "" && s !== ".");
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i] as string;
        if (s === "..") {
          if (at.length === 0) throw unsafeEntry(e.raw, `links outside the working folder (${JSON.stringify(target)})`);
          at.pop();
        } else {
          at.push(s);
          const prefix = at.join("/");
          const last = i === segs.length - 1;
          if (isLink(prefix) && (!last || e.type === "Link")) throw unsafeEntry(e.raw, `links through another link ${JSON.stringify(prefix)}`);
        }
      }
      if (at.length === 0 && e.type === "Link") throw unsafeEntry(e.raw, "hard-links the working folder itself");
    }
    approved.set(e.raw, { path: parts.join("/"), type: e.type });
  }
  return approved;
}

/**
 * Extracts a .tar.gz (a Buffer, or the path of a file) into `workDir` (created; must be missing or
 * empty). Every entry is checked before anything is written: an entry that could write outside
 * `workDir` (absolute path, `..`, a link leaving it, a file written through a link) makes it throw with
 * that entry's name, and nothing is extracted. Files get 0o755 when any execute bit is set, else 0o644.
 * Returns the extracted files and links (not folders), as sorted posix paths.
 */
export async function unpackArchive(archive: Buffer | string, workDir: string): Promise<string[]> {
  const data = typeof archive === "string" ? await readFile(archive) : archive; // read once: what is checked is what is extracted
  const approved = checkArchive(await listArchive(data));
  const root = await prepareWorkDir(workDir);
  const refused: string[] = [];
  await new Promise<void>((resolveUnpack, reject) => {
    const unpack = new Unpack({
      cwd: root,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      noMtime: true,
      filter: (path: string, entry: Stats | ReadEntry) => {
        const e = entry as ReadEntry;
        const ok = approved.get(e.path);
        if (!ok || ok.type !== e.type) {
          refused.push(path);
          return false;
        }
        if (e.type === "Directory") e.mode = 0o755;
        else if (FILE_TYPES.has(e.type)) e.mode = modeOf(((e.mode ?? 0) & 0o111) !== 0);
        return true;
      },
    });
    unpack.on("error", reject);
    unpack.on("close", () => resolveUnpack());
    unpack.end(data);
  });
  if (refused.length > 0) throw unsafeEntry(refused[0] as string, "was not approved by the pre-check");
  const out = new Set<string>();
  for (const { path, type } of approved.values()) if (type !== "Directory") out.add(path);
  return [...out].sort(comparePaths);
}
