import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/**
 * Target-wide TTLs (`ttl: { after: 24h }`): one row per target with its clock (restarted by each
 * deploy, which also bumps `generation` and so cancels a pending deletion), pins and extensions, and
 * the state of its deletion (attempts, the next retry, the last error). The deliveries of its
 * notifications: the row is the claim, so each event is sent once per channel and generation.
 */
export async function up(db: Kysely<any>, { key }: MigrationContext): Promise<void> {
  await db.schema
    .createTable("target_ttls")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("dir", "text", (c) => c.notNull())
    .addColumn("deployed_by", "text", (c) => c.notNull())
    .addColumn("deployed_at", "text", (c) => c.notNull())
    .addColumn("after", "text", (c) => c.notNull())
    .addColumn("notify_before", "text")
    .addColumn("channels", "text", (c) => c.notNull())
    .addColumn("generation", "integer", (c) => c.notNull())
    .addColumn("due_ms", "bigint", (c) => c.notNull())
    .addColumn("extended_ms", "bigint", (c) => c.notNull())
    .addColumn("pinned_by", "text")
    .addColumn("pinned_at", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("next_attempt_ms", "bigint")
    .addColumn("last_error", "text")
    .addColumn("finished_at", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("target_ttls_pk", ["project", "target"])
    .execute();
  await db.schema
    .createTable("target_ttl_deliveries")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("generation", "integer", (c) => c.notNull())
    .addColumn("event", key, (c) => c.notNull())
    .addColumn("channel", "integer", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("target_ttl_deliveries_pk", ["project", "target", "generation", "event", "channel"])
    .execute();
}
