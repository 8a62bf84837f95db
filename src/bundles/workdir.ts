// A run's working folder without copying the bundle every time: working folders are kept in a pool
// after their run and handed to the next run of the same job, made exactly equal to its bundle first.
//
//   <cacheDir>/<pool>/<bundle>.<time>.<random>/tree/        a working folder, as its last run left it
//   <cacheDir>/<pool>/<bundle>.<time>.<random>/state.json   what it held when that run started: every
//        file's path, mode, size and sha256, and the inode, size, mtime and ctime it had on disk
//
// Each run gets a folder of its own (taken from the pool by one atomic rename, so two runs never share
// one), and what a task writes in it reaches neither the blob store (the files are copies, never links
// to blobs) nor the next run: before a kept folder is used, every entry is looked at (lstat, links never
// followed). A file whose inode, size, mtime, ctime, mode or link count differs from state.json, or
// whose content the new bundle does not want, is removed and written again from its verified blob;
// anything the bundle does not list is removed; what is missing is written. Writing to a file changes
// its ctime, which no program can set back, so an unchanged ctime (with the rest) means unchanged bytes.
// To keep that true for writes that come within one tick of the kernel's clock after ours, the folder
// is handed over only once the clock is past the newest ctime written by more than CTIME_MARGIN_MS.
//
// The cost of an unchanged re-run is one lstat per file and one readdir per folder, whatever the bytes;
// a re-run after one file changed writes that file. Without a kept folder (first run, or a run beside
// another of the same job) the bundle is written in full, as materializeBundle does.
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { Stats } from "node:fs";
import { join, resolve, sep } from "node:path";
import { SlipwayError } from "../errors.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import type { BundleFile, BundleManifest } from "./manifest.js";
import { HEX64, safeJoin } from "./paths.js";
import { checkFiles, loadManifest, prepareWorkDir, writeBundleFiles } from "./materialize.js";
import { rememberedManifest, treeBundleHash } from "./tree.js";

/** Kept working folders per pool (per job); the oldest beyond this are deleted. */
export const POOL_SIZE = 2;
/** The newest ctime written must be this far in the past before a task may touch the folder. */
export const CTIME_MARGIN_MS = 20;

type StateFile = [path: string, mode: number, size: number, sha256: string, ino: number, mtimeMs: number, ctimeMs: number];
interface State {
  version: 1;
  bundle: string;
  files: StateFile[];
}

export interface WorkDirOptions {
  /** where kept folders live, e.g. SLIPWAY_HOME/cache/workdirs */
  cacheDir: string;
  /** which pool: runs that share it reuse each other's folders (the runner uses one per project and job) */
  pool: string;
}

export interface CheckoutResult {
  hash: string;
  workDir: string;
  manifest: BundleManifest;
  /** a kept folder was reused (false: written from scratch) */
  reused: boolean;
  /** files written from their blobs */
  filesWritten: number;
  bytesWritten: number;
  /** files kept as they were */
  filesKept: number;
  /** entries removed (changed files, files not in the bundle, folders of them) */
  removed: number;
  /** private: the folder beside workDir that holds state.json until the folder goes back to the pool */
  slotDir: string;
}

function poolDir(options: WorkDirOptions): string {
  if (!/^[A-Za-z0-9_-]+$/.test(options.pool)) throw new SlipwayError("bundle_invalid", `invalid working folder pool ${JSON.stringify(options.pool)}`);
  return join(resolve(options.cacheDir), options.pool);
}

function slotDirOf(workDir: string): string {
  return `${resolve(workDir)}.slot`;
}

/**
 * Takes a kept folder of the pool (one of `hash` first, else the newest) by renaming it to a private
 * name in the pool (`.claimed.…`): of two runs renaming the same folder, one fails.
 */
