// Reading the inference table and archiving an endpoint's rows, from any process (the CLI's
// `endpoints logs`, an endpoint's delete), while the server may be writing: SQLite in WAL mode lets
// readers run beside the server's writer thread (inference-log.ts).
import type Database from "better-sqlite3";
import { COLUMNS, deleteThrough, exportRows, openInferenceDb, type EndpointKey, type InferenceRow } from "./inference-db.js";

export type { InferenceRow } from "./inference-db.js";

export class InferenceTable {
  private readonly db: Database.Database;
  constructor(file: string) {
    this.db = openInferenceDb(file);
  }

  read(where: EndpointKey, limit = 100): InferenceRow[] {
    return (
      this.db
        .prepare(`select ${COLUMNS.join(", ")} from inference where project = ? and target = ? and endpoint = ? order by seq desc limit ?`)
        .all(where.project, where.target, where.endpoint, limit) as InferenceRow[]
    ).reverse();
  }

  /** The endpoint's newest row's sequence number (0: none): rows written later have a larger one. */
  lastSeq(where: EndpointKey): number {
    return (this.db.prepare("select coalesce(max(seq), 0) n from inference where project = ? and target = ? and endpoint = ?").get(where.project, where.target, where.endpoint) as { n: number }).n;
  }

  /** Status and latency of what one served version answered after sequence number `after` (a rollout step's requests). */
  answersSince(where: EndpointKey, after: number, model: string, version: number): Array<{ status: number; latency_ms: number }> {
    return this.db
      .prepare("select status, latency_ms from inference where project = ? and target = ? and endpoint = ? and seq > ? and model = ? and model_version = ? order by seq")
      .all(where.project, where.target, where.endpoint, after, model, version) as Array<{ status: number; latency_ms: number }>;
  }

  count(where: EndpointKey): number {
    return (this.db.prepare("select count(*) n from inference where project = ? and target = ? and endpoint = ?").get(where.project, where.target, where.endpoint) as { n: number }).n;
  }

  /** All rows of an endpoint as gzipped JSON lines, and the last row's sequence number. */
  export(where: EndpointKey): { archive: Buffer; rows: number; through: number } {
    const out = exportRows(this.db, where, {}, { maxRows: -1, maxBytes: Infinity });
    return out ? { archive: out.archive, rows: out.rows, through: out.through } : { archive: Buffer.alloc(0), rows: 0, through: 0 };
  }

  /** Deletes an endpoint's rows up to `through` (the ones an archive now holds). */
  deleteThrough(where: EndpointKey, through: number): void {
    deleteThrough(this.db, where, through);
  }

  close(): void {
    this.db.close();
  }
}
