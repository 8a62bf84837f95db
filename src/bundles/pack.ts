// The transport archive (.tar.gz) that carries a bundle to a remote executor, and its safe unpacking.
import { readFile } from "node:fs/promises";
import type { Stats } from "node:fs";
import * as zlibModule from "node:zlib";
import { constants as zlibConstants, deflateRaw, deflateRawSync } from "node:zlib";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import type { ReadEntry } from "tar";

let tarModule: typeof import("tar") | undefined;
/** tar is required on first use, not imported: a run packs or unpacks an archive only on request (start-up, bench/startup). */
function tar(): typeof import("tar") {
  return (tarModule ??= createRequire(import.meta.url)("tar") as typeof import("tar"));
}
import { SlipwayError } from "../errors.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import type { BundleFile } from "./manifest.js";
import { comparePaths, modeOf } from "./paths.js";
import { loadManifest, prepareWorkDir, readVerifiedBlob } from "./materialize.js";

export const ARCHIVE_MTIME = new Date(0);

export function tarEntryHeader(f: BundleFile): Buffer {
  const fields = { path: f.path, mode: f.mode, uid: 0, gid: 0, size: f.size, mtime: ARCHIVE_MTIME, type: "File" as const, uname: "", gname: "" };
  const header = new (tar().Header)(fields);
  const block = Buffer.alloc(512);
  const needPax = header.encode(block, 0);
  if (!needPax) return block;
  const pax = new (tar().Pax)({ path: f.path, size: f.size, mtime: ARCHIVE_MTIME }).encode();
  return Buffer.concat([pax, block]);
}

/** Whether deflate is worth its time on this content: random-looking data (weights, archives) is stored instead. */
export function compressible(data: Buffer): boolean {
  if (data.length < 16 * 1024) return true;
  const sample = data.subarray(0, 64 * 1024);
  return deflateRawSync(sample, { level: 1 }).length < sample.length * 0.9;
}

export const deflateRawAsync = promisify(deflateRaw);
export const SEGMENT_BYTES = 4 * 1024 * 1024;
export const PACK_PARALLELISM = 4;

/** CRC-32 as gzip wants it; zlib.crc32 exists from Node 20.15, a table fallback below that. */
let crcTable: Uint32Array | undefined;
export function crc32(data: Uint8Array, value = 0): number {
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

export interface ArchiveEntry {
  raw: string;
  type: string;
  linkpath?: string;
}

export const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);
export const LINK_TYPES = new Set(["SymbolicLink", "Link"]);

export function unsafeEntry(name: string, why: string): SlipwayError {
  return new SlipwayError("archive_unsafe_entry", `archive entry ${JSON.stringify(name)} ${why}; nothing was extracted`);
}

/** Splits an archive entry path into clean segments ("./a//b/" -> [a, b]); throws when it could leave the root. */
export function archiveSegments(name: string): string[] {
  if (name.includes("\0")) throw unsafeEntry(name, "contains NUL");
  if (name.includes("\\")) throw unsafeEntry(name, "contains a backslash");
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw unsafeEntry(name, "is an absolute path");
  const parts = name.split("/").filter((s) => s !== "" && s !== ".");
  if (parts.includes("..")) throw unsafeEntry(name, "contains a .. segment");
  return parts;
}

export function listArchive(data: Buffer): Promise<ArchiveEntry[]> {
  return new Promise((resolveList, reject) => {
    const entries: ArchiveEntry[] = [];
    const parser = new (tar().Parser)({
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
export function checkArchive(entries: ArchiveEntry[]): Map<string, { path: string; type: string }> {
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
    const unpack = new (tar().Unpack)({
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
