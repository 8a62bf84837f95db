import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/** The model registry (versions, aliases), access tokens for endpoints, and endpoint serving state. */
export async function up(db: Kysely<any>, { key }: MigrationContext): Promise<void> {
  await db.schema
    .createTable("model_versions")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("model", key, (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("registered_name", "text", (c) => c.notNull())
    .addColumn("flavor", "text", (c) => c.notNull())
    .addColumn("manifest", "text", (c) => c.notNull())
    .addColumn("files", "text", (c) => c.notNull())
    .addColumn("metrics", "text", (c) => c.notNull())
    .addColumn("tags", "text", (c) => c.notNull())
    .addColumn("run_id", "text")
    .addColumn("job", "text")
    .addColumn("bundle", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("model_versions_pk", ["project", "target", "model", "version"])
    .execute();
  await db.schema
    .createTable("model_aliases")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("model", key, (c) => c.notNull())
    .addColumn("alias", key, (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("model_aliases_pk", ["project", "target", "model", "alias"])
    .execute();
  await db.schema
    .createTable("access_tokens")
    .addColumn("token_hash", key, (c) => c.primaryKey())
    .addColumn("user", "text", (c) => c.notNull())
    .addColumn("groups", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
}