function claim(pool: string, hash: string): { state: State; dir: string } | undefined {
  let names: string[];
  try {
    names = readdirSync(pool).filter((n) => !n.startsWith("."));
  } catch {
    return undefined;
  }
  const stamp = (n: string) => n.split(".")[1] ?? "";
  names.sort((a, b) => Number(b.startsWith(`${hash}.`)) - Number(a.startsWith(`${hash}.`)) || stamp(b).localeCompare(stamp(a)));
  for (const name of names) {
    const dir = join(pool, `.claimed.${name}`);
    try {
      renameSync(join(pool, name), dir);
    } catch {
      continue; // taken by another run meanwhile
    }
    try {
      const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as State;
      const tree = lstatSync(join(dir, "tree"));
      if (state?.version === 1 && typeof state.bundle === "string" && Array.isArray(state.files) && tree.isDirectory()) return { state, dir };
    } catch {
      /* unusable: dropped below */
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return undefined;
}

/**
 * The files of `state` when they are exactly bundle `hash`, else undefined: compared one by one with
 * the bundle this process captured, when it is that one (`run --wait`), else checked by hashing them
 * as the bundle would be.
 */
function manifestFromState(state: State, hash: string): BundleManifest | undefined {
  if (state.bundle !== hash) return undefined;
  const captured = rememberedManifest(hash);
  if (captured) return sameFiles(state.files, captured.files) ? captured : undefined;
  try {
    const files = checkFiles(hash, state.files.map(([path, mode, size, sha]) => ({ path, mode, size, sha256: sha })));
    if (treeBundleHash(files) === hash) return { version: 2, files };
    if (sha256(canonicalJson({ version: 1, files })) === hash) return { version: 1, files };
  } catch {
    /* not the bundle */
  }
  return undefined;
}

/** `state` lists exactly `files` (path, mode, size, sha256), in the same order. */
function sameFiles(state: readonly unknown[], files: readonly BundleFile[]): boolean {
  if (state.length !== files.length) return false;
  for (let i = 0; i < files.length; i++) {
    const s = state[i] as StateFile;
    const f = files[i]!;
    if (!Array.isArray(s) || s[0] !== f.path || s[1] !== f.mode || s[2] !== f.size || s[3] !== f.sha256) return false;
  }
  return true;
}

function sameStamp(st: Stats, s: StateFile | undefined, f: BundleFile): boolean {
  return (
    s !== undefined && s[3] === f.sha256 && s[1] === f.mode && s[2] === f.size && st.isFile() && st.nlink === 1 &&
    st.ino === s[4] && st.size === s[2] && st.mtimeMs === s[5] && st.ctimeMs === s[6] && (st.mode & 0o7777) === f.mode
  );
}

/**
 * Makes the folder `root` hold exactly `files`, keeping the files whose stamps match `state`.
 * Returns the files still to be written and how many entries were removed.
 */
function reconcile(root: string, files: readonly BundleFile[], state: State): { missing: BundleFile[]; kept: Map<string, StateFile>; removed: number } {
  // It runs before every reused run, so its per-file work is the lstat and two map look-ups: paths are
  // concatenated (root is absolute and resolved, names from readdir are single segments).
  const wanted = new Map<string, BundleFile>();
  const dirs = new Set<string>();
  for (const f of files) {
    wanted.set(f.path, f);
    // the folders above the file; a parent already listed has its own parents listed
    for (let i = f.path.lastIndexOf("/"); i > 0; i = f.path.lastIndexOf("/", i - 1)) {
      const dir = f.path.slice(0, i);
      if (dirs.has(dir)) break;
      dirs.add(dir);
    }
  }
  const stamps = new Map<string, StateFile>();
  for (const s of state.files) stamps.set(s[0], s);
  const kept = new Map<string, StateFile>();
  let removed = 0;
  const walk = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    if ((st.mode & 0o700) !== 0o700) chmodSync(abs, 0o755); // a task may have taken its own access away
    const absPrefix = abs.endsWith(sep) ? abs : abs + sep;
    const relPrefix = rel === "" ? "" : `${rel}/`;
    for (const name of readdirSync(abs)) {
      const path = relPrefix + name;
      const child = absPrefix + name;
      const cst = lstatSync(child);
      if (cst.isDirectory() && dirs.has(path)) {
        walk(child, path);
        continue;
      }
      const f = wanted.get(path);
      const s = stamps.get(path);
      if (f && sameStamp(cst, s, f)) {
        kept.set(path, s!);
        continue;
      }
      if (cst.isDirectory() && (cst.mode & 0o700) !== 0o700) chmodSync(child, 0o755);
      rmSync(child, { recursive: true, force: true }); // never follows a link: a link is removed, not its target
      removed += 1;
    }
  };
  walk(root, "");
  return { missing: kept.size === files.length ? [] : files.filter((f) => !kept.has(f.path)), kept, removed };
}

/**
 * Gives `workDir` (must be missing or empty) exactly the files of bundle `hash`, reusing a kept folder
 * of the pool when there is one (see the top of this file). Like materializeBundle, the whole bundle
 * is checked (paths, modes, hashes) before anything is written, and every file written is checked
 * against its sha256 first. Hand the folder back with returnWorkDir when the run is over.
 */
export async function checkoutBundle(blobs: BlobStore, hash: string, workDir: string, options: WorkDirOptions): Promise<CheckoutResult> {
  if (!HEX64.test(hash)) throw new SlipwayError("bundle_invalid", `invalid bundle hash ${JSON.stringify(hash)}`);
  const pool = poolDir(options);
  const root = resolve(workDir);
  const slotDir = slotDirOf(root);
  const claimed = claim(pool, hash);
  const state = claimed?.state;
  let manifest: BundleManifest;
  try {
    // the whole bundle is checked before anything is written, and workDir must be missing or empty
    const fromState = state && manifestFromState(state, hash);
    manifest = fromState ?? (await loadManifest(blobs, hash));
    // every path of a list from state.json passed unsafePathReason (checkFiles), as did those of the
    // bundle this process captured: clean segments under an absolute folder cannot leave it
    if (!fromState) for (const f of manifest.files) safeJoin(root, f.path, "bundle path");
    await prepareWorkDir(root);
    rmSync(slotDir, { recursive: true, force: true });
    if (claimed) renameSync(claimed.dir, slotDir);
  } catch (e) {
    if (claimed) putBack(pool, claimed.dir, claimed.state.bundle);
    throw e;
  }

  let reused = false;
  let real = root;
  let missing: readonly BundleFile[] = manifest.files;
  let kept = new Map<string, StateFile>();
  let removed = 0;
  if (state) {
    try {
      renameSync(join(slotDir, "tree"), root); // onto the empty folder
      ({ missing, kept, removed } = reconcile(root, manifest.files, state));
      reused = true;
      real = realpathSync(root);
    } catch {
      // a kept folder that cannot be put right (e.g. a task made part of it unreadable): start afresh
      const trash = join(pool, `.trash.${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`);
      try {
        renameSync(root, trash);
      } catch {
        /* it did not get there */
      }
      rmSync(trash, { recursive: true, force: true });
      rmSync(join(slotDir, "tree"), { recursive: true, force: true });
      missing = manifest.files;
      kept = new Map();
      removed = 0;
    }
  }
  let newest = 0;
  try {
    if (!reused) real = await prepareWorkDir(root);
    await writeBundleFiles(blobs, real, missing);
    mkdirSync(slotDir, { recursive: true });
    // a folder kept exactly as state.json describes it keeps that file; otherwise it is written anew
    if (!state || missing.length > 0 || removed > 0 || state.bundle !== hash) {
      // what the folder holds now, as the next checkout will compare it
      const files: StateFile[] = [];
      for (const f of manifest.files) {
        const k = kept.get(f.path);
        if (k) {
          files.push(k);
          continue;
        }
        const st = lstatSync(safeJoin(real, f.path, "bundle path"));
        files.push([f.path, f.mode, f.size, f.sha256, st.ino, st.mtimeMs, st.ctimeMs]);
        newest = Math.max(newest, st.ctimeMs, st.mtimeMs);
      }
      writeFileSync(join(slotDir, "state.json"), JSON.stringify({ version: 1, bundle: hash, files } satisfies State));
    }
  } catch (e) {
    rmSync(slotDir, { recursive: true, force: true }); // the caller removes workDir, as after a failed materializeBundle
    throw e;
  }
  const wait = newest + CTIME_MARGIN_MS - Date.now();
  if (missing.length > 0 && wait > 0) await new Promise((r) => setTimeout(r, wait));
  return {
    hash,
    workDir: real,
    manifest,
    reused,
    filesWritten: missing.length,
    bytesWritten: missing.reduce((n, f) => n + f.size, 0),
    filesKept: kept.size,
    removed,
    slotDir,
  };
}

function putBack(pool: string, slotDir: string, bundle: string): void {
  try {
    mkdirSync(pool, { recursive: true });
    renameSync(slotDir, join(pool, `${bundle}.${Date.now().toString(36).padStart(9, "0")}.${Math.random().toString(36).slice(2, 8)}`));
  } catch {
    rmSync(slotDir, { recursive: true, force: true });
  }
}

/**
 * When the run is over: puts its working folder back in the pool for the next run, and deletes the
 * pool's oldest folders beyond POOL_SIZE. A folder that is no longer a real folder (a task replaced it
 * with a link) is removed, never kept; what a task changed inside is put right by the next checkout.
 */
export function returnWorkDir(checkout: CheckoutResult, options: WorkDirOptions): void {
  const pool = poolDir(options);
  const { workDir, slotDir } = checkout;
  try {
    const st = lstatSync(workDir);
    if (!st.isDirectory()) throw new Error("not a folder");
    if (usedByAProcess(workDir)) throw new Error("a process that outlived the run still works in it");
    lstatSync(join(slotDir, "state.json"));
    renameSync(workDir, join(slotDir, "tree"));
  } catch {
    rmSync(workDir, { recursive: true, force: true });
    rmSync(slotDir, { recursive: true, force: true });
    return;
  }
  putBack(pool, slotDir, checkout.hash);
  prune(pool);
}

/**
 * Whether a process (one a task left behind, in a session of its own, out of reach of the kill at the
 * end of its task) still has its working directory in `dir`: such a folder is not reused, since that
 * process could still write into it while the next run uses it. Linux only (/proc); elsewhere false.
 * Processes that moved their working directory away but hold a file of `dir` open are not seen.
 */
export function usedByAProcess(dir: string): boolean {
  if (process.platform !== "linux") return false;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return false;
  }
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return false;
  }
  const inside = real.endsWith("/") ? real : `${real}/`;
  for (const pid of pids) {
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue; // gone, or another user's
    }
    if (cwd === real || cwd.startsWith(inside)) return true;
  }
  return false;
}

/** Forgets the pool slot of a working folder that is kept where it is (--keep-workdir). */
export function releaseSlot(checkout: CheckoutResult): void {
  rmSync(checkout.slotDir, { recursive: true, force: true });
}

function prune(pool: string): void {
  let names: string[];
  try {
    names = readdirSync(pool).filter((n) => !n.startsWith("."));
  } catch {
    return;
  }
  const stamp = (n: string) => n.split(".")[1] ?? "";
  names.sort((a, b) => stamp(b).localeCompare(stamp(a)));
  for (const name of names.slice(POOL_SIZE)) {
    const trash = join(pool, `.trash.${name}`);
    try {
      renameSync(join(pool, name), trash); // taken first, so no run can claim it while it is deleted
    } catch {
      continue;
    }
    rmSync(trash, { recursive: true, force: true });
  }
  // leftovers of interrupted deletions, and folders claimed by runs that died before using them (a
  // claim is renamed away within the run's first moments; an hour is far beyond that)
  try {
    for (const name of readdirSync(pool)) {
      const path = join(pool, name);
      if (name.startsWith(".trash.") || (name.startsWith(".claimed.") && lstatSync(path).ctimeMs < Date.now() - 3_600_000)) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    /* another run is deleting them */
  }
}
