// The inference table's writer: a worker thread (node:worker_threads) that owns the server's
// connection to its inference table (SLIPWAY_HOME/inference.db, or the home's PostgreSQL database:
// inference-pg.ts), so inserting rows, the transactions, and the queries that take rows out for
// retention never run on the thread that answers requests. inference-log.ts starts it and feeds it
// batches; this file is the worker's entry point and its message protocol.
//
// A batch comes as two arrays instead of row objects (structured cloning a row object costs about as
// much as inserting it): per row four strings (request id, client request id, request, response) and
// seven numbers (source, time, status, four timings). The columns that repeat for every row of one
// served version (project, target, endpoint, config version, model, version) are a "source", sent
// once. Rows are written in one transaction per group of batches that arrived together (with
// PostgreSQL, those that arrived while the previous insert was on its way: one multi-row statement);
// a failed write keeps them and tries again every 500 ms, and the main thread counts them as queued
// (its bound then drops new rows rather than grow without limit).
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { COLUMNS, deleteThrough, exportRows, oldestKept, openInferenceDb, type EndpointKey, type Expiry, type RowsArchive } from "./inference-db.js";
import { insertColumns, oldestKept as pgOldestKept, openInferencePool, pgText, takeRows, type Taken } from "./inference-pg.js";

/** Where the inference table is: SQLite homes keep their own file, PostgreSQL homes share the state database's table. */
export type InferencePlace = { type: "sqlite"; file: string } | { type: "postgres"; url: string };

/** The columns every row of one served version shares. */
export interface Source {
  project: string;
  target: string;
  endpoint: string;
  config_version: number;
  model: string;
  model_version: number;
}

export const STRINGS_PER_ROW = 4;
export const NUMBERS_PER_ROW = 7;

export interface Batch {
  /** Sequence number of the batch (the main thread's), acknowledged once written. */
  batch: number;
  count: number;
  /** request_id, client_request_id, request, response per row. */
  strings: Array<string | null>;
  /** source, time (ms since the epoch), status, latency_ms, gateway_ms, queue_ms, model_ms per row. */
  numbers: Float64Array;
}

export type ToWriter =
  | { t: "source"; id: number; source: Source }
  | ({ t: "rows" } & Batch)
  | { t: "flush"; id: number }
  | { t: "oldest-kept"; id: number; where: EndpointKey; keepRows: number }
  | { t: "take"; id: number; where: EndpointKey; expiry: Expiry; maxRows: number; maxBytes: number }
  | { t: "keep"; id: number; take: number }
  | { t: "drop"; id: number; take: number }
  | { t: "close" };

export type FromWriter =
  | { t: "ready" }
  | { t: "written"; batches: number[] }
  | { t: "failed"; message: string; rows: number }
  | { t: "reply"; id: number; value?: TakenRows | number | null; error?: string }
  | { t: "closed"; unwritten: number };

/** Rows `take` took out, held until `keep` (archived: delete them) or `drop` (leave them). */
export type TakenRows = RowsArchive & { take: number };

const RETRY_MS = 500;

/**
 * `new Date(ms).toISOString()`, about ten times cheaper for rows of the same second (nearly all of a
 * batch): the part up to the seconds is kept, the milliseconds appended (toISOString is ~1 µs, a fifth
 * of an insert).
 */
