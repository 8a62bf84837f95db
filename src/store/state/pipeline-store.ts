// Release pipelines' runs, stages, approval decisions, notifications sent, slots and git heads. Each
// claim is one atomic statement (an INSERT that does nothing on conflict, or an UPDATE guarded by the
// value it replaces), so two servers sharing the database never both win one.
import type { Kysely } from "kysely";
import type { Database, PipelineApprovalsTable, PipelineGitHeadsTable, PipelineNotificationsTable, PipelineRunsTable, PipelineStagesTable } from "./tables.js";

export type PipelineRunRow = PipelineRunsTable;
export type PipelineStageRow = PipelineStagesTable;
export type ApprovalRow = PipelineApprovalsTable;
export type NotificationRow = PipelineNotificationsTable;
export type GitHeadRow = PipelineGitHeadsTable;

/** A run that still needs work: waiting in its queue, advancing, or waiting on an approval or a wait. */
export const OPEN_PIPELINE_STATUSES = ["queued", "running", "waiting"] as const;
/** A run that holds its pipeline's slot. */
export const ACTIVE_PIPELINE_STATUSES = ["running", "waiting"] as const;

export class PipelineStore {
  constructor(private readonly db: Kysely<Database>) {}

  // Runs

  /** Inserts a run; false when its id or its trigger key (one run per cron time, upstream run, commit) exists already. */
  async insertRun(row: PipelineRunRow, stages: PipelineStageRow[]): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx.insertInto("pipeline_runs").values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
      if (stages.length) await tx.insertInto("pipeline_stages").values(stages).execute();
      return true;
    });
  }

  async run(id: string): Promise<PipelineRunRow | undefined> {
    const row = await this.db.selectFrom("pipeline_runs").selectAll().where("id", "=", id).executeTakeFirst();
    return row && normalizeRun(row);
  }

  async runsByPrefix(prefix: string, limit = 2): Promise<PipelineRunRow[]> {
    const rows = await this.db.selectFrom("pipeline_runs").selectAll().where("id", ">=", prefix).where("id", "<", prefix + "\uffff").orderBy("id").limit(limit).execute();
    return rows.map(normalizeRun);
  }

  async runs(filter: { project: string; target: string; pipeline?: string; status?: readonly string[]; limit?: number; oldestFirst?: boolean }): Promise<PipelineRunRow[]> {
    let q = this.db.selectFrom("pipeline_runs").selectAll().where("project", "=", filter.project).where("target", "=", filter.target);
    if (filter.pipeline !== undefined) q = q.where("pipeline", "=", filter.pipeline);
    if (filter.status) q = q.where("status", "in", [...filter.status]);
    const dir = filter.oldestFirst ? "asc" : "desc";
    const rows = await q.orderBy("created_at", dir).orderBy("id", dir).limit(filter.limit ?? 50).execute();
    return rows.map(normalizeRun);
  }

  /** Runs in these statuses across projects, oldest first. */
  async runsWithStatus(status: readonly string[]): Promise<PipelineRunRow[]> {
    const rows = await this.db.selectFrom("pipeline_runs").selectAll().where("status", "in", [...status]).orderBy("created_at").orderBy("id").execute();
    return rows.map(normalizeRun);
  }

  async updateRun(id: string, fields: Partial<Omit<PipelineRunRow, "id">>): Promise<void> {
    await this.db.updateTable("pipeline_runs").set(fields).where("id", "=", id).execute();
  }

  /** Changes a run only while its status is one of `from`; tells whether it did. */
  async transitionRun(id: string, from: readonly string[], fields: Partial<Omit<PipelineRunRow, "id">>): Promise<boolean> {
    const r = await this.db.updateTable("pipeline_runs").set(fields).where("id", "=", id).where("status", "in", [...from]).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Takes (or keeps) the lease on advancing an open run: when nobody holds it, this owner does, or its
   * holder let it expire (that process died). Tells whether this owner now holds it.
   */
  async claimRun(id: string, owner: string, now: number, until: number): Promise<boolean> {
    const r = await this.db
      .updateTable("pipeline_runs")
      .set({ owner, lease_expires_at: until })
      .where("id", "=", id)
      .where("status", "in", [...OPEN_PIPELINE_STATUSES])
      .where((eb) => eb.or([eb("owner", "is", null), eb("owner", "=", owner), eb("lease_expires_at", "<", now)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async releaseRun(id: string, owner: string): Promise<void> {
    await this.db.updateTable("pipeline_runs").set({ owner: null, lease_expires_at: null }).where("id", "=", id).where("owner", "=", owner).execute();
  }

  // Stages

  async stages(runId: string): Promise<PipelineStageRow[]> {
    const rows = await this.db.selectFrom("pipeline_stages").selectAll().where("run_id", "=", runId).execute();
    return rows.map((s) => ({ ...s, due_at: s.due_at === null ? null : Number(s.due_at) }));
  }

  async updateStage(runId: string, stage: string, fields: Partial<Omit<PipelineStageRow, "run_id" | "stage">>): Promise<void> {
    await this.db.updateTable("pipeline_stages").set(fields).where("run_id", "=", runId).where("stage", "=", stage).execute();
  }

  /** Changes a stage only while its status is one of `from`; tells whether it did. */
  async transitionStage(runId: string, stage: string, from: readonly string[], fields: Partial<Omit<PipelineStageRow, "run_id" | "stage">>): Promise<boolean> {
    const r = await this.db.updateTable("pipeline_stages").set(fields).where("run_id", "=", runId).where("stage", "=", stage).where("status", "in", [...from]).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // Approval decisions

  /** Records a decision; false when this user already decided on this stage. */
  async decide(row: ApprovalRow): Promise<boolean> {
    const r = await this.db.insertInto("pipeline_approvals").values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async decisions(runId: string): Promise<ApprovalRow[]> {
    return this.db.selectFrom("pipeline_approvals").selectAll().where("run_id", "=", runId).orderBy("at").orderBy("user").execute();
  }

  // Notifications

  /** Claims sending one event on one channel; false when it was claimed before (by anyone). */
  async claimNotification(row: NotificationRow): Promise<boolean> {
    const r = await this.db.insertInto("pipeline_notifications").values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async updateNotification(key: Pick<NotificationRow, "run_id" | "event" | "channel">, fields: Partial<Pick<NotificationRow, "status" | "attempts" | "at" | "message">>): Promise<void> {
    await this.db.updateTable("pipeline_notifications").set(fields).where("run_id", "=", key.run_id).where("event", "=", key.event).where("channel", "=", key.channel).execute();
  }

  async notifications(runId: string): Promise<NotificationRow[]> {
    const rows = await this.db.selectFrom("pipeline_notifications").selectAll().where("run_id", "=", runId).orderBy("at").execute();
    return rows.map((n) => ({ ...n, channel: Number(n.channel), attempts: Number(n.attempts) }));
  }

  // Slots: the run that holds each pipeline (per project and target)

  async slot(project: string, target: string, pipeline: string): Promise<string | null> {
    const row = await this.db.selectFrom("pipeline_slots").select("active_run").where("project", "=", project).where("target", "=", target).where("pipeline", "=", pipeline).executeTakeFirst();
    return row?.active_run ?? null;
  }

  /** Sets the slot's run from `from` to `to` only if it is still `from`; tells whether it did. */
  async swapSlot(project: string, target: string, pipeline: string, from: string | null, to: string | null): Promise<boolean> {
    await this.db.insertInto("pipeline_slots").values({ project, target, pipeline, active_run: null }).onConflict((oc) => oc.doNothing()).execute();
    const q = this.db.updateTable("pipeline_slots").set({ active_run: to }).where("project", "=", project).where("target", "=", target).where("pipeline", "=", pipeline);
    const r = await (from === null ? q.where("active_run", "is", null) : q.where("active_run", "=", from)).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // Git triggers: the last commit seen on each pipeline's branch

  async gitHead(project: string, target: string, pipeline: string): Promise<GitHeadRow | undefined> {
    return this.db.selectFrom("pipeline_git_heads").selectAll().where("project", "=", project).where("target", "=", target).where("pipeline", "=", pipeline).executeTakeFirst();
  }

  async putGitHead(row: GitHeadRow): Promise<void> {
    const { project, target, pipeline, ...rest } = row;
    await this.db.insertInto("pipeline_git_heads").values(row).onConflict((oc) => oc.columns(["project", "target", "pipeline"]).doUpdateSet(rest)).execute();
  }
}

function normalizeRun(row: PipelineRunRow): PipelineRunRow {
  return { ...row, lease_expires_at: row.lease_expires_at === null ? null : Number(row.lease_expires_at) };
}
