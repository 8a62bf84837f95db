// Chooses the state and blob backends for a target: the embedded defaults under SLIPWAY_HOME unless
// the target names others (targets.NAME.state: { type: postgres, url: … }).
import { join } from "node:path";
import { SlipwayError } from "../errors.js";
import type { BlobStore } from "./blobs/blob-store.js";
import { FsBlobStore } from "./blobs/fs/fs-blob-store.js";
import type { StateStore } from "./state/state-store.js";
import { openSqliteState } from "./state/sqlite/sqlite-state.js";
import { openPostgresState } from "./state/postgres/postgres-state.js";

/** A backend choice as a target writes it: `{ type: postgres, url: … }` (see targets.NAME.state / blobs). */
export interface BackendSpec {
  type: string;
  [option: string]: string | number | boolean;
}

/** The part of a target's configuration that picks its stores. */
export interface StoreChoice {
  state?: BackendSpec;
  blobs?: BackendSpec;
}

export interface Stores {
  state: StateStore;
  blobs: BlobStore;
  /** Where logs and working folders live (always local). */
  home: string;
  close(): Promise<void>;
}

export async function openStores(home: string, target?: StoreChoice): Promise<Stores> {
  const state = await openState(home, target);
  await state.migrate();
  const blobs = openBlobs(home, target);
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

/** Reopens a blob store from its `location` (see BlobStore.location): a folder today. */
export function blobStoreAt(location: string): BlobStore {
  return new FsBlobStore(location);
}

function openBlobs(home: string, target?: StoreChoice): BlobStore {
  const spec = target?.blobs;
  if (!spec || spec.type === "fs") return new FsBlobStore(typeof spec?.path === "string" ? spec.path : join(home, "blobs"));
  throw new SlipwayError("invalid_backend", `unknown blob backend "${spec.type}"`, { exitCode: 2, hint: "blob backends: fs" });
}
