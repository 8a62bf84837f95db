// Run archives, one store per kind (SPEC workflow 4): job source, stage logs, persisted data,
// artifacts, provenance, cache and miscellaneous. Each defaults to SLIPWAY_HOME/archives/<kind>, or,
// when the target keeps its blobs in S3, to `<prefix>archives/<kind>/` of the same bucket.
import { join } from "node:path";
import type { BlobStore } from "./blobs/blob-store.js";
import { nestedBackend, openBlobStore, type BlobBackend, type FsBlobBackend, type S3BlobBackend } from "./blobs/open-blob-store.js";

export const ARCHIVE_KINDS = ["job_source", "stage_logs", "persisted_data", "artifacts", "provenance", "cache", "misc"] as const;
export type ArchiveKind = (typeof ARCHIVE_KINDS)[number];

export type ArchiveStores = Record<ArchiveKind, BlobStore>;
/** An archive kind's store: a folder (`path` relative to slipway.yaml or absolute) or an S3 bucket. */
export type ArchiveSpec = (FsBlobBackend & { path: string }) | S3BlobBackend;
export type ArchiveConfig = Partial<Record<ArchiveKind, ArchiveSpec>>;

/**
 * The archive configuration a target uses: each kind as configured (the target's over the project's),
 * and, when the target's `blobs` are in S3, every other kind in the same bucket under `archives/<kind>/`.
 */
export function archiveConfigFor(configured: ArchiveConfig, blobs?: BlobBackend): ArchiveConfig {
  if (blobs?.type !== "s3") return configured;
  const out: ArchiveConfig = { ...configured };
  for (const kind of ARCHIVE_KINDS) out[kind] ??= nestedBackend(blobs, `archives/${kind}/`) as S3BlobBackend;
  return out;
}

export function openArchives(home: string, projectDir: string, config: ArchiveConfig = {}): ArchiveStores {
  const stores = {} as ArchiveStores;
  for (const kind of ARCHIVE_KINDS) {
    const defaultPath = join(home, "archives", kind);
    const spec = config[kind];
    stores[kind] = spec ? openBlobStore(spec, defaultPath, projectDir) : openBlobStore({ type: "fs" }, defaultPath);
  }
  return stores;
}

/** Where each kind lives, for `slipway runs show` and provenance. */
export function archiveLocations(stores: ArchiveStores): Record<ArchiveKind, string> {
  return Object.fromEntries(ARCHIVE_KINDS.map((k) => [k, stores[k].location])) as Record<ArchiveKind, string>;
}
