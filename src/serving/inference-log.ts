// Inference tables: every answered request (sampled per endpoint) with ids, timings and bodies, in a
// SQLite file of its own (SLIPWAY_HOME/inference.db), or, when the home's state is in PostgreSQL, in
// that database's `inference` table, shared by every server on it. This is the server's side of it, on
// the thread that answers requests: `record` only appends the row to the current batch (no database, no I/O); the
// batch goes to the writer thread (inference-writer.ts, which owns the connection) every few
// milliseconds. Between the two sits a bounded queue: rows recorded but not yet written. When it is
// full, `record` drops the row and counts it instead of blocking the response or growing without
// limit (`stats().dropped`, shown by `slipway server status`). Stopping writes what is queued.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { EndpointKey, Expiry, RowsArchive } from "./inference-db.js";
import { NUMBERS_PER_ROW, STRINGS_PER_ROW, type Batch, type FromWriter, type InferencePlace, type Source, type TakenRows, type ToWriter } from "./inference-writer.js";

export type { InferenceRow } from "./inference-db.js";
export type { Source as InferenceSource, InferencePlace } from "./inference-writer.js";

/** One answered request, as the gateway hands it over. */
export interface InferenceEntry {
  /** From `source()`: the endpoint, its configuration and the served version that answered. */
  source: number;
  requestId: string;
  clientRequestId: string | null;
  /** When it was answered, in ms since the epoch. */
  time: number;
  status: number;
  latencyMs: number;
  gatewayMs: number;
  queueMs: number;
  modelMs: number;
  request: string | null;
  response: string | null;
}

export interface InferenceLogOptions {
  /** Rows recorded but not yet written, at most (default 100,000); beyond, rows are dropped and counted. */
  maxQueuedRows?: number;
  /** About this many bytes of queued rows at most (their bodies plus 200 per row; default 64 MiB). */
  maxQueuedBytes?: number;
  /** A batch goes to the writer once it holds this many rows (default 512)… */
  batchRows?: number;
  /** …or this many ms after its first row (default 10). */
  batchMs?: number;
  /** Where the log's own trouble is reported (a failed write, rows dropped, a restarted writer). */
  log?(line: string): void;
}

export interface InferenceLogStats {
  /** Rows written to the table since the server started. */
  written: number;
  /** Rows dropped because the queue was full. */
  dropped: number;
  /** Rows recorded and not yet written. */
  queued: number;
  /** The queue's bound, in rows. */
  max_queued: number;
  /** Failed write attempts (each is retried). */
  write_failures: number;
}

const BYTES_PER_ROW = 200;
const DEFAULTS = { maxQueuedRows: 100_000, maxQueuedBytes: 64 * 1024 * 1024, batchRows: 512, batchMs: 10 };

/**
 * The writer thread, started on its entry point: beside this file when built by tsc (dist/serving/),
 * beside the CLI bundle (dist/cli.cjs) when bundled, where scripts/bundle.mjs puts
 * dist/inference-writer.cjs. From source (src/serving/, the tests), the .ts file is loaded through
 * tsx's require hook: a worker thread of Node 20 does not inherit `--import tsx`.
 */
function startWriter(workerData: unknown): Worker {
  for (const name of ["./inference-writer.cjs", "./inference-writer.js"]) {
    const url = new URL(name, import.meta.url);
    if (existsSync(url)) return new Worker(url, { workerData });
  }
  const source = new URL("./inference-writer.ts", import.meta.url);
  if (!existsSync(source)) throw new Error(`the inference table's writer (inference-writer.js) is missing beside ${fileURLToPath(import.meta.url)}`);
  const tsx = createRequire(import.meta.url).resolve("tsx/cjs/api");
  return new Worker(`require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(fileURLToPath(source))});`, { eval: true, workerData });
}

interface Pending {
  resolve(value: unknown): void;
  reject(e: Error): void;
}

export class InferenceLog {
  private readonly options: Required<Omit<InferenceLogOptions, "log">>;
  private readonly report: (line: string) => void;
  private worker!: Worker;
  private ready!: Promise<void>;
  private opened = false;
  private restartTimer?: NodeJS.Timeout;
  /** Sources by key, and in order of creation (a restarted writer gets them all again). */
  private readonly sourceIds = new Map<string, number>();
  private readonly sources: Source[] = [];
  /** The batch being filled. */
  private strings: Array<string | null> = [];
  private numbers: Float64Array;
  private count = 0;
  private bytes = 0;
  private timer?: NodeJS.Timeout;
  private nextBatch = 1;
  /** Batches handed to the writer and not yet written, oldest first, with their size in bytes. */
  private readonly inFlight: Array<{ batch: Batch; bytes: number }> = [];
  private queuedRows = 0;
  private queuedBytes = 0;
  private written = 0;
  private dropped = 0;
  private writeFailures = 0;
  private droppedReported = 0;
  private nextRequest = 1;
  private readonly requests = new Map<number, Pending>();
  private closing?: Promise<{ unwritten: number }>;
  private closed?: (r: { unwritten: number }) => void;

