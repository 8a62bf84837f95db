// Run archives, one store per kind (SPEC workflow 4): job source, stage logs, persisted data,
// artifacts, provenance, cache and miscellaneous. Each defaults to SLIPWAY_HOME/archives/<kind>.
import { isAbsolute, join, resolve } from "node:path";
import type { BlobStore } from "./blobs/blob-store.js";
import { FsBlobStore } from "./blobs/fs/fs-blob-store.js";

export const ARCHIVE_KINDS = ["job_source", "stage_logs", "persisted_data", "artifacts", "provenance", "cache", "misc"] as const;
export type ArchiveKind = (typeof ARCHIVE_KINDS)[number];

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
  return Object.fromEntries(ARCHIVE_KINDS.map((k) => [k, stores[k].location])) as Record<ArchiveKind, string>;
}
