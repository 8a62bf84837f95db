import { sql, type Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/**
 * Background work of the server (schedules, endpoint TTLs, retention, lost runs): why a run started
 * (`runs.trigger`, `runs.trigger_ref`), each schedule's fire times (the row is the claim: one per due
 * time, so two servers never fire one twice), pause overrides, leases on other units of work, the
 * last and next run of each loop, and where each deployed project lives (the server compiles it to
 * start a run or collect garbage).
 */
export async function up(db: Kysely<any>, { key }: MigrationContext): Promise<void> {
  await db.schema.alterTable("runs").addColumn("trigger", "text", (c) => c.notNull().defaultTo(sql`'manual'`)).execute();
  await db.schema.alterTable("runs").addColumn("trigger_ref", "text").execute();
  await db.schema
    .createTable("schedule_fires")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("schedule", key, (c) => c.notNull())
    .addColumn("due_at", key, (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("run_id", "text")
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("claimed_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("message", "text")
    .addPrimaryKeyConstraint("schedule_fires_pk", ["project", "target", "schedule", "due_at"])
    .execute();
  await db.schema.createIndex("schedule_fires_by_status").on("schedule_fires").columns(["status"]).execute();
  await db.schema
    .createTable("schedule_states")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("schedule", key, (c) => c.notNull())
    .addColumn("paused", "integer", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("updated_by", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("schedule_states_pk", ["project", "target", "schedule"])
    .execute();
  await db.schema
    .createTable("background_leases")
    .addColumn("key", key, (c) => c.primaryKey())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("acquired_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .addColumn("outcome", "text")
    .execute();
  await db.schema
    .createTable("background_status")
    .addColumn("unit", key, (c) => c.primaryKey())
    .addColumn("owner", "text")
    .addColumn("last_started_at", "text")
    .addColumn("last_finished_at", "text")
    .addColumn("last_outcome", "text")
    .addColumn("last_message", "text")
    .addColumn("next_at", "text")
    .execute();
  await db.schema
    .createTable("background_targets")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("dir", "text", (c) => c.notNull())
    .addColumn("retention", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("background_targets_pk", ["project", "target"])
    .execute();
}
