import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/**
 * The control plane's identity, permissions and audit log (src/server/auth): principals (users and
 * service principals), group membership, grants made through the API, target owners, the hash-chained
 * audit log; access tokens get an expiry and a revocation time.
 */
export async function up(db: Kysely<any>, { key }: MigrationContext): Promise<void> {
  await db.schema.alterTable("access_tokens").addColumn("expires_at", "text").execute();
  await db.schema.alterTable("access_tokens").addColumn("revoked_at", "text").execute();
  await db.schema
    .createTable("principals")
    .addColumn("name", key, (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("admin", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("group_members")
    .addColumn("group_name", key, (c) => c.notNull())
    .addColumn("member", key, (c) => c.notNull())
    .addColumn("added_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("group_members_pk", ["group_name", "member"])
    .execute();
  await db.schema
    .createTable("grants")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("resource", key, (c) => c.notNull())
    .addColumn("principal_kind", key, (c) => c.notNull())
    .addColumn("principal", key, (c) => c.notNull())
    .addColumn("level", key, (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("grants_pk", ["project", "target", "resource", "principal_kind", "principal", "level"])
    .execute();
  await db.schema
    .createTable("target_owners")
    .addColumn("project", key, (c) => c.notNull())
    .addColumn("target", key, (c) => c.notNull())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("since", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("target_owners_pk", ["project", "target"])
    .execute();
  await db.schema
    .createTable("audit_log")
    .addColumn("seq", "integer", (c) => c.primaryKey())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("project", "text", (c) => c.notNull())
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("client", "text", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("detail", "text", (c) => c.notNull())
    .addColumn("prev_hash", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();
}
