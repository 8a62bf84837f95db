import { sql, type Kysely } from "kysely";
import type { MigrationContext } from "./index.js";
import { ENDPOINT_CHANGES } from "../notifications.js";

/**
 * PostgreSQL tells listening servers when an endpoint's record changes: a trigger on `resources` sends
 * a notification on the ENDPOINT_CHANGES channel (payload "project/target") for every insert, update
 * or delete of an endpoint row, delivered when the writing transaction commits. Several servers on one
 * database then follow a deploy through another server at once instead of at their next look at the
 * state (src/serving/endpoint-sync.ts). Whoever writes the record (a server, a CLI on the database)
 * notifies, without code of its own. SQLite has no such mechanism and a SQLite home has one server:
 * nothing is created there.
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  if (dialect !== "postgres") return;
  // The kind is tested in the function: a trigger for several events cannot name OLD or NEW in WHEN.
  await sql`
    create function slipway_notify_endpoint_change() returns trigger language plpgsql as $$
    begin
      if (tg_op = 'DELETE' and old.kind = 'endpoint') or (tg_op <> 'DELETE' and new.kind = 'endpoint') then
        perform pg_notify(${sql.lit(ENDPOINT_CHANGES)}, case when tg_op = 'DELETE' then old.project || '/' || old.target else new.project || '/' || new.target end);
      end if;
      return null;
    end
    $$`.execute(db);
  await sql`create trigger resources_endpoint_changes after insert or update or delete on resources for each row execute function slipway_notify_endpoint_change()`.execute(db);
}
