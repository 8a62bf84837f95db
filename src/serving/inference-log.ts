// Inference tables: every answered request (sampled per endpoint) with ids, timings and bodies, in a
// SQLite file of its own (SLIPWAY_HOME/inference.db) so that logging at full load never waits on the
// deployment state. Rows are queued in memory and written in one transaction every few milliseconds;
// nothing is dropped (the queue is flushed on shutdown and before an endpoint is archived).
import Database from "better-sqlite3";
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

const COLUMNS: Array<keyof InferenceRow> = ["request_id", "client_request_id", "project", "target", "endpoint", "timestamp", "config_version", "model", "model_version", "status", "latency_ms", "gateway_ms", "queue_ms", "model_ms", "request", "response"];

function open(file: string): Database.Database {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 10000");
  db.exec(`create table if not exists inference (
    seq integer primary key autoincrement,
    request_id text not null, client_request_id text, project text not null, target text not null, endpoint text not null,
    timestamp text not null, config_version integer not null, model text not null, model_version integer not null,
    status integer not null, latency_ms real not null, gateway_ms real not null, queue_ms real not null, model_ms real not null,
    request text, response text)`);
  db.exec("create index if not exists inference_by_endpoint on inference (project, target, endpoint, seq)");
  return db;
}

export class InferenceLog {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private queue: InferenceRow[] = [];
  private timer?: NodeJS.Timeout;
  written = 0;

  constructor(file: string, private readonly flushEveryMs = 20) {
    this.db = open(file);
    this.insert = this.db.prepare(`insert into inference (${COLUMNS.join(", ")}) values (${COLUMNS.map((c) => "@" + c).join(", ")})`);
  }

  record(row: InferenceRow): void {
    this.queue.push(row);
    if (this.queue.length >= 2000) this.flush();
    else this.timer ??= setTimeout(() => this.flushLater(), this.flushEveryMs);
  }

  /** From the timer: a failed write (database busy, disk full) keeps the rows queued for the next try. */
  private flushLater(): void {
    const rows = this.queue;
    try {
      this.flush();
    } catch (e) {
      this.queue = [...rows, ...this.queue];
      this.failures++;
      this.timer ??= setTimeout(() => this.flushLater(), 500);
      process.stderr.write(`inference log: write failed (${(e as Error).message}); ${this.queue.length} row(s) kept for retry\n`);
    }
  }

  failures = 0;

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const rows = this.queue;
    this.queue = [];
    this.db.transaction((batch: InferenceRow[]) => {
      for (const r of batch) this.insert.run(r);
    })(rows);
    this.written += rows.length;
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

/** Reading and archiving, from any process (the server may be writing at the same time). */
export class InferenceTable {
  private readonly db: Database.Database;
  constructor(file: string) {
    this.db = open(file);
  }

  read(where: { project: string; target: string; endpoint: string }, limit = 100): InferenceRow[] {
    return (
      this.db
        .prepare(`select ${COLUMNS.join(", ")} from inference where project = ? and target = ? and endpoint = ? order by seq desc limit ?`)
        .all(where.project, where.target, where.endpoint, limit) as InferenceRow[]
    ).reverse();
  }

  count(where: { project: string; target: string; endpoint: string }): number {
    return (this.db.prepare("select count(*) n from inference where project = ? and target = ? and endpoint = ?").get(where.project, where.target, where.endpoint) as { n: number }).n;
  }

  /** All rows of an endpoint as gzipped JSON lines, and the last row's sequence number. */
  export(where: { project: string; target: string; endpoint: string }): { archive: Buffer; rows: number; through: number } {
    const rows = this.db
      .prepare(`select seq, ${COLUMNS.join(", ")} from inference where project = ? and target = ? and endpoint = ? order by seq`)
      .all(where.project, where.target, where.endpoint) as Array<InferenceRow & { seq: number }>;
    const through = rows.length ? rows[rows.length - 1]!.seq : 0;
    const lines = rows.map(({ seq: _seq, ...r }) => JSON.stringify(r));
    return { archive: gzipSync(lines.join("\n") + (lines.length ? "\n" : "")), rows: rows.length, through };
  }

  /** Deletes an endpoint's rows up to `through` (the ones an archive now holds). */
  deleteThrough(where: { project: string; target: string; endpoint: string }, through: number): void {
    this.db.prepare("delete from inference where project = ? and target = ? and endpoint = ? and seq <= ?").run(where.project, where.target, where.endpoint, through);
  }

  close(): void {
    this.db.close();
  }
}
