import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/**
 * The inference table of a home whose state is in PostgreSQL: every server on the database writes the
 * requests it answers here (src/serving/inference-pg.ts), so `endpoints logs` through any of them shows
 * them all, and retention takes each row once. A SQLite home keeps its table in SLIPWAY_HOME/inference.db
 * (src/serving/inference-db.ts, the same columns), not in state.db: nothing is created there.
 * `seq` is the order rows were written in (a rollout step's mark, retention's oldest first).
 */
export async function up(db: Kysely<any>, { key, dialect }: MigrationContext): Promise<void> {
  if (dialect !== "postgres") return;
  await db.schema
    .createTable("inference")
    .addColumn("seq", "bigserial", (c) => c.primaryKey())
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("client_request_id", "text")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("endpoint", key, (c) => c.notNull())
    .addColumn("timestamp", "text", (c) => c.notNull())
    .addColumn("config_version", "integer", (c) => c.notNull())
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("model_version", "integer", (c) => c.notNull())
    .addColumn("status", "integer", (c) => c.notNull())
    .addColumn("latency_ms", "double precision", (c) => c.notNull())
    .addColumn("gateway_ms", "double precision", (c) => c.notNull())
    .addColumn("queue_ms", "double precision", (c) => c.notNull())
    .addColumn("model_ms", "double precision", (c) => c.notNull())
    .addColumn("request", "text")
    .addColumn("response", "text")
    .execute();
  await db.schema.createIndex("inference_by_endpoint").on("inference").columns(["project", "target", "endpoint", "seq"]).execute();
}