function isoFormatter(): (ms: number) => string {
  let second = NaN;
  let prefix = "";
  return (time) => {
    const ms = Math.trunc(time); // as Date does
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      const full = new Date(ms).toISOString();
      // Years before 0 or after 9999 have another shape: no caching for them.
      if (full.length !== 24) return full;
      second = s;
      prefix = full.slice(0, 20);
    }
    const milli = ms - s * 1000;
    return `${prefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
  };
}

/** What the writer does with its table: SQLite's calls are synchronous, PostgreSQL's are not. */
interface WriterTable {
  insert(batches: Batch[], sources: Map<number, Source>): void | Promise<void>;
  oldestKept(where: EndpointKey, keepRows: number): number | undefined | Promise<number | undefined>;
  take(where: EndpointKey, expiry: Expiry, limits: { maxRows: number; maxBytes: number }): Taken | undefined | Promise<Taken | undefined>;
  close(): void | Promise<void>;
}

function sqliteTable(file: string): WriterTable {
  const db = openInferenceDb(file);
  const insert = db.prepare(`insert into inference (${COLUMNS.join(", ")}) values (${COLUMNS.map(() => "?").join(", ")})`);
  const iso = isoFormatter();
  const insertAll = db.transaction((batches: Batch[], sources: Map<number, Source>) => {
    for (const { count, strings: s, numbers: n } of batches) {
      for (let i = 0; i < count; i++) {
        const src = sources.get(n[i * NUMBERS_PER_ROW]!)!;
        const o = i * NUMBERS_PER_ROW;
        const k = i * STRINGS_PER_ROW;
        // prettier-ignore
        insert.run(s[k], s[k + 1], src.project, src.target, src.endpoint, iso(n[o + 1]!), src.config_version, src.model, src.model_version, n[o + 2], n[o + 3], n[o + 4], n[o + 5], n[o + 6], s[k + 2], s[k + 3]);
      }
    }
  });
  return {
    insert: insertAll,
    oldestKept: (where, keepRows) => oldestKept(db, where, keepRows),
    take(where, expiry, limits) {
      const batch = exportRows(db, where, expiry, limits);
      // One writer per file: rows up to `through` are exactly the ones taken.
      return batch && { batch, commit: async () => deleteThrough(db, where, batch.through), abort: async () => {} };
    },
    close: () => {
      db.close();
    },
  };
}

async function postgresTable(url: string): Promise<WriterTable> {
  // Inserts, and a retention pass's transaction beside them.
  const pool = openInferencePool(url, 3);
  try {
    // Fails the start (as an unopenable file does) when the database or the table is not there.
    await pool.query("select 1 from inference limit 0");
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  const iso = isoFormatter();
  return {
    async insert(batches, sources) {
      const columns: unknown[][] = COLUMNS.map(() => []);
      const [requestId, clientId, project, target, endpoint, timestamp, configVersion, model, modelVersion, status, latency, gateway, queue, modelMs, request, response] = columns;
      for (const { count, strings: s, numbers: n } of batches) {
        for (let i = 0; i < count; i++) {
          const src = sources.get(n[i * NUMBERS_PER_ROW]!)!;
          const o = i * NUMBERS_PER_ROW;
          const k = i * STRINGS_PER_ROW;
          requestId!.push(pgText(s[k] ?? null));
          clientId!.push(pgText(s[k + 1] ?? null));
          project!.push(src.project);
          target!.push(src.target);
          endpoint!.push(src.endpoint);
          timestamp!.push(iso(n[o + 1]!));
          configVersion!.push(src.config_version);
          model!.push(src.model);
          modelVersion!.push(src.model_version);
          status!.push(n[o + 2]);
          latency!.push(n[o + 3]);
          gateway!.push(n[o + 4]);
          queue!.push(n[o + 5]);
          modelMs!.push(n[o + 6]);
          request!.push(pgText(s[k + 2] ?? null));
          response!.push(pgText(s[k + 3] ?? null));
        }
      }
      await insertColumns(pool, columns);
    },
    oldestKept: (where, keepRows) => pgOldestKept(pool, where, keepRows),
    take: (where, expiry, limits) => takeRows(pool, where, expiry, limits),
    close: () => pool.end(),
  };
}

async function run(place: InferencePlace, post: (m: FromWriter) => void, onMessage: (handler: (m: ToWriter) => void) => void, exit: () => void): Promise<void> {
  const table = place.type === "postgres" ? await postgresTable(place.url) : sqliteTable(place.file);
  const sources = new Map<number, Source>();
  const pending: Batch[] = [];
  const takes = new Map<number, Taken>();
  let scheduled = false;
  let retry: NodeJS.Timeout | undefined;
  /** The last write asked for: writes run one after another. */
  let writing: Promise<boolean> = Promise.resolve(true);

  /** Writes what is pending once the write before is done; false (and a retry scheduled) when it failed. */
  const write = (): Promise<boolean> => (writing = writing.then(writeNow));
  const writeNow = async (): Promise<boolean> => {
    scheduled = false;
    if (pending.length === 0) return true;
    // Batches that arrive during the insert wait for the next one.
    const batches = pending.slice();
    try {
      await table.insert(batches, sources);
    } catch (e) {
      post({ t: "failed", message: (e as Error).message, rows: pending.reduce((n, b) => n + b.count, 0) });
      retry ??= setTimeout(() => ((retry = undefined), void write()), RETRY_MS);
      return false;
    }
    pending.splice(0, batches.length);
    post({ t: "written", batches: batches.map((b) => b.batch) });
    return true;
  };

  const reply = (id: number, f: () => TakenRows | number | null | undefined | Promise<TakenRows | number | null | undefined>) => {
    Promise.resolve()
      .then(f)
      .then(
        (value) => post({ t: "reply", id, value: value ?? null }),
        (e: Error) => post({ t: "reply", id, error: e.message }),
      );
  };
  let nextTake = 1;
  const held = (take: number): Taken => {
    const t = takes.get(take);
    if (!t) throw new Error(`no rows taken as ${take} are held`);
    takes.delete(take);
    return t;
  };

  onMessage((m) => {
    switch (m.t) {
      case "source":
        sources.set(m.id, m.source);
        return;
      case "rows":
        pending.push(m);
        // Batches that arrived together are written in one transaction.
        if (!scheduled && !retry) (scheduled = true), setImmediate(write);
        return;
      case "flush":
        return reply(m.id, async () => {
          if (!(await write())) throw new Error("the inference table could not be written (see the server log); its rows are kept and retried");
          return null;
        });
      case "oldest-kept":
        return reply(m.id, async () => (await table.oldestKept(m.where, m.keepRows)) ?? null);
      case "take":
        return reply(m.id, async () => {
          const taken = await table.take(m.where, m.expiry, { maxRows: m.maxRows, maxBytes: m.maxBytes });
          if (!taken) return null;
          const take = nextTake++;
          takes.set(take, taken);
          return { ...taken.batch, take };
        });
      case "keep":
        return reply(m.id, () => held(m.take).commit());
      case "drop":
        return reply(m.id, async () => {
          await held(m.take).abort();
          return null;
        });
      case "close": {
        clearTimeout(retry);
        retry = undefined;
        void (async () => {
          await write();
          const unwritten = pending.reduce((n, b) => n + b.count, 0);
          for (const t of takes.values()) await t.abort();
          await table.close();
          post({ t: "closed", unwritten });
          exit();
        })();
        return;
      }
    }
  });
  post({ t: "ready" });
}

if (!isMainThread && parentPort && (workerData as { inferencePlace?: InferencePlace } | undefined)?.inferencePlace) {
  const port = parentPort;
  run(
    (workerData as { inferencePlace: InferencePlace }).inferencePlace,
    (m) => port.postMessage(m),
    (handler) => port.on("message", handler),
    () => port.close(),
  ).catch((e: Error) => {
    // Could not open the table: the thread fails with the reason (the main thread's open rejects).
    process.nextTick(() => {
      throw e;
    });
  });
}
