import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/**
 * Release pipelines at run time (src/pipelines): runs (with the spec they started from, who or what
 * triggered them, and the lease of the process advancing them), one row per stage, approval decisions,
 * the notifications sent (the row is the claim: each is sent once), each pipeline's slot (the run
 * that holds it; concurrency is a compare-and-set on it), and the last commit seen per git trigger.
 */
export async function up(db: Kysely<any>, { key }: MigrationContext): Promise<void> {
  await db.schema
    .createTable("pipeline_runs")
    .addColumn("id", key, (c) => c.primaryKey())
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("pipeline", key, (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("trigger_ref", "text")
    .addColumn("trigger_key", key)
    .addColumn("params", "text", (c) => c.notNull())
    .addColumn("spec", "text", (c) => c.notNull())
    .addColumn("dir", "text", (c) => c.notNull())
    .addColumn("upstream", "text")
    .addColumn("user", "text", (c) => c.notNull())
    .addColumn("created_at", key, (c) => c.notNull())
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .addColumn("message", "text")
    .addColumn("owner", "text")
    .addColumn("lease_expires_at", "bigint")
    .execute();
  // One run per trigger key (a cron time, an upstream run, a commit): a second insert does nothing.
  await db.schema.createIndex("pipeline_runs_trigger_key").on("pipeline_runs").columns(["project", "target", "pipeline", "trigger_key"]).unique().execute();
  await db.schema.createIndex("pipeline_runs_by_status").on("pipeline_runs").columns(["status"]).execute();
  await db.schema.createIndex("pipeline_runs_by_pipeline").on("pipeline_runs").columns(["project", "target", "pipeline", "created_at"]).execute();
  await db.schema
    .createTable("pipeline_stages")
    .addColumn("run_id", key, (c) => c.notNull())
    .addColumn("stage", key, (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .addColumn("due_at", "bigint")
    .addColumn("job_run", "text")
    .addColumn("outputs", "text")
    .addColumn("details", "text")
    .addColumn("message", "text")
    .addColumn("log", "text")
    .addPrimaryKeyConstraint("pipeline_stages_pk", ["run_id", "stage"])
    .execute();
  await db.schema
    .createTable("pipeline_approvals")
    .addColumn("run_id", key, (c) => c.notNull())
    .addColumn("stage", key, (c) => c.notNull())
    .addColumn("user", key, (c) => c.notNull())
    .addColumn("decision", "text", (c) => c.notNull())
    .addColumn("comment", "text")
    .addColumn("at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("pipeline_approvals_pk", ["run_id", "stage", "user"])
    .execute();
  await db.schema
    .createTable("pipeline_notifications")
    .addColumn("run_id", key, (c) => c.notNull())
    .addColumn("event", key, (c) => c.notNull())
    .addColumn("channel", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("message", "text")
    .addPrimaryKeyConstraint("pipeline_notifications_pk", ["run_id", "event", "channel"])
    .execute();
  await db.schema
    .createTable("pipeline_slots")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("pipeline", key, (c) => c.notNull())
    .addColumn("active_run", "text")
    .addPrimaryKeyConstraint("pipeline_slots_pk", ["project", "target", "pipeline"])
    .execute();
  await db.schema
    .createTable("pipeline_git_heads")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("pipeline", key, (c) => c.notNull())
    .addColumn("repo", "text", (c) => c.notNull())
    .addColumn("branch", "text", (c) => c.notNull())
    .addColumn("commit", "text", (c) => c.notNull())
    .addColumn("seen_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("pipeline_git_heads_pk", ["project", "target", "pipeline"])
    .execute();
}
