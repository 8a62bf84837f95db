// The capture index: what each source file looked like (size, mtime, ctime, inode) when it was last
// hashed, so a capture does not read unchanged files again.
//
// An append-only log of JSON lines, so a capture writes only what changed, never the whole index:
//
//   {"root":"/abs/source","version":2}                                             header
//   {"c":…,"h":"<sha256>","i":<ino>,"m":<mtimeMs>,"p":"src/a.py","s":<size>,"t":<hashedAt>}   an entry (latest wins)
//   {"d":1,"p":"src/old.py"}                                                        a file gone from the source
//   {"last":{"digest":"<sha256>","hash":"<bundle>","root":"<node>"}}                  the bundle the last capture made
//
// Loading reads every line; a torn last line (a crash while appending) is skipped. When stale lines
// outnumber the live entries by more than COMPACT_SLACK, the next capture writes the file afresh
// (temp file + rename): amortised, that is a few bytes per change. A version 1 index (one JSON
// document, rewritten whole by every capture) is read once and replaced by a log.
import { readFileSync } from "node:fs";
import { appendFile, mkdir, rename, writeFile } from "node:fs/promises";
import type { Stats } from "node:fs";
import { dirname } from "node:path";
import { HEX64, RACY_MS, comparePaths } from "./paths.js";

export interface IndexEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
  /** Date.now() just before the content was read */
  hashedAt: number;
}

/** The bundle the last capture made (format 2): the digest of its file list (tree.ts listDigest), its hash and root node. */
export interface LastBundle {
  digest: string;
  hash: string;
  root: string;
}

export interface LoadedIndex {
  entries: Map<string, IndexEntry>;
  last?: LastBundle;
  /** lines in the log after the header (live and stale) */
  lines: number;
  /** the file must be written afresh: missing, another root, version 1, or unreadable header */
  rewrite: boolean;
  /** the file does not end with a newline (a torn append): the next append starts a new line */
  torn: boolean;
}

/** Stale lines tolerated beyond the live entries before the log is compacted. */
export const COMPACT_SLACK = 1000;

function validEntry(e: unknown): e is IndexEntry {
  const x = e as IndexEntry | null;
  return (
    !!x && typeof x.size === "number" && typeof x.mtimeMs === "number" && typeof x.ctimeMs === "number" &&
    typeof x.ino === "number" && typeof x.hashedAt === "number" && typeof x.sha256 === "string" && HEX64.test(x.sha256)
  );
}

export async function loadIndex(file: string, root: string): Promise<LoadedIndex> {
  const empty: LoadedIndex = { entries: new Map(), lines: 0, rewrite: true, torn: false };
  let text: string;
  try {
    // read at once (a few hundred KB): no thread-pool round trips, as for the walk before it
    text = readFileSync(file, "utf8");
  } catch {
    return empty; // missing or unreadable: hash everything
  }
  const nl = text.indexOf("\n");
  let header: { version?: unknown; root?: unknown; entries?: unknown } | undefined;
  try {
    header = JSON.parse(nl < 0 ? text : text.slice(0, nl));
  } catch {
    return empty;
  }
  if (header?.version === 1 && header.root === root && header.entries && typeof header.entries === "object") {
    // version 1: one document; read it, then write a log in its place
    const entries = new Map<string, IndexEntry>();
    for (const [p, e] of Object.entries(header.entries)) if (validEntry(e)) entries.set(p, e);
    return { entries, lines: 0, rewrite: true, torn: false };
  }
  if (header?.version !== 2 || header.root !== root || nl < 0) return empty;
  const entries = new Map<string, IndexEntry>();
  let last: LastBundle | undefined;
  let lines = 0;
  type Line = { p?: unknown; d?: unknown; s?: unknown; m?: unknown; c?: unknown; i?: unknown; h?: unknown; t?: unknown };
  // Every capture loads the whole log: parsed as one JSON array (one call into the parser instead of
  // one per line), and line by line only when that fails (a torn or damaged line, an empty one)
  const body = text.endsWith("\n") ? text.slice(nl + 1, -1) : text.slice(nl + 1);
  let parsed: Line[] | undefined;
  if (body !== "" && !body.includes("\n\n")) {
    try {
      parsed = JSON.parse(`[${body.replaceAll("\n", ",")}]`) as Line[];
      // one value per line, or the lines are read one by one (e.g. "1,2" is two values, no line)
      let count = 1;
      for (let i = body.indexOf("\n"); i >= 0; i = body.indexOf("\n", i + 1)) count += 1;
      if (parsed.length !== count) parsed = undefined;
    } catch {
      parsed = undefined;
    }
  }
  let at = nl + 1;
  for (let k = 0; parsed ? k < parsed.length : at < text.length; k++) {
    let x: Line;
    if (parsed) {
      x = parsed[k]!;
    } else {
      let end = text.indexOf("\n", at);
      if (end < 0) end = text.length;
      const line = text.slice(at, end);
      at = end + 1;
      if (line === "") continue;
      try {
        x = JSON.parse(line);
      } catch {
        lines += 1;
        continue; // torn or damaged line: that file is hashed again
      }
    }
    lines += 1;
    const l = (x as { last?: Partial<LastBundle> } | null)?.last;
    if (l && typeof l.digest === "string" && HEX64.test(l.digest) && typeof l.hash === "string" && HEX64.test(l.hash) && typeof l.root === "string" && HEX64.test(l.root)) {
      last = { digest: l.digest, hash: l.hash, root: l.root };
      continue;
    }
    if (!x || typeof x.p !== "string") continue;
    if (x.d === 1) {
      entries.delete(x.p);
      continue;
    }
    const e = { size: x.s, mtimeMs: x.m, ctimeMs: x.c, ino: x.i, sha256: x.h, hashedAt: x.t };
    if (validEntry(e)) entries.set(x.p, e);
  }
  return { entries, last, lines, rewrite: false, torn: !text.endsWith("\n") };
}

