// The server's background work in the state database: schedule fire claims, pause overrides, leases on
// other units of work, each loop's last/next run, and the deployed projects the server works for.
// Every claim is one atomic statement (INSERT … ON CONFLICT DO NOTHING, or an UPDATE guarded by the
// previous owner and expiry), so two servers sharing the database never both win one.
import type { Kysely } from "kysely";
import type { BackgroundLeasesTable, BackgroundStatusTable, BackgroundTargetsTable, Database, ScheduleFiresTable, ScheduleStatesTable } from "./tables.js";

export type FireRow = ScheduleFiresTable;
export type ScheduleStateRow = ScheduleStatesTable;
export type LeaseRow = BackgroundLeasesTable;
export type StatusRow = BackgroundStatusTable;
export type BackgroundTargetRow = BackgroundTargetsTable;
export type FireKey = Pick<FireRow, "project" | "target" | "schedule" | "due_at">;

const CHUNK = 100;

export class BackgroundStore {
  constructor(private readonly db: Kysely<Database>) {}

  // Schedule fires

  /** Inserts the claims nobody holds yet; returns those this call inserted (the caller fires them). */
  async claimFires(unordered: readonly FireRow[]): Promise<FireRow[]> {
    // One key order for every server, so concurrent inserts of the same keys wait on each other in the
    // same order (never a deadlock).
    const rows = [...unordered].sort((a, b) => (fireId(a) < fireId(b) ? -1 : fireId(a) > fireId(b) ? 1 : 0));
    const won: FireRow[] = [];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const inserted = await this.db
        .insertInto("schedule_fires")
        .values(chunk)
        .onConflict((oc) => oc.columns(["project", "target", "schedule", "due_at"]).doNothing())
        .returning(["project", "target", "schedule", "due_at"])
        .execute();
      const keys = new Set(inserted.map(fireId));
      won.push(...chunk.filter((r) => keys.has(fireId(r))));
    }
    return won;
  }

  async updateFire(key: FireKey, fields: Partial<Pick<FireRow, "status" | "run_id" | "message" | "expires_at" | "owner">>): Promise<void> {
    await this.whereFire(this.db.updateTable("schedule_fires").set(fields), key).execute();
  }

  /** Marks claimed fires as started, by the run ids they claimed (one statement per 500). */
  async markStarted(runIds: readonly string[], message: string | null): Promise<void> {
    for (let i = 0; i < runIds.length; i += 500) {
      await this.db.updateTable("schedule_fires").set({ status: "started", message }).where("run_id", "in", runIds.slice(i, i + 500)).where("status", "=", "claimed").execute();
    }
  }

  /** Changes a fire only while it is `from` with this owner (and expiry, when given); tells whether it did. */
  async transitionFire(key: FireKey, from: { status: string; owner?: string; expires_at?: number }, fields: Partial<Pick<FireRow, "status" | "run_id" | "message" | "expires_at" | "owner" | "claimed_at">>): Promise<boolean> {
    let q = this.whereFire(this.db.updateTable("schedule_fires").set(fields), key).where("status", "=", from.status);
    if (from.owner !== undefined) q = q.where("owner", "=", from.owner);
    if (from.expires_at !== undefined) q = q.where("expires_at", "=", from.expires_at);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  private whereFire<Q extends { where: (...args: any[]) => any }>(q: Q, key: FireKey): Q {
    return q.where("project", "=", key.project).where("target", "=", key.target).where("schedule", "=", key.schedule).where("due_at", "=", key.due_at);
  }

  /** The latest due time recorded for each schedule (claimed, started, skipped, queued or failed). */
  async latestFires(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom("schedule_fires").select(["project", "target", "schedule"]).select((eb) => eb.fn.max("due_at").as("due_at")).groupBy(["project", "target", "schedule"]).execute();
    return new Map(rows.map((r) => [scheduleId(r), String(r.due_at)]));
  }

  async fires(filter: { project: string; target: string; schedule?: string; status?: string[]; limit?: number }): Promise<FireRow[]> {
    let q = this.db.selectFrom("schedule_fires").selectAll().where("project", "=", filter.project).where("target", "=", filter.target);
    if (filter.schedule) q = q.where("schedule", "=", filter.schedule);
    if (filter.status) q = q.where("status", "in", filter.status);
    const rows = await q.orderBy("due_at", "desc").limit(filter.limit ?? 100).execute();
    return rows.map(normalizeFire);
  }

  /** Fires in one of these statuses, every project, oldest first. */
  async firesWithStatus(status: string[]): Promise<FireRow[]> {
    const rows = await this.db.selectFrom("schedule_fires").selectAll().where("status", "in", status).orderBy("due_at").execute();
    return rows.map(normalizeFire);
  }

  /** Forgets fire records older than `before` (ISO), keeping each schedule's latest (the cursor). */
  async pruneFires(before: string): Promise<void> {
    const latest = await this.latestFires();
    const old = await this.db.selectFrom("schedule_fires").select(["project", "target", "schedule", "due_at"]).where("due_at", "<", before).where("status", "in", ["started", "skipped", "failed"]).execute();
    for (const r of old) if (latest.get(scheduleId(r)) !== r.due_at) await this.whereFire(this.db.deleteFrom("schedule_fires"), r).execute();
  }

  // Pauses

  async setPaused(project: string, target: string, schedule: string, paused: boolean, at: string, by: string): Promise<void> {
    const row = { project, target, schedule, paused: paused ? 1 : 0, updated_at: at, updated_by: by };
    await this.db
      .insertInto("schedule_states")
      .values(row)
      .onConflict((oc) => oc.columns(["project", "target", "schedule"]).doUpdateSet({ paused: row.paused, updated_at: at, updated_by: by }))
      .execute();
  }

  async scheduleStates(): Promise<Map<string, ScheduleStateRow>> {
    const rows = await this.db.selectFrom("schedule_states").selectAll().execute();
    return new Map(rows.map((r) => [scheduleId(r), { ...r, paused: Number(r.paused) }]));
  }

  async deleteScheduleState(project: string, target: string, schedule: string): Promise<void> {
    await this.db.deleteFrom("schedule_states").where("project", "=", project).where("target", "=", target).where("schedule", "=", schedule).execute();
  }

  // Leases on units of work

  /**
   * Takes the lease on `key` when nobody holds it, or when its holder left it unfinished past its
   * expiry (that server died). Returns whether this owner now holds it.
   */
  async tryLease(key: string, owner: string, at: string, now: number, expiresAt: number): Promise<boolean> {
    const inserted = await this.db.insertInto("background_leases").values({ key, owner, acquired_at: at, expires_at: expiresAt, finished_at: null, outcome: null }).onConflict((oc) => oc.column("key").doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return true;
    const held = await this.db.selectFrom("background_leases").selectAll().where("key", "=", key).executeTakeFirst();
    if (!held || held.finished_at !== null || Number(held.expires_at) > now) return false;
    const r = await this.db
      .updateTable("background_leases")
      .set({ owner, acquired_at: at, expires_at: expiresAt })
      .where("key", "=", key)
      .where("owner", "=", held.owner)
      .where("expires_at", "=", held.expires_at)
      .where("finished_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async renewLease(key: string, owner: string, expiresAt: number): Promise<boolean> {
    const r = await this.db.updateTable("background_leases").set({ expires_at: expiresAt }).where("key", "=", key).where("owner", "=", owner).where("finished_at", "is", null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async finishLease(key: string, owner: string, at: string, outcome: string): Promise<void> {
    await this.db.updateTable("background_leases").set({ finished_at: at, outcome }).where("key", "=", key).where("owner", "=", owner).execute();
  }

  async lease(key: string): Promise<LeaseRow | undefined> {
    const row = await this.db.selectFrom("background_leases").selectAll().where("key", "=", key).executeTakeFirst();
    return row && { ...row, expires_at: Number(row.expires_at) };
  }

  /** Forgets finished leases whose work ended before `before` (ISO). */
  async pruneLeases(before: string): Promise<void> {
    await this.db.deleteFrom("background_leases").where("finished_at", "is not", null).where("finished_at", "<", before).execute();
  }

  // Each loop's last and next run

  async putStatus(row: StatusRow): Promise<void> {
    const { unit, ...rest } = row;
    await this.db.insertInto("background_status").values(row).onConflict((oc) => oc.column("unit").doUpdateSet(rest)).execute();
  }

  async status(unit: string): Promise<StatusRow | undefined> {
    return this.db.selectFrom("background_status").selectAll().where("unit", "=", unit).executeTakeFirst();
  }

  async statuses(): Promise<StatusRow[]> {
    return this.db.selectFrom("background_status").selectAll().orderBy("unit").execute();
  }

  async deleteStatus(unit: string): Promise<void> {
    await this.db.deleteFrom("background_status").where("unit", "=", unit).execute();
  }

  // Deployed projects the server works for

  async putTarget(row: BackgroundTargetRow): Promise<void> {
    const { project, target, ...rest } = row;
    await this.db.insertInto("background_targets").values(row).onConflict((oc) => oc.columns(["project", "target"]).doUpdateSet(rest)).execute();
  }

  async deleteTarget(project: string, target: string): Promise<void> {
    await this.db.deleteFrom("background_targets").where("project", "=", project).where("target", "=", target).execute();
  }

  async targets(): Promise<BackgroundTargetRow[]> {
    return this.db.selectFrom("background_targets").selectAll().orderBy("project").orderBy("target").execute();
  }
}

/** One schedule across projects and targets, as a map key. */
export function scheduleId(r: { project: string; target: string; schedule: string }): string {
  return `${r.project}\u0000${r.target}\u0000${r.schedule}`;
}

function fireId(r: FireKey): string {
  return `${scheduleId(r)}\u0000${r.due_at}`;
}

function normalizeFire(r: FireRow): FireRow {
  return { ...r, expires_at: Number(r.expires_at) };
}
