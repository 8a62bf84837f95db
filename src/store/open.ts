// Chooses the state and blob backends for a target: the embedded defaults under SLIPWAY_HOME unless
// the target names others (targets.NAME.state: { type: postgres, url: … }, targets.NAME.blobs:
// { type: s3, bucket: … }).
import { join } from "node:path";
import { SlipwayError } from "../errors.js";
import type { BlobStore } from "./blobs/blob-store.js";
import { openBlobStore, type BlobBackend } from "./blobs/open-blob-store.js";
import type { StateStore } from "./state/state-store.js";
import { openSqliteState } from "./state/sqlite/sqlite-state.js";
import { openPostgresState } from "./state/postgres/postgres-state.js";

export { blobStoreAt, type BlobBackend } from "./blobs/open-blob-store.js";

/** A state backend as a target writes it: `{ type: postgres, url: … }` (see targets.NAME.state). */
export interface BackendSpec {
  type: string;
  [option: string]: string | number | boolean;
}

/** The part of a target's configuration that picks its stores. */
export interface StoreChoice {
  state?: BackendSpec;
  blobs?: BlobBackend;
}

export interface Stores {
  state: StateStore;
  blobs: BlobStore;
  /** Where logs and working folders live (always local). */
  home: string;
  close(): Promise<void>;
}

/**
 * Stores shared by the operations that are given it (RuntimeEnv.storePool): the server runs the runs
 * CLIs hand it (src/cli/run-handoff) with SQLite connections it keeps open, instead of opening,
 * migrating and closing the database three times a run. Only SQLite state is shared (a PostgreSQL
 * pool per target would outlive its use); a shared store's close() is a no-op, and the pool closes
 * them all when the server stops. Passed explicitly, not through an AsyncLocalStorage: that would
 * turn on promise hooks for every request the server answers.
 */
export class StorePool {
  private readonly open = new Map<string, Promise<Stores>>();

  /** The shared stores for (home, target), or undefined when they are not shared. */
  get(home: string, target?: StoreChoice): Promise<Stores> | undefined {
    if (target?.state && target.state.type !== "sqlite") return undefined;
    const key = JSON.stringify([home, target?.state ?? null, target?.blobs ?? null]);
    let stores = this.open.get(key);
    if (!stores) {
      stores = openStoresNow(home, target).then((s) => ({ ...s, close: async () => {} }) satisfies Stores);
      stores.catch(() => this.open.delete(key));
      this.open.set(key, stores);
    }
    return stores;
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then((s) => s.state.close()).catch(() => {})));
  }
}

/** The target's stores; from `pool` when one is given and shares them. */
export async function openStores(home: string, target?: StoreChoice, pool?: StorePool): Promise<Stores> {
  return (await pool?.get(home, target)) ?? openStoresNow(home, target);
}

async function openStoresNow(home: string, target?: StoreChoice): Promise<Stores> {
  const blobs = openBlobs(home, target);
  const state = await openState(home, target);
  await state.migrate();
  return { state, blobs, home, close: () => state.close() };
}

async function openState(home: string, target?: StoreChoice): Promise<StateStore> {
  const spec = target?.state;
  if (!spec || spec.type === "sqlite") return openSqliteState(typeof spec?.path === "string" ? spec.path : join(home, "state.db"));
  if (spec.type === "postgres") {
    if (typeof spec.url !== "string") throw new SlipwayError("invalid_backend", "state backend postgres needs `url`", { exitCode: 2, hint: "state: { type: postgres, url: ${env.SLIPWAY_PG_URL} }" });
    return openPostgresState(spec.url);
  }
  throw new SlipwayError("invalid_backend", `unknown state backend "${spec.type}"`, { exitCode: 2, hint: "state backends: sqlite, postgres" });
}

function openBlobs(home: string, target?: StoreChoice): BlobStore {
  return openBlobStore(target?.blobs ?? { type: "fs" }, join(home, "blobs"));
}
