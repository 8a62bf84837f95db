// Promotion between targets: a model version (files, manifest, metrics, lineage) or an artifact
// version is copied from one target's registry or artifact store to another's, so qa and prod serve
// the very build dev validated instead of one retrained or rebuilt. The CLI (`models promote`,
// `artifacts promote`), the API, the SDK and a pipeline's `promote` stage all come here.
//
// - Blobs are content-addressed (`files/<sha256>` in persisted_data, `<project>/<artifact>/files/<sha256>/…`
//   in the artifact store): a blob the destination store already has is not copied, so targets that
//   share a store (the embedded default) copy nothing but the registry row.
// - A promoted model version remembers where it came from (promoted_from {target, version, at});
//   promoting the same source version again finds that version and adds nothing (an alias is still
//   moved). An artifact version is immutable per target: publishing the same content is "unchanged".
// - Access: CAN_VIEW on the source target, CAN_MANAGE on the destination (the model, for a model).
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { iso } from "../clock.js";
import { InvalidInputError, SlipwayError } from "../errors.js";
import type { CompiledProject } from "../kinds/compile-project.js";
import { parseModelRef, resolveVersion } from "../registry/resolve.js";
import { openArchives } from "../store/archives.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { didYouMean } from "../util/suggest.js";
import { artifactStoreFor } from "./artifacts.js";
import { authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";
import { modelVersionOf, type ModelVersionView } from "./models.js";

export interface PromoteOptions extends ProjectOptions {
  from: string;
  to: string;
}

export interface ModelPromotion {
  model: string;
  from: { target: string; version: number };
  to: { target: string; version: number };
  /** False when this source version was promoted to `to` before: nothing was added. */
  promoted: boolean;
  /** The alias moved in `to` (null: none asked). */
  alias: string | null;
  /** Blobs copied into the destination's store, and those it already had. */
  copied: { files: number; bytes: number; present: number };
  version: ModelVersionView;
}

export interface ArtifactPromotion {
  artifact: string;
  version: string;
  from: string;
  to: string;
  promoted: boolean;
  sha256: string;
  size: number;
  /** Whether the content was copied (false: the destination store had it). */
  copied: boolean;
}

/** The source and destination targets compiled, with the checks and the access both need. */
async function endpoints(options: PromoteOptions, ctx: OperationContext, operation: string, address?: string): Promise<{ src: CompiledProject; dst: CompiledProject }> {
  const src = compileFor({ ...options, target: options.from }, ctx);
  const targets = src.project.targetNames;
  const unknown = [options.from, options.to].filter((t) => !targets.includes(t));
  if (unknown.length) throw new InvalidInputError(unknown.map((t) => ({ message: `unknown target "${t}"`, hint: didYouMean(t, targets) ?? `targets: ${targets.join(", ")}` })), "unknown_target");
  if (options.from === options.to) throw new InvalidInputError([{ message: `--from and --to are both ${options.from}`, hint: "promote from one target to another, e.g. --from dev --to qa" }], "invalid_flag");
  const dst = compileFor({ ...options, target: options.to }, ctx);
  await authorizeFor(src, ctx, "CAN_VIEW", operation);
  await authorizeFor(dst, ctx, "CAN_MANAGE", operation, address);
  return { src, dst };
}

function persistedData(c: CompiledProject, home: string): BlobStore {
  return openArchives(home, c.project.dir, c.project.archives).persisted_data;
}

/** Copies `keys` from one store to another unless it has them (streamed through a temporary file). */
async function copyBlobs(from: BlobStore, to: BlobStore, keys: string[]): Promise<{ files: number; bytes: number; present: number }> {
  const out = { files: 0, bytes: 0, present: 0 };
  if (from.location === to.location) return { ...out, present: keys.length };
  let tmp: string | undefined;
  try {
    for (const key of [...new Set(keys)]) {
      if (await to.has(key)) {
        out.present++;
        continue;
      }
      tmp ??= await mkdtemp(join(tmpdir(), "slipway-promote-"));
      const file = join(tmp, "blob");
      if (!(await from.getFile(key, file))) throw new SlipwayError("model_files_missing", `${key} is missing from ${from.location}`, { hint: "the source version's files are gone from its archive; register the version again" });
      await to.putFile(key, file);
      out.files++;
      out.bytes += (await stat(file)).size;
    }
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
  return out;
}

/** Copies a model version (NAME@ALIAS, NAME@VERSION, NAME/VERSION, NAME) from `from` to `to`, and points `alias` at it there. */
export async function promoteModel(options: PromoteOptions & { ref: string; alias?: string }, ctx: OperationContext): Promise<ModelPromotion> {
  const ref = parseModelRef(options.ref);
  if (options.alias !== undefined && !/^[A-Za-z][A-Za-z0-9_-]*$/.test(options.alias)) throw new InvalidInputError([{ message: `alias "${options.alias}" must start with a letter and use letters, digits, _ and -` }], "invalid_alias");
  const { src, dst } = await endpoints(options, ctx, "models promote", `model.${ref.model}`);
  return withStores(src, ctx.env, (srcStores) =>
    withStores(dst, ctx.env, async (dstStores) => {
      const from = srcStores.state.models(src.project.name, options.from);
      const to = dstStores.state.models(dst.project.name, options.to);
      const v = await resolveVersion(from, ref.model, ref);
      const now = iso(ctx.env.clock.now());
      const files = JSON.parse(v.files) as Record<string, string>;
      // Files first, the registry row last: a version exists in `to` only once its files do.
      const copied = await copyBlobs(persistedData(src, ctx.env.home), persistedData(dst, ctx.env.home), Object.values(files).map((h) => `files/${h}`));
      const source = { target: options.from, version: v.version };
      const earlier = await to.promotedFrom(v.model, source);
      let version = earlier?.version;
      if (version === undefined) {
        version = await to.addVersion({
          model: v.model,
          registered_name: v.registered_name,
          flavor: v.flavor,
          manifest: v.manifest,
          files: v.files,
          metrics: v.metrics,
          tags: v.tags,
          run_id: v.run_id,
          job: v.job,
          bundle: v.bundle,
          created_at: now,
          promoted_from: JSON.stringify({ ...source, at: now }),
        });
      }
      if (options.alias !== undefined) await to.setAlias(v.model, options.alias, version, now);
      return { model: v.model, from: source, to: { target: options.to, version }, promoted: earlier === undefined, alias: options.alias ?? null, copied, version: await modelVersionOf(to, v.model, version) };
    }),
  );
}

/** Copies an artifact version (NAME@VERSION) from `from`'s artifact store to `to`'s. */
export async function promoteArtifact(options: PromoteOptions & { ref: string }, ctx: OperationContext): Promise<ArtifactPromotion> {
  const at = options.ref.lastIndexOf("@");
  if (at <= 0 || at === options.ref.length - 1) throw new InvalidInputError([{ message: `"${options.ref}" is not NAME@VERSION`, hint: "for example features@1.2.0" }], "invalid_flag");
  const artifact = options.ref.slice(0, at);
  const wanted = options.ref.slice(at + 1);
  const { src, dst } = await endpoints(options, ctx, "artifacts promote", `artifact.${artifact}`);
  const from = artifactStoreFor(src, ctx.env.home);
  const to = artifactStoreFor(dst, ctx.env.home);
  const v = await from.get(artifact, wanted);
  if (!v) {
    const known = (await from.list(artifact)).map((x) => x.version);
    throw new InvalidInputError([{ message: `${options.from} holds no version ${wanted} of ${artifact}`, hint: known.length ? `its versions: ${known.join(", ")}` : `publish it there first: slipway artifacts publish ${artifact} -t ${options.from}` }], "unknown_artifact_version");
  }
  // Immutability first: a different build under this version in `to` is refused before anything is written.
  await to.check(artifact, wanted, v.sha256);
  const hadContent = await to.blobs.has(to.contentKey(v));
  const { project: _p, target: _t, ...meta } = v;
  const outcome = await to.publish({ ...meta, created_at: iso(ctx.env.clock.now()), published_by: ctx.env.user, promoted_from: { target: options.from, version: wanted, at: iso(ctx.env.clock.now()) } }, await from.content(v));
  return { artifact, version: wanted, from: options.from, to: options.to, promoted: outcome === "published", sha256: v.sha256, size: v.size, copied: outcome === "published" && !hadContent };
}
