import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/** Runs of jobs, their tasks and the task cache. */
export async function up(db: Kysely<any>, { key }: MigrationContext): Promise<void> {
  await db.schema
    .createTable("runs")
    .addColumn("id", key, (c) => c.primaryKey())
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("job", key, (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("params", "text", (c) => c.notNull())
    .addColumn("bundle", "text", (c) => c.notNull())
    .addColumn("config_hash", "text", (c) => c.notNull())
    .addColumn("executor", "text", (c) => c.notNull())
    .addColumn("handle", "text", (c) => c.notNull())
    .addColumn("user", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("created_at", key, (c) => c.notNull())
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .addColumn("heartbeat_at", "bigint")
    .addColumn("error", "text")
    .addColumn("results", "text")
    .addColumn("metrics", "text")
    .addColumn("provenance", "text")
    .addColumn("options", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("runs_by_target").on("runs").columns(["project", "target", "created_at"]).execute();
  await db.schema
    .createTable("run_tasks")
    .addColumn("run_id", key, (c) => c.notNull())
    .addColumn("task", key, (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("exit_code", "integer")
    .addColumn("pid", "integer")
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .addColumn("cached_from", "text")
    .addColumn("cache_key", "text")
    .addColumn("outputs", "text")
    .addColumn("error", "text")
    .addPrimaryKeyConstraint("run_tasks_pk", ["run_id", "task"])
    .execute();
  await db.schema
    .createTable("task_cache")
    .addColumn("cache_key", key, (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("task", "text", (c) => c.notNull())
    .addColumn("outputs", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
}
