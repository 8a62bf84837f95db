// A blob store from its configuration (`blobs:` of a target, an archive kind, the server's) or from
// its `location` (BlobStore.location, e.g. recorded in an endpoint's outputs).
import { isAbsolute, resolve } from "node:path";
import { SlipwayError } from "../../errors.js";
import type { BlobStore } from "./blob-store.js";
import { FsBlobStore } from "./fs/fs-blob-store.js";
import { S3BlobStore, parseS3Location } from "./s3/s3-blob-store.js";

/** A folder on this machine. */
export interface FsBlobBackend {
  type: "fs";
  /** Absolute, or relative to the folder the caller says (slipway.yaml's). */
  path?: string;
}

/** A bucket of an S3-compatible object store (AWS S3 when no endpoint). */
export interface S3BlobBackend {
  type: "s3";
  bucket: string;
  prefix?: string;
  endpoint?: string;
  region?: string;
  profile?: string;
  path_style?: boolean;
}

export type BlobBackend = FsBlobBackend | S3BlobBackend;

export const BLOB_BACKENDS = ["fs", "s3"] as const;

/**
 * Opens the store `spec` names. `defaultPath`: the folder of an fs store without `path`;
 * `relativeTo`: the folder a relative `path` is resolved from.
 */
export function openBlobStore(spec: BlobBackend, defaultPath: string, relativeTo: string = process.cwd()): BlobStore {
  if (spec.type === "fs") return new FsBlobStore(spec.path ? (isAbsolute(spec.path) ? spec.path : resolve(relativeTo, spec.path)) : defaultPath);
  if (spec.type === "s3") {
    if (typeof spec.bucket !== "string" || spec.bucket === "") throw new SlipwayError("invalid_backend", "blob backend s3 needs `bucket`", { hint: "blobs: { type: s3, bucket: NAME, prefix: …, endpoint: …, region: … }" });
    return new S3BlobStore({ bucket: spec.bucket, prefix: spec.prefix, endpoint: spec.endpoint, region: spec.region, profile: spec.profile, forcePathStyle: spec.path_style });
  }
  throw new SlipwayError("invalid_backend", `unknown blob backend "${(spec as { type: string }).type}"`, { hint: `blob backends: ${BLOB_BACKENDS.join(", ")}` });
}

/** The same backend one level down: an s3 store's prefix gets `sub` appended; an fs store is the folder `defaultPath`. */
export function nestedBackend(spec: BlobBackend, sub: string): BlobBackend {
  if (spec.type !== "s3") return spec;
  const base = spec.prefix ? (spec.prefix.endsWith("/") ? spec.prefix : `${spec.prefix}/`) : "";
  return { ...spec, prefix: `${base}${sub}` };
}

/** Reopens a blob store from its `location`: `s3://BUCKET/PREFIX?endpoint=…&region=…`, else a folder. */
export function blobStoreAt(location: string): BlobStore {
  const s3 = parseS3Location(location);
  if (s3) return new S3BlobStore(s3);
  return new FsBlobStore(location);
}
