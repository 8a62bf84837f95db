// The inference table in PostgreSQL, for a home whose state is there (SLIPWAY_HOME/config.yaml
// `state: { type: postgres }`): every server on the database writes the rows it answered to one table
// (made by the state migration 0011_inference_postgres), so any of them reads them all. The queries of
// the writer thread (inference-writer.ts: batched inserts, retention's take) and of readers
// (inference-table.ts). Like inference-db.ts, free of imports beyond pg and node: the writer thread
// loads it on its own; pg is required only when a home uses PostgreSQL.
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import type { Pool } from "pg";
import { COLUMNS, type EndpointKey, type Expiry, type InferenceRow, type RowsArchive } from "./inference-db.js";

/** A pool on the home's state database (pg loaded here, on first use). */
export function openInferencePool(url: string, max: number): Pool {
  const { Pool: PgPool, types } = createRequire(import.meta.url)("pg") as typeof import("pg");
  // seq (bigint) comes back as a number, as SQLite's; it stays far below 2^53.
  types.setTypeParser(20, (v: string) => Number(v));
  const pool = new PgPool({ connectionString: url, max });
  // An idle connection the server closed is replaced on next use; unheard, pg would end the process.
  pool.on("error", () => {});
  return pool;
}

/** "timestamp" is a keyword of PostgreSQL's: every column name is quoted. */
const SELECTED = COLUMNS.map((c) => `"${c}"`).join(", ");

/** The element type of each column's array, in COLUMNS order. */
const TYPES: Record<keyof InferenceRow, string> = {
  request_id: "text",
  client_request_id: "text",
  project: "text",
  target: "text",
  endpoint: "text",
  timestamp: "text",
  config_version: "integer",
  model: "text",
  model_version: "integer",
  status: "integer",
  latency_ms: "float8",
  gateway_ms: "float8",
  queue_ms: "float8",
  model_ms: "float8",
  request: "text",
  response: "text",
};

/**
 * One statement for any number of rows: each column is one array parameter, unnested into rows (16
 * parameters whatever the count, where a multi-row VALUES needs 16 per row, up to PostgreSQL's 65,535).
 */
const INSERT = `insert into inference (${SELECTED}) select * from unnest(${COLUMNS.map((c, i) => `$${i + 1}::${TYPES[c]}[]`).join(", ")})`;

/** Rows per statement: bounds one statement's parameters (a long outage can queue 100,000 rows). */
const ROWS_PER_STATEMENT = 4096;

/** Rows as one array per column (COLUMNS order), all of the same length. */
export type ColumnArrays = unknown[][];

