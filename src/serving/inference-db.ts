// The inference table's SQLite file (SLIPWAY_HOME/inference.db): its schema, how it is opened, and
// the queries that take rows out of it (archiving on delete and by retention). Shared by the
// server's writer thread (inference-writer.ts, the one connection that inserts) and readers in any
// process (inference-table.ts); keep it free of imports beyond better-sqlite3 and node: the writer
// thread loads it on its own.
import type Database from "better-sqlite3";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";

export interface InferenceRow {
  request_id: string;
  client_request_id: string | null;
  project: string;
  target: string;
  endpoint: string;
  timestamp: string;
  config_version: number;
  model: string;
  model_version: number;
  status: number;
  latency_ms: number;
  gateway_ms: number;
  queue_ms: number;
  model_ms: number;
  request: string | null;
  response: string | null;
}

export const COLUMNS: Array<keyof InferenceRow> = ["request_id", "client_request_id", "project", "target", "endpoint", "timestamp", "config_version", "model", "model_version", "status", "latency_ms", "gateway_ms", "queue_ms", "model_ms", "request", "response"];

/** One endpoint's rows. */
export interface EndpointKey {
  project: string;
  target: string;
  endpoint: string;
}

export function openInferenceDb(file: string): Database.Database {
  // Required here, not imported: modules that reach this one (the gateway's control) are loaded by
  // commands that never open the inference table.
  const Sqlite = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
  const db = new Sqlite(file);
  // The busy timeout first: switching a new file to WAL needs a lock another opener may hold.
  db.pragma("busy_timeout = 10000");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`create table if not exists inference (
    seq integer primary key autoincrement,
    request_id text not null, client_request_id text, project text not null, target text not null, endpoint text not null,
    timestamp text not null, config_version integer not null, model text not null, model_version integer not null,
    status integer not null, latency_ms real not null, gateway_ms real not null, queue_ms real not null, model_ms real not null,
    request text, response text)`);
  db.exec("create index if not exists inference_by_endpoint on inference (project, target, endpoint, seq)");
  return db;
}

/** Which of an endpoint's oldest rows are due to leave: those older than `before`, those up to sequence number `through`, or (neither given) all. */
export interface Expiry {
  /** An ISO timestamp: rows stamped earlier go. */
  before?: string;
  /** Rows up to this sequence number go (the ones beyond the newest `keep_rows`: see `oldestKept`). */
  through?: number;
}

/**
 * The sequence number of the oldest of the endpoint's newest `keepRows` rows, or undefined when it
 * has no more rows than that. Walks `keepRows` index entries: asked once per retention pass.
 */
export function oldestKept(db: Database.Database, where: EndpointKey, keepRows: number): number | undefined {
  const row = db.prepare("select seq from inference where project = ? and target = ? and endpoint = ? order by seq desc limit 1 offset ?").get(where.project, where.target, where.endpoint, keepRows - 1) as { seq: number } | undefined;
  return row?.seq;
}

/** A batch of rows taken out of the table: gzipped JSON lines (one row each, without `seq`), in sequence order. */
export interface RowsArchive {
  archive: Buffer;
  rows: number;
  /** The first and last row's sequence number: `deleteThrough(through)` removes exactly these rows (and earlier ones). */
  first: number;
  through: number;
  /** The first and last row's timestamp. */
  from: string;
  to: string;
}

/**
 * The endpoint's oldest rows that `expiry` lets go (every row when it is empty), at most `maxRows` rows
 * (-1: no bound) or about `maxBytes` of JSON; undefined when none is due. Rows are taken in sequence
 * order, and the age rule stops at the first row young enough, so a pass costs the rows it takes, not
 * the table (rows are written in the order they were answered). With both rules, a row goes when
 * either lets it go.
 */
export function exportRows(db: Database.Database, where: EndpointKey, expiry: Expiry, limits: { maxRows: number; maxBytes: number }): RowsArchive | undefined {
  const args = [where.project, where.target, where.endpoint];
  const everything = expiry.before === undefined && expiry.through === undefined;
  const through = expiry.through ?? 0;
  const select = db.prepare(`select seq, ${COLUMNS.join(", ")} from inference where project = ? and target = ? and endpoint = ? order by seq limit ?`);
  const lines: string[] = [];
  let bytes = 0;
  let first = 0;
  let last = 0;
  let from = "";
  let to = "";
  for (const row of select.iterate(...args, limits.maxRows) as IterableIterator<InferenceRow & { seq: number }>) {
    if (!everything && !(row.seq <= through) && !(expiry.before !== undefined && row.timestamp < expiry.before)) break;
    const { seq, ...fields } = row;
    const line = JSON.stringify(fields);
    if (lines.length === 0) (first = seq), (from = row.timestamp);
    lines.push(line);
    last = seq;
    to = row.timestamp;
    bytes += line.length + 1;
    if (bytes >= limits.maxBytes) break;
  }
  if (lines.length === 0) return undefined;
  return { archive: gzipSync(lines.join("\n") + "\n"), rows: lines.length, first, through: last, from, to };
}

/** Deletes an endpoint's rows up to sequence number `through` (the ones an archive now holds). */
export function deleteThrough(db: Database.Database, where: EndpointKey, through: number): number {
  return db.prepare("delete from inference where project = ? and target = ? and endpoint = ? and seq <= ?").run(where.project, where.target, where.endpoint, through).changes;
}
