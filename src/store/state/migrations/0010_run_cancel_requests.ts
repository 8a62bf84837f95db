import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/**
 * Cancellation asked from another machine: the process that cancels a run cannot signal a runner on
 * another host, so it records the request here; the runner reads it with its heartbeat and stops.
 * One row per run (a second request changes nothing).
 */
export async function up(db: Kysely<any>, { key }: MigrationContext): Promise<void> {
  await db.schema
    .createTable("run_cancel_requests")
    .addColumn("run_id", key, (c) => c.primaryKey())
    .addColumn("requested_at", "text", (c) => c.notNull())
    .addColumn("requested_by", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .execute();
}
