// Runs, their tasks and the task cache, in the same database as deployments.
import type { Kysely } from "kysely";
import type { Database, RunCancelRequestsTable, RunsTable, RunTasksTable, TaskCacheTable } from "./tables.js";

export type RunRow = RunsTable;
export type RunTaskRow = RunTasksTable;
export type CacheRow = TaskCacheTable;
export type CancelRequestRow = RunCancelRequestsTable;

export const ACTIVE_RUN_STATUSES = ["queued", "running"] as const;

export class RunStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: RunRow): Promise<void> {
    await this.db.insertInto("runs").values(row).execute();
  }

  async get(id: string): Promise<RunRow | undefined> {
    const row = await this.db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
    return row && normalizeRun(row);
  }

  /** Runs whose id starts with `prefix` (so users can type a short id). */
  async findByPrefix(prefix: string, limit = 2): Promise<RunRow[]> {
    const rows = await this.db.selectFrom("runs").selectAll().where("id", ">=", prefix).where("id", "<", prefix + "\uffff").orderBy("id").limit(limit).execute();
    return rows.map(normalizeRun);
  }

  async list(filter: { project: string; target: string; job?: string; limit?: number }): Promise<RunRow[]> {
    let q = this.db.selectFrom("runs").selectAll().where("project", "=", filter.project).where("target", "=", filter.target);
    if (filter.job) q = q.where("job", "=", filter.job);
    const rows = await q.orderBy("created_at", "desc").orderBy("id", "desc").limit(filter.limit ?? 50).execute();
    return rows.map(normalizeRun);
  }

  /** Queued or running runs that one trigger started (a schedule's, by its name). */
  async activeTriggered(project: string, target: string, trigger: string, ref: string): Promise<RunRow[]> {
    const rows = await this.db.selectFrom("runs").selectAll().where("project", "=", project).where("target", "=", target).where("trigger", "=", trigger).where("trigger_ref", "=", ref).where("status", "in", [...ACTIVE_RUN_STATUSES]).orderBy("created_at").execute();
    return rows.map(normalizeRun);
  }

  /** Queued or running runs of one trigger kind (every schedule's, at once), oldest first. */
  async activeByTrigger(trigger: string): Promise<RunRow[]> {
    const rows = await this.db.selectFrom("runs").selectAll().where("trigger", "=", trigger).where("status", "in", [...ACTIVE_RUN_STATUSES]).orderBy("created_at").execute();
    return rows.map(normalizeRun);
  }

  async active(host?: string): Promise<RunRow[]> {
    let q = this.db.selectFrom("runs").selectAll().where("status", "in", [...ACTIVE_RUN_STATUSES]);
    if (host) q = q.where("host", "=", host);
    return (await q.execute()).map(normalizeRun);
  }

  async update(id: string, fields: Partial<Omit<RunRow, "id">>): Promise<void> {
    await this.db.updateTable("runs").set(fields).where("id", "=", id).execute();
  }

  /** Changes a run only while its status is one of `from`; tells whether it did (no lost updates). */
  async transition(id: string, from: readonly string[], fields: Partial<Omit<RunRow, "id">>): Promise<boolean> {
    const r = await this.db.updateTable("runs").set(fields).where("id", "=", id).where("status", "in", [...from]).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Records that someone asked to cancel a run (the first request stands); the runner acts on it. */
  async requestCancel(row: CancelRequestRow): Promise<void> {
    await this.db.insertInto("run_cancel_requests").values(row).onConflict((oc) => oc.column("run_id").doNothing()).execute();
  }

  /** The cancellation asked for a run, if any. */
  async cancelRequest(runId: string): Promise<CancelRequestRow | undefined> {
    return this.db.selectFrom("run_cancel_requests").selectAll().where("run_id", "=", runId).executeTakeFirst();
  }

  async putTask(row: RunTaskRow): Promise<void> {
    const { run_id, task, ...rest } = row;
    await this.db
      .insertInto("run_tasks")
      .values(row)
      .onConflict((oc) => oc.columns(["run_id", "task"]).doUpdateSet(rest))
      .execute();
  }

  async updateTask(runId: string, task: string, fields: Partial<Omit<RunTaskRow, "run_id" | "task">>): Promise<void> {
    await this.db.updateTable("run_tasks").set(fields).where("run_id", "=", runId).where("task", "=", task).execute();
  }

  async tasks(runId: string): Promise<RunTaskRow[]> {
    const rows = await this.db.selectFrom("run_tasks").selectAll().where("run_id", "=", runId).orderBy("started_at").orderBy("task").execute();
    return rows.map((t) => ({ ...t, attempts: Number(t.attempts), exit_code: t.exit_code === null ? null : Number(t.exit_code), pid: t.pid === null ? null : Number(t.pid) }));
  }

  async cached(cacheKey: string): Promise<CacheRow | undefined> {
    return this.db.selectFrom("task_cache").selectAll().where("cache_key", "=", cacheKey).executeTakeFirst();
  }

  async remember(row: CacheRow): Promise<void> {
    await this.db
      .insertInto("task_cache")
      .values(row)
      .onConflict((oc) => oc.column("cache_key").doUpdateSet({ run_id: row.run_id, task: row.task, outputs: row.outputs, created_at: row.created_at }))
      .execute();
  }
}

function normalizeRun(row: RunRow): RunRow {
  return { ...row, heartbeat_at: row.heartbeat_at === null ? null : Number(row.heartbeat_at) };
}
