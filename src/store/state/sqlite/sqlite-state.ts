// Embedded default: one SQLite file (WAL, so readers never block the deploy that holds the lease).
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type Database from "better-sqlite3";
import { Kysely, SqliteDialect, type SqliteDatabase } from "kysely";
import { RefusedError } from "../../../errors.js";
import { StateStore, type MigrationLock } from "../state-store.js";
import type { Database as Schema } from "../tables.js";

export function openSqliteState(file: string): StateStore {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  // The native driver is loaded when a database is opened, not when this module is: commands that
  // never open one (validate, --help) do not pay for it.
  const Sqlite = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
  const sqlite = new Sqlite(file);
  // The busy timeout first: on a new file, switching to WAL needs a lock that another process
  // opening the same file at that moment may hold ("database is locked" at once without it).
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  return new StateStore(new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }), "sqlite", exclusively(sqlite, file));
}

/** Distinct SQL texts kept prepared; the engine's queries are a few dozen shapes. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * better-sqlite3 with its prepared statements kept by SQL text. Kysely prepares every query it runs,
 * and preparing cost more than running in a large deploy (a third of its CPU time at 10,000
 * resources): the same few statement shapes repeat with other parameters. Safe because Kysely's
 * SQLite driver runs one query at a time on its one connection, and nothing here streams (a statement
 * being iterated could not be run again until the iteration ends).
 */
function withStatementCache(sqlite: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      // Kysely opens a transaction with a deferred "begin": its first read takes a snapshot, and its
      // first write must then upgrade to the write lock, which SQLite refuses at once ("database is
      // locked", no busy wait) when another process wrote since. Taking the write lock at the start
      // makes every transaction wait its turn under the busy timeout instead (ten deploys at once on
      // a fresh home, test/attacks/first-use.test.ts).
      const sql = text === "begin" ? "begin immediate" : text;
      let statement = cache.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
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
