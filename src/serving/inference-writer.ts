// The inference table's writer: a worker thread (node:worker_threads) that owns the server's one
// connection to SLIPWAY_HOME/inference.db, so inserting rows, the transactions, and the queries that
// take rows out for retention never run on the thread that answers requests. inference-log.ts starts
// it and feeds it batches; this file is the worker's entry point and its message protocol.
//
// A batch comes as two arrays instead of row objects (structured cloning a row object costs about as
// much as inserting it): per row four strings (request id, client request id, request, response) and
// seven numbers (source, time, status, four timings). The columns that repeat for every row of one
// served version (project, target, endpoint, config version, model, version) are a "source", sent
// once. Rows are written in one transaction per group of batches that arrived together; a failed
// write keeps them and tries again every 500 ms, and the main thread counts them as queued (its bound
// then drops new rows rather than grow without limit).
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { COLUMNS, deleteThrough, exportRows, oldestKept, openInferenceDb, type EndpointKey, type Expiry, type RowsArchive } from "./inference-db.js";

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
  | { t: "export"; id: number; where: EndpointKey; expiry: Expiry; maxRows: number; maxBytes: number }
  | { t: "delete"; id: number; where: EndpointKey; through: number }
  | { t: "close" };

export type FromWriter =
  | { t: "ready" }
  | { t: "written"; batches: number[] }
  | { t: "failed"; message: string; rows: number }
  | { t: "reply"; id: number; value?: RowsArchive | number | null; error?: string }
  | { t: "closed"; unwritten: number };

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

function run(file: string, post: (m: FromWriter) => void, onMessage: (handler: (m: ToWriter) => void) => void, exit: () => void): void {
  const db = openInferenceDb(file);
  const insert = db.prepare(`insert into inference (${COLUMNS.join(", ")}) values (${COLUMNS.map(() => "?").join(", ")})`);
  const sources = new Map<number, Source>();
  const iso = isoFormatter();
  const pending: Batch[] = [];
  let scheduled = false;
  let retry: NodeJS.Timeout | undefined;

  const insertAll = db.transaction((batches: Batch[]) => {
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

  /** Writes what is pending; false (and a retry scheduled) when the write failed. */
  const write = (): boolean => {
    scheduled = false;
    if (pending.length === 0) return true;
    try {
      insertAll(pending);
    } catch (e) {
      post({ t: "failed", message: (e as Error).message, rows: pending.reduce((n, b) => n + b.count, 0) });
      retry ??= setTimeout(() => ((retry = undefined), write()), RETRY_MS);
      return false;
    }
    const batches = pending.map((b) => b.batch);
    pending.length = 0;
    post({ t: "written", batches });
    return true;
  };

  const reply = (id: number, f: () => RowsArchive | number | null | undefined) => {
    try {
      post({ t: "reply", id, value: f() ?? null });
    } catch (e) {
      post({ t: "reply", id, error: (e as Error).message });
    }
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
        return reply(m.id, () => {
          if (!write()) throw new Error("the inference table could not be written (see the server log); its rows are kept and retried");
          return null;
        });
      case "oldest-kept":
        return reply(m.id, () => oldestKept(db, m.where, m.keepRows) ?? null);
      case "export":
        return reply(m.id, () => exportRows(db, m.where, m.expiry, { maxRows: m.maxRows, maxBytes: m.maxBytes }));
      case "delete":
        return reply(m.id, () => deleteThrough(db, m.where, m.through));
      case "close": {
        clearTimeout(retry);
        retry = undefined;
        write();
        const unwritten = pending.reduce((n, b) => n + b.count, 0);
        db.close();
        post({ t: "closed", unwritten });
        exit();
        return;
      }
    }
  });
  post({ t: "ready" });
}

if (!isMainThread && parentPort && (workerData as { inferenceDb?: string } | undefined)?.inferenceDb) {
  const port = parentPort;
  run(
    (workerData as { inferenceDb: string }).inferenceDb,
    (m) => port.postMessage(m),
    (handler) => port.on("message", handler),
    () => port.close(),
  );
}
