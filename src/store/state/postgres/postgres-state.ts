// Team backend: PostgreSQL through the same Kysely queries and migrations as SQLite.
import { Kysely, PostgresDialect } from "kysely";
import { StateStore } from "../state-store.js";
import type { Database as Schema } from "../tables.js";

export async function openPostgresState(connectionString: string): Promise<StateStore> {
  const pg = await import("pg");
  const { Pool, types } = pg.default ?? pg;
  // bigint columns (lease expiry) come back as numbers; they stay far below 2^53.
  types.setTypeParser(20, (v: string) => Number(v));
  const pool = new Pool({ connectionString, max: 4 });
  return new StateStore(new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }), "postgres");
}
