// The bundle manifest: what a bundle holds (every file, flat, in memory), whichever format it is stored in.

export interface BundleFile {
  /** posix, relative to the bundle root */
  path: string;
  /** 0o644 or 0o755 */
  mode: number;
  size: number;
  sha256: string;
}

export interface BundleManifest {
  /** the stored format it was read from: 1, a flat manifest; 2, a tree (see tree.ts) */
  version: 1 | 2;
  /** sorted by path (code point order) */
  files: BundleFile[];
  /** format 2: the hash of the root tree node */
  tree?: string;
}

/** Content of an extra file; a bare string/Buffer gets 0o755 when it starts with "#!", else 0o644. */
export type ExtraFile = string | Buffer | { content: string | Buffer; mode: 0o644 | 0o755 };

export interface CaptureOptions {
  /** folder to capture; honours .gitignore and .slipwayignore (root and nested); .git is always skipped */
  sourceDir?: string;
  /** files added at these bundle paths (e.g. ".slipway/job.json"), replacing source files of the same path */
  extraFiles?: Record<string, ExtraFile>;
  /**
   * File remembering path -> {size, mtime, ctime, inode, sha256} so unchanged files are not read again.
   * An append-only log: a capture appends the entries that changed, never rewrites the whole file
   * (except to compact it when most of its lines are stale; see capture-index.ts).
   */
  indexFile?: string;
  /**
   * "tree" (default): format 2, a tree of directory nodes (trees/<sha256>) under a small record, so a
   * changed file writes O(depth) small nodes. "flat": format 1, one manifest listing every file, for
   * callers that only want the content hash as it was (artifact versions derived from it).
   */
  format?: "tree" | "flat";
}

export interface CaptureResult {
  /** sha256 of the bundle record (format 2) or manifest (format 1) JSON: the bundle's identity */
  hash: string;
  /** blob key of the record or manifest: bundles/<hash>.json */
  key: string;
  manifest: BundleManifest;
  /** bytes this capture wrote to the blob store (new file blobs + new tree nodes + the record or manifest if it was new) */
  bytesWritten: number;
  /** of bytesWritten, the metadata: new tree nodes and the record (format 2), or the manifest (format 1) */
  metadataBytesWritten: number;
  /** tree nodes this capture wrote (format 2; the record is not counted) */
  nodesWritten: number;
  /** bytes appended to (or, when compacted, written into) the capture index; 0 without one */
  indexBytesWritten: number;
  /** sum of the sizes of every file in the bundle */
  bytesTotal: number;
  /** number of file blobs this capture wrote (the manifest is not counted) */
  filesWritten: number;
  /** source paths left out: symlinks leaving sourceDir or dangling, special files, unrepresentable names */
  skipped: string[];
}
