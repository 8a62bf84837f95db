// Embedded default: one SQLite file (WAL, so readers never block the deploy that holds the lease).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { RefusedError } from "../../../errors.js";
import { StateStore, type MigrationLock } from "../state-store.js";
import type { Database as Schema } from "../tables.js";

export function openSqliteState(file: string): StateStore {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  // The busy timeout first: on a new file, switching to WAL needs a lock that another process
  // opening the same file at that moment may hold ("database is locked" at once without it).
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  return new StateStore(new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) }), "sqlite", exclusively(sqlite, file));
}

const BUSY_TIMEOUT_MS = 10_000;

/**
 * The migration lock on SQLite: an exclusive (IMMEDIATE) write transaction around the whole migration
 * run, so two processes opening a fresh file at once never both create the tables. Waiting is done
 * by polling (not SQLite's blocking busy handler), so stores in one process never block each other's
 * event loop. Not acquired within the busy timeout: refused (exit 3) as "locked by another process".
 */
function exclusively(sqlite: Database.Database, file: string): MigrationLock {
  return async (fn) => {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    sqlite.pragma("busy_timeout = 0");
    try {
      for (;;) {
        try {
          sqlite.exec("BEGIN IMMEDIATE");
          break;
        } catch (e) {
          if ((e as { code?: string }).code !== "SQLITE_BUSY") throw e;
          if (Date.now() > deadline) {
            throw new RefusedError("state_locked", `the state database ${file} is locked by another process (migrating or writing) for over ${BUSY_TIMEOUT_MS / 1000}s`, {
              hint: "try again in a moment; if it persists, look for a stuck slipway process using this SLIPWAY_HOME",
            });
          }
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
        }
      }
    } finally {
      sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    try {
      const result = await fn();
      sqlite.exec("COMMIT");
      return result;
    } catch (e) {
      if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
      throw e;
    }
  };
}