function entryLine(path: string, e: IndexEntry): string {
  return JSON.stringify({ c: e.ctimeMs, h: e.sha256, i: e.ino, m: e.mtimeMs, p: path, s: e.size, t: e.hashedAt });
}

function sameEntry(a: IndexEntry | undefined, b: IndexEntry): boolean {
  return a === b || (!!a && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.sha256 === b.sha256 && a.hashedAt === b.hashedAt);
}

/**
 * Records `next` (every file of this capture): appends the entries that differ from `loaded` and a
 * removal line for each path that is gone, or writes the file afresh when it must be (see above).
 * Returns the bytes written.
 */
export async function saveIndex(file: string, root: string, loaded: LoadedIndex, next: Map<string, IndexEntry>, last?: LastBundle): Promise<number> {
  const changed: string[] = [];
  for (const [p, e] of next) if (!sameEntry(loaded.entries.get(p), e)) changed.push(entryLine(p, e));
  for (const p of loaded.entries.keys()) if (!next.has(p)) changed.push(JSON.stringify({ d: 1, p }));
  const lastLine = last ? JSON.stringify({ last: { digest: last.digest, hash: last.hash, root: last.root } }) : undefined;
  if (lastLine && (loaded.last?.digest !== last!.digest || loaded.last.hash !== last!.hash || loaded.last.root !== last!.root)) changed.push(lastLine);
  if (!loaded.rewrite && loaded.lines + changed.length <= next.size + COMPACT_SLACK) {
    if (changed.length === 0) return 0;
    const text = (loaded.torn ? "\n" : "") + changed.join("\n") + "\n";
    await appendFile(file, text); // one write, O_APPEND
    return Buffer.byteLength(text);
  }
  const lines = [JSON.stringify({ root, version: 2 })];
  for (const [p, e] of [...next].sort(([a], [b]) => comparePaths(a, b))) lines.push(entryLine(p, e));
  const keep = lastLine ?? (loaded.last ? JSON.stringify({ last: loaded.last }) : undefined);
  if (keep) lines.push(keep);
  const text = lines.join("\n") + "\n";
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
  return Buffer.byteLength(text);
}

/** The index entry still describes the file: same identity and stamps, and not modified around hashing time. */
export function indexHit(e: IndexEntry | undefined, st: Pick<Stats, "size" | "mtimeMs" | "ctimeMs" | "ino">): e is IndexEntry {
  return (
    e !== undefined && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs && e.ino === st.ino &&
    Math.max(st.mtimeMs, st.ctimeMs) + RACY_MS <= e.hashedAt
  );
}
