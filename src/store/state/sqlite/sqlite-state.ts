// Embedded default: one SQLite file (WAL, so readers never block the deploy that holds the lease).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { StateStore } from "../state-store.js";
import type { Database as Schema } from "../tables.js";

export function openSqliteState(file: string): StateStore {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 10000");
  return new StateStore(new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) }), "sqlite");
}
