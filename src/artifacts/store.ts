// Published artifact versions in a target's artifact store (archives.artifacts, a BlobStore):
//
//   <project>/<artifact>/targets/<target>/<version>.json    one small metadata document per version
//   <project>/<artifact>/files/<sha256>/<filename>           the content, once per distinct content
//   <project>/<artifact>/files/<sha256>/refs/<target>/<version>   which versions use that content
//
// Versions are immutable: publishing a version again with the same content changes nothing, with
// other content it is refused. Listing reads the metadata documents only, never the contents. The
// target is part of every key because targets may share one store (the embedded default does); the
// content is then stored once for all of them.
import { RefusedError, SlipwayError } from "../errors.js";
import type { ArtifactType } from "../config/schema.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { sha256 } from "../util/hash.js";

export interface ArtifactVersion {
  project: string;
  target: string;
  artifact: string;
  version: string;
  type: ArtifactType;
  /** What installers know it by (a wheel's distribution name, an npm package's name). */
  package: string;
  filename: string;
  sha256: string;
  size: number;
  created_at: string;
  published_by: string;
  /** Content hash of the package folder it was built from. */
  source_sha256?: string;
  /** Set on a version promoted from another target's store (`artifacts promote`). */
  promoted_from?: { target: string; version: string; at: string };
}

export type PublishOutcome = "published" | "unchanged";

const LIST_CONCURRENCY = 32;

export class ArtifactStore {
  constructor(
    readonly blobs: BlobStore,
    readonly project: string,
    readonly target: string,
  ) {}

  private versionsPrefix(artifact: string): string {
    return `${this.project}/${artifact}/targets/${this.target}/`;
  }

  metadataKey(artifact: string, version: string): string {
    return `${this.versionsPrefix(artifact)}${version}.json`;
  }

  contentKey(v: Pick<ArtifactVersion, "artifact" | "sha256" | "filename">): string {
    return `${this.project}/${v.artifact}/files/${v.sha256}/${v.filename}`;
  }

  private refKey(v: Pick<ArtifactVersion, "artifact" | "sha256" | "version">): string {
    return `${this.project}/${v.artifact}/files/${v.sha256}/refs/${this.target}/${v.version}`;
  }

  async get(artifact: string, version: string): Promise<ArtifactVersion | undefined> {
    const data = await this.blobs.get(this.metadataKey(artifact, version));
    return data ? (JSON.parse(data.toString("utf8")) as ArtifactVersion) : undefined;
  }

  /** Version names only, from the keys (nothing is read). */
  async versionNames(artifact: string): Promise<string[]> {
    const prefix = this.versionsPrefix(artifact);
    return (await this.blobs.list(prefix)).filter((k) => k.endsWith(".json") && !k.slice(prefix.length).includes("/")).map((k) => k.slice(prefix.length, -".json".length));
  }

