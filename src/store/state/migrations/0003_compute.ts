import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/**
 * Compute environments (Python virtual environments: deployed ones and the per-run instances of
 * ephemeral ones) and the artifact versions installed in each, so `artifacts list` and `artifacts gc`
 * know what is in use and `artifacts install` can change one environment's version.
 */
export async function up(db: Kysely<any>, { key }: MigrationContext): Promise<void> {
  await db.schema
    .createTable("compute_environments")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("name", key, (c) => c.notNull())
    .addColumn("instance", key, (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("python", "text", (c) => c.notNull())
    .addColumn("python_version", "text", (c) => c.notNull())
    .addColumn("ephemeral", "integer", (c) => c.notNull())
    .addColumn("run_id", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("compute_environments_pk", ["project", "target", "name", "instance"])
    .execute();
  await db.schema
    .createTable("compute_installs")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("environment", key, (c) => c.notNull())
    .addColumn("instance", key, (c) => c.notNull())
    .addColumn("artifact", key, (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("package", "text", (c) => c.notNull())
    .addColumn("filename", "text", (c) => c.notNull())
    .addColumn("installed_at", "text", (c) => c.notNull())
    .addColumn("installed_by", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("compute_installs_pk", ["project", "target", "environment", "instance", "artifact"])
    .execute();
  await db.schema.createIndex("compute_installs_by_artifact").on("compute_installs").columns(["project", "target", "artifact"]).execute();
}
