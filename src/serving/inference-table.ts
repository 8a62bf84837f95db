// Reading the inference table and archiving an endpoint's rows, from any process (the CLI's
// `endpoints logs`, an endpoint's delete), while the server may be writing: SQLite in WAL mode lets
// readers run beside the server's writer thread (inference-log.ts); in PostgreSQL (inference-pg.ts)
// readers see what every server on the database wrote.
import type Database from "better-sqlite3";
import { COLUMNS, deleteThrough, exportRows, openInferenceDb, type EndpointKey, type InferenceRow } from "./inference-db.js";
import { answersSince, countRows, lastSeq, openInferencePool, readRows, takeRows } from "./inference-pg.js";
import type { InferencePlace } from "./inference-writer.js";

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

/**
 * The inference table as every reader outside the server uses it (`endpoints logs`, a rollout's
 * health, an endpoint's delete), whichever database holds it (inference-place.ts).
 */
export interface InferenceReader {
  /** The endpoint's newest `limit` rows, oldest first. */
  read(where: EndpointKey, limit?: number): Promise<InferenceRow[]>;
  /** The endpoint's newest row's sequence number (0: none): rows written later have a larger one. */
  lastSeq(where: EndpointKey): Promise<number>;
  answersSince(where: EndpointKey, after: number, model: string, version: number): Promise<Array<{ status: number; latency_ms: number }>>;
  count(where: EndpointKey): Promise<number>;
  /**
   * Takes all of an endpoint's rows as gzipped JSON lines and hands them to `keep` (which archives
   * them); once it resolves they are deleted, when it throws they stay. Returns how many (0: none, and
   * `keep` was not called).
   */
  takeAll(where: EndpointKey, keep: (archive: Buffer) => Promise<void>): Promise<number>;
  close(): Promise<void>;
}

export async function openInferenceReader(place: InferencePlace): Promise<InferenceReader> {
  if (place.type === "sqlite") {
    const table = new InferenceTable(place.file);
    return {
      read: async (where, limit) => table.read(where, limit),
      lastSeq: async (where) => table.lastSeq(where),
      answersSince: async (...args) => table.answersSince(...args),
      count: async (where) => table.count(where),
      async takeAll(where, keep) {
        const { archive, rows, through } = table.export(where);
        if (rows === 0) return 0;
        await keep(archive);
        table.deleteThrough(where, through);
        return rows;
      },
      close: async () => table.close(),
    };
  }
  const pool = openInferencePool(place.url, 1);
  return {
    read: (where, limit = 100) => readRows(pool, where, limit),
    lastSeq: (where) => lastSeq(pool, where),
    answersSince: (...args) => answersSince(pool, ...args),
    count: (where) => countRows(pool, where),
    async takeAll(where, keep) {
      // Rows a server's retention pass holds at this moment are skipped: that pass archives them.
      const taken = await takeRows(pool, where, {}, { maxRows: -1, maxBytes: Infinity });
      if (!taken) return 0;
      try {
        await keep(taken.batch.archive);
      } catch (e) {
        await taken.abort();
        throw e;
      }
      return taken.commit();
    },
    close: () => pool.end(),
  };
}
