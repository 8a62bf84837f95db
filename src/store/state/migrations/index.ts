// One set of migrations for every dialect, one file per migration (append new ones to the list).
// Types are the portable subset (text, integer, bigint).
import { sql, type Kysely, type Migration, type MigrationProvider, type RawBuilder } from "kysely";
import * as m0001 from "./0001_initial.js";
import * as m0002 from "./0002_runs.js";
import * as m0003 from "./0003_compute.js";
import * as m0004 from "./0004_models.js";
import * as m0005 from "./0005_control_plane.js";
import * as m0006 from "./0006_background.js";
import * as m0007 from "./0007_pipelines.js";
import * as m0008 from "./0008_model_promotions.js";
import * as m0009 from "./0009_target_ttl.js";
import * as m0010 from "./0010_run_cancel_requests.js";
import * as m0011 from "./0011_inference_postgres.js";
import * as m0012 from "./0012_endpoint_notifications.js";

const MIGRATIONS: Record<string, { up(db: Kysely<any>, ctx: MigrationContext): Promise<void> }> = {
  "0001_initial": m0001,
  "0002_runs": m0002,
  "0003_compute": m0003,
  "0004_models": m0004,
  "0005_control_plane": m0005,
  "0006_background": m0006,
  "0007_pipelines": m0007,
  "0008_model_promotions": m0008,
  "0009_target_ttl": m0009,
  "0010_run_cancel_requests": m0010,
  "0011_inference_postgres": m0011,
  "0012_endpoint_notifications": m0012,
};

export interface MigrationContext {
  /**
   * The type of text columns that are keys or sort orders: they compare by code point on every
   * backend. SQLite does by default (BINARY); PostgreSQL would use the database's language collation
   * unless told "C", and then the same state would list (and hash) in a different order.
   */
  key: RawBuilder<unknown>;
  /** For what exists on one backend only (PostgreSQL's inference table: 0011; its notifications: 0012). */
  dialect: "sqlite" | "postgres";
}

export function migrationProvider(dialect: "sqlite" | "postgres"): MigrationProvider {
  const ctx: MigrationContext = { key: dialect === "postgres" ? sql`text collate "C"` : sql`text`, dialect };
  const migrations: Record<string, Migration> = Object.fromEntries(Object.entries(MIGRATIONS).map(([name, m]) => [name, { up: (db: Kysely<any>) => m.up(db, ctx) }]));
  return { getMigrations: async () => migrations };
}
