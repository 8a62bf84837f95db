// Real state stores for tests of code on the state database: a SQLite file in a temp folder, and a
// fresh database on the PostgreSQL server `npm test` starts (SLIPWAY_TEST_PG_URL), dropped at the end.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openPostgresState } from "../../src/store/state/postgres/postgres-state.js";
import { openSqliteState } from "../../src/store/state/sqlite/sqlite-state.js";
import type { StateStore } from "../../src/store/state/state-store.js";

export interface StateBackend {
  name: "sqlite" | "postgres";
  /** Why its tests are skipped here, if they are. */
  skip?: string;
  /** A new, migrated, empty state database; `open` gives more connections to the same one. */
  create(): Promise<{ state: StateStore; open(): Promise<StateStore>; /** The PostgreSQL database's URL (postgres only). */ url?: string }>;
  cleanup(): Promise<void>;
}

/** One statement on a PostgreSQL server through a connection of its own (CREATE/DROP DATABASE cannot run in a transaction). */
export async function adminSql(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export function stateBackends(pgUrl = process.env.SLIPWAY_TEST_PG_URL || undefined): StateBackend[] {
  let dir: string | undefined;
  let n = 0;
  const sqlite: StateBackend = {
    name: "sqlite",
    async create() {
      dir ??= mkdtempSync(join(tmpdir(), "slipway-state-"));
      const file = join(dir, `state-${++n}.db`);
      const state = openSqliteState(file);
      await state.migrate();
      return { state, open: async () => openSqliteState(file) };
    },
    async cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  const created: string[] = [];
  const admin = (sql: string) => adminSql(pgUrl!, sql);
  const postgres: StateBackend = {
    name: "postgres",
    skip: pgUrl ? undefined : "SLIPWAY_TEST_PG_URL is not set (npm test starts a PostgreSQL server)",
    async create() {
      const name = `slipway_bg_${process.pid}_${randomBytes(4).toString("hex")}`;
      await admin(`CREATE DATABASE ${name}`);
      created.push(name);
      const u = new URL(pgUrl!);
      u.pathname = `/${name}`;
      const state = await openPostgresState(u.toString());
      await state.migrate();
      return { state, open: () => openPostgresState(u.toString()), url: u.toString() };
    },
    async cleanup() {
      for (const name of created.splice(0)) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
  return [sqlite, postgres];
}
