import type { Kysely } from "kysely";
import type { MigrationContext } from "./index.js";

/**
 * A model version promoted from another target's registry remembers where it came from (JSON
 * {target, version, at}); promoting the same version again finds it and does nothing.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable("model_versions").addColumn("promoted_from", "text").execute();
}