/** Inserts the rows in one transaction (one statement per 4,096 rows). */
export async function insertColumns(pool: Pool, columns: ColumnArrays): Promise<void> {
  const count = columns[0]?.length ?? 0;
  if (count === 0) return;
  if (count <= ROWS_PER_STATEMENT) {
    await pool.query(INSERT, columns);
    return;
  }
  const client = await pool.connect();
  try {
    await client.query("begin");
    for (let i = 0; i < count; i += ROWS_PER_STATEMENT) await client.query(INSERT, columns.map((c) => c.slice(i, i + ROWS_PER_STATEMENT)));
    await client.query("commit");
  } catch (e) {
    await client.query("rollback").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** PostgreSQL's text holds no NUL character (SQLite's does): a body with one would fail its whole batch, every retry. */
export function pgText(s: string | null): string | null {
  return s !== null && s.includes("\0") ? s.replaceAll("\0", "\uFFFD") : s;
}

const BY_ENDPOINT = "project = $1 and target = $2 and endpoint = $3";
const key = (w: EndpointKey) => [w.project, w.target, w.endpoint];

/** See inference-db.ts oldestKept. */
export async function oldestKept(pool: Pool, where: EndpointKey, keepRows: number): Promise<number | undefined> {
  const r = await pool.query<{ seq: number }>(`select seq from inference where ${BY_ENDPOINT} order by seq desc limit 1 offset $4`, [...key(where), keepRows - 1]);
  return r.rows[0]?.seq;
}

/** Rows taken out of the table and still locked: `commit` deletes exactly them, `abort` leaves them. */
export interface Taken {
  batch: RowsArchive;
  /** Deletes the taken rows (once their archive holds them); how many went. */
  commit(): Promise<number>;
  abort(): Promise<void>;
}

const PAGE = 500;

/**
 * The endpoint's oldest rows that `expiry` lets go (all of them when it is empty), as inference-db.ts
 * exportRows takes them (sequence order, stopping at the first row young enough, at most `maxRows` or
 * about `maxBytes`), in a transaction that locks them: `FOR UPDATE SKIP LOCKED`, so a second server's
 * pass at the same moment takes the rows after them, never the same ones, and each row is archived
 * once. Read a page at a time, so a pass costs the rows it takes. Undefined (nothing held) when none is due.
 */
export async function takeRows(pool: Pool, where: EndpointKey, expiry: Expiry, limits: { maxRows: number; maxBytes: number }): Promise<Taken | undefined> {
  const client = await pool.connect();
  let done = false;
  const finish = async (sql: string) => {
    if (done) return;
    done = true;
    try {
      await client.query(sql);
    } finally {
      client.release();
    }
  };
  try {
    await client.query("begin");
    const everything = expiry.before === undefined && expiry.through === undefined;
    const through = expiry.through ?? 0;
    const lines: string[] = [];
    const seqs: number[] = [];
    let bytes = 0;
    let from = "";
    let to = "";
    let after = 0;
    let stop = false;
    while (!stop) {
      const want = limits.maxRows < 0 ? PAGE : Math.min(PAGE, limits.maxRows - seqs.length);
      if (want <= 0) break;
      const page = await client.query<InferenceRow & { seq: number }>(`select seq, ${SELECTED} from inference where ${BY_ENDPOINT} and seq > $4 order by seq limit $5 for update skip locked`, [...key(where), after, want]);
      for (const row of page.rows) {
        if (!everything && !(row.seq <= through) && !(expiry.before !== undefined && row.timestamp < expiry.before)) {
          stop = true;
          break;
        }
        const { seq, ...fields } = row;
        const line = JSON.stringify(fields);
        if (lines.length === 0) from = row.timestamp;
        lines.push(line);
        seqs.push(seq);
        to = row.timestamp;
        bytes += line.length + 1;
        if (bytes >= limits.maxBytes) {
          stop = true;
          break;
        }
      }
      if (page.rows.length < want) break;
      after = page.rows[page.rows.length - 1]!.seq;
    }
    if (lines.length === 0) {
      await finish("rollback");
      return undefined;
    }
    const batch: RowsArchive = { archive: gzipSync(lines.join("\n") + "\n"), rows: lines.length, first: seqs[0]!, through: seqs[seqs.length - 1]!, from, to };
    return {
      batch,
      async commit() {
        // Exactly the rows taken: a row another server wrote meanwhile with a smaller seq (its
        // transaction began earlier) was not archived, and stays.
        const r = await client.query(`delete from inference where seq = any($1::bigint[])`, [seqs]).catch(async (e: Error) => {
          await finish("rollback").catch(() => {});
          throw e;
        });
        await finish("commit");
        return r.rowCount ?? 0;
      },
      abort: () => finish("rollback").catch(() => {}),
    };
  } catch (e) {
    await finish("rollback").catch(() => {});
    throw e;
  }
}

/** Readers' queries (inference-table.ts), one statement each. */
export async function readRows(pool: Pool, where: EndpointKey, limit: number): Promise<InferenceRow[]> {
  return (await pool.query<InferenceRow>(`select ${SELECTED} from inference where ${BY_ENDPOINT} order by seq desc limit $4`, [...key(where), limit])).rows.reverse();
}

export async function lastSeq(pool: Pool, where: EndpointKey): Promise<number> {
  return Number((await pool.query<{ n: number }>(`select coalesce(max(seq), 0) n from inference where ${BY_ENDPOINT}`, key(where))).rows[0]!.n);
}

export async function answersSince(pool: Pool, where: EndpointKey, after: number, model: string, version: number): Promise<Array<{ status: number; latency_ms: number }>> {
  return (await pool.query<{ status: number; latency_ms: number }>(`select status, latency_ms from inference where ${BY_ENDPOINT} and seq > $4 and model = $5 and model_version = $6 order by seq`, [...key(where), after, model, version])).rows;
}

export async function countRows(pool: Pool, where: EndpointKey): Promise<number> {
  return Number((await pool.query<{ n: number }>(`select count(*) n from inference where ${BY_ENDPOINT}`, key(where))).rows[0]!.n);
}
