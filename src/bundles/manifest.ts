// The bundle manifest: what a bundle holds, and the blob keys it lives under.

export interface BundleFile {
  /** posix, relative to the bundle root */
  path: string;
  /** 0o644 or 0o755 */
  mode: number;
  size: number;
  sha256: string;
}

export interface BundleManifest {
  version: 1;
  /** sorted by path (code point order) */
  files: BundleFile[];
}

/** Content of an extra file; a bare string/Buffer gets 0o755 when it starts with "#!", else 0o644. */
export type ExtraFile = string | Buffer | { content: string | Buffer; mode: 0o644 | 0o755 };

export interface CaptureOptions {
  /** folder to capture; honours .gitignore and .slipwayignore (root and nested); .git is always skipped */
  sourceDir?: string;
  /** files added at these bundle paths (e.g. ".slipway/job.json"), replacing source files of the same path */
  extraFiles?: Record<string, ExtraFile>;
  /** JSON file remembering path -> {size, mtime, sha256} so unchanged files are not read again */
  indexFile?: string;
}

export interface CaptureResult {
  /** sha256 of the manifest JSON: the bundle's identity */
  hash: string;
  /** blob key of the manifest: bundles/<hash>.json */
  key: string;
  manifest: BundleManifest;
  /** bytes this capture wrote to the blob store (new file blobs + the manifest if it was new) */
  bytesWritten: number;
  /** sum of the sizes of every file in the bundle */
  bytesTotal: number;
  /** number of file blobs this capture wrote (the manifest is not counted) */
  filesWritten: number;
  /** source paths left out: symlinks leaving sourceDir or dangling, special files, unrepresentable names */
  skipped: string[];
}
