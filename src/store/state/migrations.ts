// One set of migrations for every dialect. Types are the portable subset (text, integer, bigint).
import { sql, type Kysely, type Migration, type MigrationProvider } from "kysely";

/**
 * Text columns that are keys or sort orders compare by code point on every backend: SQLite does by
 * default (BINARY); PostgreSQL would use the database's language collation unless told "C", and then
 * the same state would list (and hash) in a different order.
 */
function keyText(dialect: "sqlite" | "postgres") {
  return dialect === "postgres" ? sql`text collate "C"` : sql`text`;
}

function migrations(dialect: "sqlite" | "postgres"): Record<string, Migration> {
  const key = keyText(dialect);
  return {
  "0001_initial": {
    async up(db: Kysely<any>) {
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
    },
  },
  "0002_runs": {
    async up(db: Kysely<any>) {
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
    },
  },
  };
}

export function migrationProvider(dialect: "sqlite" | "postgres"): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
