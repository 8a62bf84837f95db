// Building an artifact: the type's builder makes one file from the package folder, in a scratch
// folder; the file and a build record (version, sha256, size, what the sources hashed to) are kept
// under SLIPWAY_HOME/builds/<project>/<artifact>/ until `artifacts publish` uploads them.
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { iso, type Clock } from "../clock.js";
import { VERSION } from "../config/schema.js";
import { InvalidInputError, SlipwayError } from "../errors.js";
import { captureBundle } from "../bundles/index.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { sha256 } from "../util/hash.js";
import { builderFor } from "./builders/index.js";
import type { ArtifactSpec } from "./builders/builder.js";

export interface BuildRecord {
  project: string;
  artifact: string;
  type: ArtifactSpec["type"];
  version: string;
  /** The name installers know it by (a wheel's distribution name, an npm package's name). */
  package: string;
  filename: string;
  /** Where the built file is kept (under SLIPWAY_HOME/builds). */
  file: string;
  sha256: string;
  size: number;
  /** Content hash of the package folder when it was built (what .gitignore leaves). */
  source_sha256: string;
  built_at: string;
  built_by: string;
  duration_ms: number;
}

export function buildDir(home: string, project: string, artifact: string): string {
  return join(home, "builds", project, artifact);
}

const RECORD = "build.json";

export async function readBuildRecord(home: string, project: string, artifact: string): Promise<BuildRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(buildDir(home, project, artifact), RECORD), "utf8")) as BuildRecord;
  } catch {
    return undefined;
  }
}

/** A store that keeps nothing: capturing into it only hashes. */
const hashOnly: BlobStore = {
  location: "nowhere (hashing only)",
  put: async () => {},
  putFile: async () => {},
  get: async () => undefined,
  getFile: async () => false,
  has: async () => true,
  list: async () => [],
  delete: async () => {},
};

/**
 * Content hash of a folder: paths, modes and contents of what .gitignore / .slipwayignore leave.
 * With `home`, an index under home/cache remembers each file's size, mtime and hash, so files that
 * did not change are not read again.
 */
export async function hashFolder(dir: string, home?: string): Promise<string> {
  const indexFile = home ? join(home, "cache", "artifact-index", `${sha256(resolve(dir)).slice(0, 16)}.json`) : undefined;
  // format 1 (flat): the hash, and so a derived version, stays what it was before bundles became trees
  return (await captureBundle(hashOnly, { sourceDir: dir, indexFile, format: "flat" })).hash;
}

export interface BuildOptions {
  project: string;
  artifact: string;
  spec: ArtifactSpec;
  /** The package folder (absolute). */
  dir: string;
  home: string;
  user: string;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  onLine?(stream: "stdout" | "stderr", line: string): void;
  signal?: AbortSignal;
}

export async function buildArtifact(options: BuildOptions): Promise<BuildRecord> {
  const { spec, artifact } = options;
  if (!existsSync(options.dir)) {
    throw new InvalidInputError([{ message: `artifact ${artifact}: folder ${spec.path} does not exist`, hint: "the path is relative to module.yaml" }], "invalid_package");
  }
  const started = options.clock.now();
  const scratch = await mkdtemp(join(tmpdir(), "slipway-build-"));
  try {
    const outDir = join(scratch, "out");
    await mkdir(outDir);
    const sourceHash = await hashFolder(options.dir, options.home);
    const built = await builderFor(spec.type).build({
      name: artifact,
      dir: options.dir,
      spec,
      outDir,
      env: options.env,
      onLine: options.onLine ?? (() => {}),
      signal: options.signal,
    });
    if (!VERSION.test(built.version)) {
      throw new SlipwayError("build_failed", `artifact ${artifact}: version "${built.version}" cannot name a stored version`, { hint: "versions use letters, digits, '.', '_', '+', '!' and '-'" });
    }
    const data = await readFile(built.file);
    const filename = basename(built.file);
    const dir = buildDir(options.home, options.project, artifact);
    await mkdir(dir, { recursive: true });
    const previous = await readBuildRecord(options.home, options.project, artifact);
    const kept = join(dir, filename);
    await copyFile(built.file, `${kept}.tmp`);
    await rename(`${kept}.tmp`, kept);
    const record: BuildRecord = {
      project: options.project,
      artifact,
      type: spec.type,
      version: built.version,
      package: built.package,
      filename,
      file: kept,
      sha256: sha256(data),
      size: (await stat(kept)).size,
      source_sha256: sourceHash,
      built_at: iso(options.clock.now()),
      built_by: options.user,
      duration_ms: options.clock.now() - started,
    };
    await writeFile(join(dir, `${RECORD}.tmp`), JSON.stringify(record, null, 2) + "\n");
    await rename(join(dir, `${RECORD}.tmp`), join(dir, RECORD));
    if (previous && previous.filename !== filename) await rm(join(dir, previous.filename), { force: true });
    return record;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