  /** Every published version's metadata, newest first. */
  async list(artifact: string): Promise<ArtifactVersion[]> {
    const names = await this.versionNames(artifact);
    const out: ArtifactVersion[] = new Array(names.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < names.length; i = next++) {
        const v = await this.get(artifact, names[i]!);
        if (v) out[i] = v;
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_CONCURRENCY, names.length) }, worker));
    return sortNewestFirst(out.filter(Boolean));
  }

  /**
   * Publishes one version. The same version with the same content is a no-op; with other content it
   * is refused (exit code 3) and nothing is written. `verified`: the caller has checked `data` against
   * meta.sha256 already (publishing one file to several targets hashes it once).
   */
  async publish(meta: Omit<ArtifactVersion, "project" | "target">, data: Buffer, options: { verified?: boolean } = {}): Promise<PublishOutcome> {
    if (data.length !== meta.size || (!options.verified && sha256(data) !== meta.sha256)) throw new SlipwayError("artifact_corrupt", `${meta.artifact} ${meta.version}: the file does not match its recorded sha256 and size`, { hint: "build it again" });
    const existing = await this.get(meta.artifact, meta.version);
    if (existing) {
      if (existing.sha256 === meta.sha256) return "unchanged";
      throw immutable(this.target, existing, meta.sha256);
    }
    const full: ArtifactVersion = { ...meta, project: this.project, target: this.target };
    // Content first, metadata last: the version exists once its metadata does.
    const contentKey = this.contentKey(full);
    if (!(await this.blobs.has(contentKey))) await this.blobs.put(contentKey, data);
    await this.blobs.put(this.refKey(full), "");
    await this.blobs.put(this.metadataKey(full.artifact, full.version), JSON.stringify(full, null, 2) + "\n");
    return "published";
  }

  /** Throws the immutability refusal if publishing `sha` as this version would change it. */
  async check(artifact: string, version: string, sha: string): Promise<"new" | "unchanged"> {
    const existing = await this.get(artifact, version);
    if (!existing) return "new";
    if (existing.sha256 === sha) return "unchanged";
    throw immutable(this.target, existing, sha);
  }

  /** The content of a version, checked against its sha256. */
  async content(v: ArtifactVersion): Promise<Buffer> {
    const data = await this.blobs.get(this.contentKey(v));
    if (!data) throw new SlipwayError("artifact_content_missing", `${v.artifact} ${v.version}: its content (${v.filename}) is missing from the ${this.target} artifact store`, { hint: "publish it again from a build of the same sources" });
    if (sha256(data) !== v.sha256) throw new SlipwayError("artifact_corrupt", `${v.artifact} ${v.version}: the stored content does not match its sha256 ${v.sha256.slice(0, 12)}`);
    return data;
  }

  /** Removes a version: metadata first (it no longer exists), then its content if no other version uses it. */
  async delete(v: ArtifactVersion): Promise<{ freedBytes: number }> {
    await this.blobs.delete(this.metadataKey(v.artifact, v.version));
    await this.blobs.delete(this.refKey(v));
    const refs = await this.blobs.list(`${this.project}/${v.artifact}/files/${v.sha256}/refs/`);
    if (refs.length > 0) return { freedBytes: 0 };
    await this.blobs.delete(this.contentKey(v));
    return { freedBytes: v.size };
  }

  /**
   * Content nobody refers to any more (left by a process that stopped between writing content and
   * metadata, or between deleting them): removed, with its dangling references. Returns bytes freed.
   */
  async sweep(artifact: string): Promise<number> {
    const prefix = `${this.project}/${artifact}/files/`;
    const keys = await this.blobs.list(prefix);
    const bySha = new Map<string, { content: string[]; refs: string[] }>();
    for (const key of keys) {
      const [sha, ...rest] = key.slice(prefix.length).split("/");
      const entry = bySha.get(sha!) ?? { content: [], refs: [] };
      (rest[0] === "refs" ? entry.refs : entry.content).push(key);
      bySha.set(sha!, entry);
    }
    let freed = 0;
    for (const { content, refs } of bySha.values()) {
      let live = 0;
      for (const ref of refs) {
        const [, target, version] = ref.split("/refs/")[1]!.match(/^(.*)\/([^/]+)$/) ?? [];
        const meta = target && version ? await this.blobs.get(`${this.project}/${artifact}/targets/${target}/${version}.json`) : undefined;
        if (meta) live++;
        else await this.blobs.delete(ref);
      }
      if (live === 0) {
        for (const key of content) {
          freed += (await this.blobs.get(key))?.length ?? 0;
          await this.blobs.delete(key);
        }
      }
    }
    return freed;
  }
}

function immutable(target: string, existing: ArtifactVersion, sha: string): RefusedError {
  return new RefusedError(
    "version_exists",
    `${existing.artifact} ${existing.version} is already published to ${target} with different content (sha256 ${existing.sha256.slice(0, 12)}…, published ${existing.created_at} by ${existing.published_by}; this build is ${sha.slice(0, 12)}…)`,
    {
      hint: "published versions are immutable: bump the version in the package's metadata and build again",
      details: { artifact: existing.artifact, version: existing.version, target, published_sha256: existing.sha256, sha256: sha },
    },
  );
}

/** Newest first: by publish time, then by version (numbers compared as numbers). */
export function sortNewestFirst(versions: ArtifactVersion[]): ArtifactVersion[] {
  return versions.sort((a, b) => (a.created_at === b.created_at ? compareVersions(b.version, a.version) : a.created_at < b.created_at ? 1 : -1));
}

/** Orders "2.6.9" before "2.6.10": digit runs compare as numbers, the rest as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) return Number(x) - Number(y) || (x < y ? -1 : 1);
    return x < y ? -1 : 1;
  }
  return 0;
}
