// Retention of inference tables: an endpoint's `inference_table.keep` (a duration) and `keep_rows`
// bound its rows. The server applies them every minute (SLIPWAY_INFERENCE_RETENTION_INTERVAL_MS):
// rows past either rule are written to the endpoint's `misc` archive store as gzipped JSON lines (as
// deleting an endpoint archives them), then deleted — archive first, delete after, in files of at most
// 10,000 rows. The writer thread (inference-log.ts) does the reading, the gzip and the delete, so a
// pass never holds up requests. A crash between an archive and its delete archives those rows again
// in the next pass (a second file over the same rows; the file names say which rows). In a
// PostgreSQL home every server runs the pass on the one shared table: the rows a pass takes stay
// locked until their archive is written and they are deleted, and another server's pass skips them
// (inference-pg.ts takeRows), so each row is archived by one server, once.
import { iso } from "../clock.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import type { EndpointKey, Expiry, RowsArchive } from "./inference-db.js";

export interface RetentionRule {
  /** Rows older than this many ms go. */
  keepMs?: number;
  /** Rows beyond the newest this many go. */
  keepRows?: number;
}

/** One endpoint's table, its rule, and where removed rows are archived. */
export interface RetentionTarget {
  where: EndpointKey;
  rule: RetentionRule;
  archive: BlobStore;
}

export interface RetentionOutcome {
  where: EndpointKey;
  /** Rows archived and deleted. */
  rows: number;
  /** Archive keys written, oldest rows first. */
  files: string[];
}

/** What a retention pass needs of the inference log (InferenceLog). */
export interface RetentionTable {
  oldestKept(where: EndpointKey, keepRows: number): Promise<number | undefined>;
  /** Takes the next rows due, hands them to `keep` (the archive), deletes them once it resolves; undefined when none is due. */
  takeExpired(where: EndpointKey, expiry: Expiry, limits: { maxRows: number; maxBytes: number }, keep: (batch: RowsArchive) => Promise<void>): Promise<RowsArchive | undefined>;
}

const LIMITS = { maxRows: 10_000, maxBytes: 16 * 1024 * 1024 };

/** The archive key of a batch of removed rows: beside the archives a delete writes, named by the rows' first timestamp and sequence numbers. */
export function retentionKey(where: EndpointKey, batch: Pick<RowsArchive, "from" | "first" | "through">): string {
  return `inference/${where.project}/${where.target}/${where.endpoint}/${batch.from.replace(/[:.]/g, "-")}-rows-${batch.first}-${batch.through}.jsonl.gz`;
}

/**
 * One pass over `targets` at time `now`: archives then deletes every row past each endpoint's rule.
 * Stops between files once `signal` is aborted (the server is stopping). Endpoints without a rule
 * are skipped; a failure on one endpoint is reported through `onError` and the others go on.
 */
export async function applyRetention(
  table: RetentionTable,
  targets: RetentionTarget[],
  now: number,
  options: { signal?: AbortSignal; onError?(where: EndpointKey, e: Error): void; limits?: { maxRows: number; maxBytes: number } } = {},
): Promise<RetentionOutcome[]> {
  const outcomes: RetentionOutcome[] = [];
  for (const { where, rule, archive } of targets) {
    if (rule.keepMs === undefined && rule.keepRows === undefined) continue;
    const outcome: RetentionOutcome = { where, rows: 0, files: [] };
    try {
      // keep_rows as a sequence number, found once per pass (it walks keep_rows index entries).
      const kept = rule.keepRows !== undefined ? await table.oldestKept(where, rule.keepRows) : undefined;
      const expiry: Expiry = { ...(rule.keepMs !== undefined ? { before: iso(now - rule.keepMs) } : {}), ...(kept !== undefined ? { through: kept - 1 } : {}) };
      if (expiry.before === undefined && expiry.through === undefined) continue;
      while (!options.signal?.aborted) {
        let key = "";
        const batch = await table.takeExpired(where, expiry, options.limits ?? LIMITS, async (b) => {
          key = retentionKey(where, b);
          await archive.put(key, b.archive);
        });
        if (!batch) break;
        outcome.rows += batch.rows;
        outcome.files.push(key);
      }
    } catch (e) {
      options.onError?.(where, e as Error);
    }
    if (outcome.rows) outcomes.push(outcome);
  }
  return outcomes;
}
