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

export async function openStores(home: string, target?: StoreChoice): Promise<Stores> {
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
