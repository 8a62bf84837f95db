// Run archives, one store per kind (SPEC workflow 4): job source, stage logs, persisted data,
// artifacts, provenance, cache and miscellaneous. Each defaults to SLIPWAY_HOME/archives/<kind>.
import { isAbsolute, join, resolve } from "node:path";
import { ARCHIVE_KINDS, type ArchiveKind } from "../config/schema.js";
import type { BlobStore } from "./blobs/blob-store.js";
import { FsBlobStore } from "./blobs/fs/fs-blob-store.js";

export type ArchiveStores = Record<ArchiveKind, BlobStore>;
export type ArchiveConfig = Partial<Record<ArchiveKind, { type: "fs"; path: string }>>;

export function openArchives(home: string, projectDir: string, config: ArchiveConfig = {}): ArchiveStores {
  const stores = {} as ArchiveStores;
  for (const kind of ARCHIVE_KINDS) {
    const spec = config[kind];
    const path = spec ? (isAbsolute(spec.path) ? spec.path : resolve(projectDir, spec.path)) : join(home, "archives", kind);
    stores[kind] = new FsBlobStore(path);
  }
  return stores;
}

/** Where each kind lives, for `slipway runs show` and provenance. */
export function archiveLocations(stores: ArchiveStores): Record<ArchiveKind, string> {
  return Object.fromEntries(ARCHIVE_KINDS.map((k) => [k, (stores[k] as FsBlobStore).root])) as Record<ArchiveKind, string>;
}
