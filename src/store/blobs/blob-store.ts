// Blob storage by key; content-addressed helpers on top (sha256) for bundles, models, scripts, snapshots.
import { sha256 } from "../../util/hash.js";

export interface BlobStore {
  /** Where the blobs live, for people (a folder path, later an s3:// address); never parsed. */
  readonly location: string;
  put(key: string, data: Uint8Array | string): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  has(key: string): Promise<boolean>;
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

/** Stores `data` under its own hash; storing the same content twice writes nothing. Returns the key. */
export async function putContent(store: BlobStore, data: Uint8Array | string, namespace = "sha256"): Promise<string> {
  const key = `${namespace}/${sha256(data)}`;
  if (!(await store.has(key))) await store.put(key, data);
  return key;
}
