// Team backend: PostgreSQL through the same Kysely queries and migrations as SQLite.
import { createRequire } from "node:module";
import { Kysely, PostgresDialect } from "kysely";
import { StateStore } from "../state-store.js";
import type { Database as Schema } from "../tables.js";

export async function openPostgresState(connectionString: string): Promise<StateStore> {
  // Loaded only for targets that use PostgreSQL (require, not import(): the CLI bundle is CommonJS).
  const { Pool, types } = createRequire(import.meta.url)("pg") as typeof import("pg");
  // bigint columns (lease expiry) come back as numbers; they stay far below 2^53.
  types.setTypeParser(20, (v: string) => Number(v));
  const pool = new Pool({ connectionString, max: 4 });
  // An idle connection the server closed (restart, admin command) is replaced by the pool on next use;
  // without a listener, pg would raise it as an uncaught error and end the process.
  pool.on("error", () => {});
  return new StateStore(new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }), "postgres");
}
