import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/** Resources, deployments (revisions), the apply journal, settings and deploy locks. */
export async function up(db: Kysely<any>, { key }: MigrationContext): Promise<void> {
  await db.schema
    .createTable("resources")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("address", key, (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("module", key, (c) => c.notNull())
    .addColumn("phase", "integer", (c) => c.notNull())
    .addColumn("spec_hash", "text", (c) => c.notNull())
    .addColumn("spec", "text", (c) => c.notNull())
    .addColumn("depends_on", "text", (c) => c.notNull())
    .addColumn("outputs", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("resources_pk", ["project", "target", "address"])
    .execute();
  await db.schema
    .createTable("deployments")
    .addColumn("id", key, (c) => c.primaryKey())
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("operation", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("revision", "integer")
    .addColumn("user", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("pid", "integer", (c) => c.notNull())
    .addColumn("started_at", key, (c) => c.notNull())
    .addColumn("finished_at", "text")
    .addColumn("summary", "text", (c) => c.notNull())
    .addColumn("snapshot", "text")
    .addColumn("state_hash", "text")
    .addColumn("error", "text")
    .addColumn("options", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("deployments_by_target").on("deployments").columns(["project", "target", "started_at"]).execute();
  await db.schema
    .createIndex("deployments_revision")
    .on("deployments")
    .columns(["project", "target", "revision"])
    .unique()
    .execute();
  await db.schema
    .createTable("journal")
    .addColumn("deployment_id", key, (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .addColumn("error", "text")
    .addColumn("child_pid", "integer")
    .addPrimaryKeyConstraint("journal_pk", ["deployment_id", "seq"])
    .execute();
  await db.schema
    .createTable("settings")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("module", key, (c) => c.notNull())
    .addColumn("key", key, (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("settings_pk", ["project", "target", "module", "key"])
    .execute();
  await db.schema
    .createTable("locks")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("token", "text", (c) => c.notNull())
    .addColumn("operation", "text", (c) => c.notNull())
    .addColumn("owner_user", "text", (c) => c.notNull())
    .addColumn("owner_host", "text", (c) => c.notNull())
    .addColumn("owner_pid", "integer", (c) => c.notNull())
    .addColumn("acquired_at", "text", (c) => c.notNull())
    .addColumn("heartbeat_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("locks_pk", ["project", "target"])
    .execute();
}
