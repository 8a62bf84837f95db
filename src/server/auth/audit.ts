// The audit log: every change (deploy, destroy, rollback, run, cancel, alias move, token create and
// revoke, permission and user changes, login) appended with who, what, on which target, when, from
// which address, and the outcome. Tamper-evident: each entry's hash covers its fields and the previous
// entry's hash, so editing, removing or reordering entries breaks the chain, which `verify` finds.
import type { Kysely } from "kysely";
import { iso, type Clock } from "../../clock.js";
import type { StateStore } from "../../store/state/state-store.js";
import type { AuditLogTable, Database } from "../../store/state/tables.js";
import { canonicalJson, sha256 } from "../../util/hash.js";

export type AuditRow = AuditLogTable;

export interface AuditEvent {
  actor: string;
  action: string;
  project?: string;
  target?: string;
  /** The resource or principal acted on (an address, a run id, a user, a token id). */
  resource?: string;
  client: string;
  /** "ok", or the error code it failed with. */
  outcome: string;
  detail?: Record<string, unknown>;
}

/** The hash of the chain's start (the previous hash of entry 1). */
export const GENESIS = "0".repeat(64);

export function entryHash(e: Omit<AuditRow, "hash">): string {
  return sha256(canonicalJson({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, project: e.project, target: e.target, resource: e.resource, client: e.client, outcome: e.outcome, detail: e.detail, prev_hash: e.prev_hash }));
}

export interface AuditFilter {
  since?: string;
  user?: string;
  target?: string;
  limit?: number;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  /** The first entry that does not fit the chain. */
  brokenAt: number | null;
  reason: string | null;
  lastHash: string;
}

export class AuditLog {
  private readonly db: Kysely<Database>;
  constructor(
    state: StateStore,
    private readonly clock: Clock,
  ) {
    this.db = state.db;
  }

  /** Appends one entry at the end of the chain (retried when another writer appended first). */
  async append(event: AuditEvent): Promise<AuditRow> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (tx) => {
          const last = await tx.selectFrom("audit_log").select(["seq", "hash"]).orderBy("seq", "desc").limit(1).executeTakeFirst();
          const entry: Omit<AuditRow, "hash"> = {
            seq: Number(last?.seq ?? 0) + 1,
            at: iso(this.clock.now()),
            actor: event.actor,
            action: event.action,
            project: event.project ?? "",
            target: event.target ?? "",
            resource: event.resource ?? "",
            client: event.client,
            outcome: event.outcome,
            detail: canonicalJson(event.detail ?? {}),
            prev_hash: last?.hash ?? GENESIS,
          };
          const row = { ...entry, hash: entryHash(entry) };
          await tx.insertInto("audit_log").values(row).execute();
          return row;
        });
      } catch (e) {
        // Another writer appended first (a duplicate seq), or holds SQLite's write lock: this
        // transaction read before writing, so SQLite answers "database is locked" at once instead of
        // waiting (it cannot upgrade the read). Both are retried after a short pause.
        const busy = (e as { code?: string }).code === "SQLITE_BUSY" || /database is locked/i.test((e as Error).message);
        if (attempt >= 20 || !(busy || /unique|primary key|constraint/i.test((e as Error).message))) throw e;
        await new Promise((r) => setTimeout(r, 5 + attempt * 10));
      }
    }
  }

  /** Entries in order, filtered; `limit` keeps the latest ones. */
  async list(filter: AuditFilter = {}): Promise<AuditRow[]> {
    let q = this.db.selectFrom("audit_log").selectAll();
    if (filter.since) q = q.where("at", ">=", filter.since);
    if (filter.user) q = q.where("actor", "=", filter.user);
    if (filter.target) q = q.where("target", "=", filter.target);
    const rows = await q.orderBy("seq", "desc").limit(filter.limit ?? 1000).execute();
    return rows.reverse().map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  /** Walks the whole chain: each entry's hash, its predecessor's hash, seq without gaps. */
  async verify(): Promise<VerifyResult> {
    let prev = GENESIS;
    let expected = 1;
    let entries = 0;
    const pageSize = 1000;
    for (let from = 0; ; ) {
      const page = await this.db.selectFrom("audit_log").selectAll().where("seq", ">", from).orderBy("seq").limit(pageSize).execute();
      for (const raw of page) {
        const r = { ...raw, seq: Number(raw.seq) };
        const broken = (reason: string): VerifyResult => ({ ok: false, entries, brokenAt: r.seq, reason, lastHash: prev });
        if (r.seq !== expected) return { ...broken(`entry ${expected} is missing`), brokenAt: expected };
        if (r.prev_hash !== prev) return broken(`entry ${r.seq} does not follow entry ${r.seq - 1} (its previous hash differs)`);
        const { hash, ...rest } = r;
        if (entryHash(rest) !== hash) return broken(`entry ${r.seq} was changed after it was written (its hash does not match its fields)`);
        prev = hash;
        expected++;
        entries++;
        from = r.seq;
      }
      if (page.length < pageSize) return { ok: true, entries, brokenAt: null, reason: null, lastHash: prev };
    }
  }
}