  private constructor(
    private readonly place: InferencePlace,
    options: InferenceLogOptions,
  ) {
    this.options = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k !== "log" && v !== undefined)) };
    this.report = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.numbers = new Float64Array(this.options.batchRows * NUMBERS_PER_ROW);
  }

  /**
   * Starts the writer thread on its table: a SQLite file (a path, or `{ type: "sqlite", file }`; made if
   * missing) or the PostgreSQL database's (migrated: the state store made it); fails when it cannot open it.
   */
  static async open(place: string | InferencePlace, options: InferenceLogOptions = {}): Promise<InferenceLog> {
    const log = new InferenceLog(typeof place === "string" ? { type: "sqlite", file: place } : place, options);
    log.ready = log.start();
    try {
      await log.ready;
    } catch (e) {
      await log.worker.terminate();
      throw e;
    }
    log.opened = true;
    return log;
  }

  private start(): Promise<void> {
    const worker = startWriter({ inferencePlace: this.place });
    this.worker = worker;
    // The writer does not keep the process up by itself: flush, retention and close hold it (ask, close).
    worker.unref();
    let ready = false;
    return new Promise<void>((resolve, reject) => {
      worker.on("message", (m: FromWriter) => {
        if (m.t === "ready") (ready = true), resolve();
        else this.onMessage(m);
      });
      const died = (why: string) => {
        if (worker !== this.worker) return;
        if (!ready) reject(new Error(`the inference table's writer ${why}`));
        if (this.opened && !this.closing) this.writerStopped(why, ready);
        else this.failRequests(`the inference table's writer ${why}`);
      };
      worker.on("error", (e) => died(`failed: ${e.message}`));
      worker.on("exit", (code) => died(`exited (code ${code})`));
    });
  }

  /**
   * The writer thread died (a bug, not a failed write, which it retries itself): start another and
   * hand it every source and every batch not yet written (rows it had written without saying so yet
   * are written twice; questions it was answering fail). One that died before it was ready (the file
   * cannot be opened) is started again after 5 s; meanwhile rows queue, up to the bound.
   */
  private writerStopped(why: string, wasReady: boolean): void {
    if (this.restartTimer) return;
    this.report(`inference log: the writer thread ${why}; starting it again${wasReady ? "" : " in 5 s"} (${this.queuedRows} queued row(s) kept)`);
    this.failRequests(`the inference table's writer ${why}`);
    const restart = () => {
      this.restartTimer = undefined;
      this.ready = this.start();
      this.ready.catch(() => {});
      this.sources.forEach((source, id) => this.post({ t: "source", id, source }));
      for (const { batch } of this.inFlight) this.post({ t: "rows", ...batch });
    };
    if (wasReady) restart();
    else {
      this.restartTimer = setTimeout(restart, 5000);
      this.restartTimer.unref();
    }
  }

  private failRequests(why: string): void {
    for (const p of this.requests.values()) p.reject(new Error(why));
    this.requests.clear();
  }

  private onMessage(m: FromWriter): void {
    switch (m.t) {
      case "written":
        for (const id of m.batches) {
          const i = this.inFlight.findIndex((f) => f.batch.batch === id);
          if (i < 0) continue;
          const [done] = this.inFlight.splice(i, 1);
          this.queuedRows -= done!.batch.count;
          this.queuedBytes -= done!.bytes;
          this.written += done!.batch.count;
        }
        return;
      case "failed":
        this.writeFailures++;
        this.report(`inference log: write failed (${m.message}); ${m.rows} row(s) kept, retrying`);
        return;
      case "reply": {
        const p = this.requests.get(m.id);
        this.requests.delete(m.id);
        if (this.requests.size === 0 && !this.closing) this.worker.unref();
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.value);
        return;
      }
      case "closed":
        this.closed?.({ unwritten: m.unwritten });
        return;
    }
  }

  private post(m: ToWriter): void {
    this.worker.postMessage(m);
  }

  /** Asks the writer something; the process stays up until it answers. */
  private ask<T>(m: (id: number) => ToWriter): Promise<T> {
    if (this.closing) return Promise.reject(new Error("the inference log is stopping"));
    if (this.restartTimer) return Promise.reject(new Error("the inference table's writer is not running (it is started again shortly)"));
    const id = this.nextRequest++;
    this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.requests.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post(m(id));
    });
  }

  /** The id `record` takes for rows of this endpoint configuration and served version. */
  source(source: Source): number {
    const key = `${source.project}\0${source.target}\0${source.endpoint}\0${source.config_version}\0${source.model}\0${source.model_version}`;
    let id = this.sourceIds.get(key);
    if (id === undefined) {
      id = this.sources.length;
      this.sources.push(source);
      this.sourceIds.set(key, id);
      this.post({ t: "source", id, source });
    }
    return id;
  }

  /** Queues a row; false when the queue is full and the row was dropped (counted in `stats().dropped`). */
  record(e: InferenceEntry): boolean {
    const size = BYTES_PER_ROW + (e.request?.length ?? 0) + (e.response?.length ?? 0);
    if (this.closing || this.queuedRows >= this.options.maxQueuedRows || this.queuedBytes + size > this.options.maxQueuedBytes) {
      this.drop();
      return false;
    }
    this.queuedRows++;
    this.queuedBytes += size;
    this.bytes += size;
    this.strings.push(e.requestId, e.clientRequestId, e.request, e.response);
    const n = this.numbers;
    const o = this.count * NUMBERS_PER_ROW;
    n[o] = e.source;
    n[o + 1] = e.time;
    n[o + 2] = e.status;
    n[o + 3] = e.latencyMs;
    n[o + 4] = e.gatewayMs;
    n[o + 5] = e.queueMs;
    n[o + 6] = e.modelMs;
    if (++this.count >= this.options.batchRows) this.send();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.send(), this.options.batchMs);
      this.timer.unref();
    }
    return true;
  }

  private drop(): void {
    this.dropped++;
    // Said once when dropping starts, then at most every 10,000 rows.
    if (this.dropped - this.droppedReported >= 10_000 || this.droppedReported === 0) {
      this.droppedReported = this.dropped;
      const why = this.closing ? "the log is stopping" : `the queue is full (${this.queuedRows} row(s) not yet written)`;
      this.report(`inference log: ${why}; dropped ${this.dropped} row(s) so far`);
    }
  }

  /** Hands the current batch to the writer. */
  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    const batch: Batch = { batch: this.nextBatch++, count: this.count, strings: this.strings, numbers: this.numbers.subarray(0, this.count * NUMBERS_PER_ROW) };
    this.inFlight.push({ batch, bytes: this.bytes });
    this.post({ t: "rows", ...batch });
    this.strings = [];
    this.numbers = new Float64Array(this.options.batchRows * NUMBERS_PER_ROW);
    this.count = 0;
    this.bytes = 0;
  }

  /** Resolves once every row recorded before the call is written (rejects when the write fails: the rows stay queued). */
  async flush(): Promise<void> {
    this.send();
    await this.ask((id) => ({ t: "flush", id }));
  }

  /** The sequence number of the oldest of the endpoint's newest `keepRows` rows (undefined: it has no more than that). */
  async oldestKept(where: EndpointKey, keepRows: number): Promise<number | undefined> {
    return (await this.ask<number | null>((id) => ({ t: "oldest-kept", id, where, keepRows }))) ?? undefined;
  }

  /**
   * Takes an endpoint's oldest rows that `expiry` lets go (see inference-db.ts exportRows) and hands
   * them to `keep` (which archives them); once it resolves they are deleted, when it throws they stay.
   * Undefined when none is due. In PostgreSQL the rows stay locked meanwhile: another server's pass
   * takes other rows (inference-pg.ts takeRows), so each is archived once.
   */
  async takeExpired(where: EndpointKey, expiry: Expiry, limits: { maxRows: number; maxBytes: number }, keep: (batch: RowsArchive) => Promise<void>): Promise<RowsArchive | undefined> {
    const taken = await this.ask<TakenRows | null>((id) => ({ t: "take", id, where, expiry, ...limits }));
    if (!taken) return undefined;
    // Structured cloning turns the gzip Buffer into a plain Uint8Array.
    const { take, ...rest } = taken;
    const batch: RowsArchive = { ...rest, archive: Buffer.from(rest.archive.buffer, rest.archive.byteOffset, rest.archive.byteLength) };
    try {
      await keep(batch);
    } catch (e) {
      await this.ask((id) => ({ t: "drop", id, take })).catch(() => {});
      throw e;
    }
    await this.ask<number>((id) => ({ t: "keep", id, take }));
    return batch;
  }

  stats(): InferenceLogStats {
    return { written: this.written, dropped: this.dropped, queued: this.queuedRows, max_queued: this.options.maxQueuedRows, write_failures: this.writeFailures };
  }

  /**
   * Writes every queued row, then stops the writer. Waits at most `timeoutMs` (a write that keeps
   * failing); returns how many rows were left unwritten. Rows recorded after this are dropped.
   */
  close(timeoutMs = 30_000): Promise<{ unwritten: number }> {
    this.closing ??= (async () => {
      this.send();
      if (this.restartTimer) {
        // The writer is not running (it could not start): nothing can be written now.
        clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
        return { unwritten: this.queuedRows };
      }
      this.worker.ref();
      const done = new Promise<{ unwritten: number }>((resolve) => (this.closed = resolve));
      await this.ready.catch(() => {});
      this.post({ t: "close" });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<{ unwritten: number }>((resolve) => (timer = setTimeout(() => resolve({ unwritten: this.queuedRows }), timeoutMs)));
      const result = await Promise.race([done, timeout]);
      clearTimeout(timer);
      // The writer has closed the database (or is stuck in a write that keeps failing): end the thread.
      await this.worker.terminate();
      return result;
    })();
    return this.closing;
  }
}
