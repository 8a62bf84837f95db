// Public JSON of the artifacts commands.
import { z } from "zod";
import type { ArtifactPromotion } from "../operations/promote.js";
import type { UseSite } from "../operations/artifact-usage.js";
import type { ArtifactListing, ArtifactsOverview, BuildResult, GcResult, InstallResult, PublishResult } from "../operations/artifacts.js";
import { failureView, type ErrorJson } from "./error.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

export const buildSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    builds: z.array(
      z.strictObject({
        project: z.string(),
        artifact: z.string(),
        type: z.string(),
        version: z.string(),
        package: z.string(),
        filename: z.string(),
        file: z.string(),
        sha256: z.string(),
        size: z.number().int(),
        source_sha256: z.string(),
        built_at: z.string(),
        built_by: z.string(),
        duration_ms: z.number(),
        /** Where --out got a copy; null without --out, and for a build not copied (see not_copied). */
        copied_to: z.string().nullable(),
        /** Why --out did not get this build (a published version of the same name has other content); null when nothing was refused. */
        not_copied: z
          .strictObject({
            file: z.string(),
            reason: z.string(),
            published: z.array(z.strictObject({ target: z.string(), sha256: z.string() })),
          })
          .nullable(),
      }),
    ),
  }),
);

export function buildView(r: BuildResult): Infer<typeof buildSchema> {
  return {
    project: r.project,
    builds: r.builds.map((b) => ({
      project: b.project,
      artifact: b.artifact,
      type: b.type,
      version: b.version,
      package: b.package,
      filename: b.filename,
      file: b.file,
      sha256: b.sha256,
      size: b.size,
      source_sha256: b.source_sha256,
      built_at: b.built_at,
      built_by: b.built_by,
      duration_ms: b.duration_ms,
      copied_to: b.copied_to,
      not_copied: b.not_copied ? { file: b.not_copied.file, reason: b.not_copied.reason, published: b.not_copied.published.map((p) => ({ target: p.target, sha256: p.sha256 })) } : null,
    })),
  };
}

/**
 * The envelope's `error` of a build whose file --out did not get (a published version of the same
 * name has other content): the document is printed with every build, and the exit code is 3.
 */
export function buildFailure(r: BuildResult): ErrorJson | undefined {
  const refused = r.builds.filter((b) => b.not_copied);
  if (!refused.length) return undefined;
  const names = refused.map((b) => `${b.artifact} ${b.version}`).join(", ");
  return failureView(
    "not_copied",
    `not copied to --out: ${names} ${refused.length === 1 ? "differs" : "differ"} from the published version of the same name`,
    "raise the version in the package's metadata to publish this change",
  );
}

export const publishSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    artifact: z.string(),
    version: z.string(),
    filename: z.string(),
    sha256: z.string(),
    size: z.number().int(),
    stale_build: z.boolean(),
    targets: z.array(z.strictObject({ target: z.string(), outcome: z.enum(["published", "unchanged"]), store: z.string().nullable(), ms: z.number() })),
  }),
);

export function publishView(r: PublishResult): Infer<typeof publishSchema> {
  return {
    project: r.project,
    artifact: r.artifact,
    version: r.version,
    filename: r.filename,
    sha256: r.sha256,
    size: r.size,
    stale_build: r.staleBuild,
    targets: r.targets.map((t) => ({ target: t.target, outcome: t.outcome, store: t.store, ms: t.ms })),
  };
}

const useSiteSchema = lazy(() => z.strictObject({ by: z.string(), reason: z.string() }));
const useSiteView = (s: UseSite) => ({ by: s.by, reason: s.reason });

export const artifactVersionsSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    target: z.string(),
    artifact: z.string(),
    type: z.string().nullable(),
    keep_last: z.number().int().nullable(),
    store: z.string().nullable(),
    versions: z.array(
      z.strictObject({
        project: z.string(),
        target: z.string(),
        artifact: z.string(),
        version: z.string(),
        type: z.string(),
        package: z.string(),
        filename: z.string(),
        sha256: z.string(),
        size: z.number().int(),
        created_at: z.string(),
        published_by: z.string(),
        source_sha256: z.string().nullable(),
        /** Set on a version promoted from another target's store (`artifacts promote`). */
        promoted_from: z.strictObject({ target: z.string(), version: z.string(), at: z.string() }).nullable(),
        in_use: z.array(useSiteSchema()),
      }),
    ),
  }),
);

export function artifactVersionsView(r: ArtifactListing): Infer<typeof artifactVersionsSchema> {
  return {
    project: r.project,
    target: r.target,
    artifact: r.artifact,
    type: r.type,
    keep_last: r.keepLast,
    store: r.store,
    versions: r.versions.map((v) => ({
      project: v.project,
      target: v.target,
      artifact: v.artifact,
      version: v.version,
      type: v.type,
      package: v.package,
      filename: v.filename,
      sha256: v.sha256,
      size: v.size,
      created_at: v.created_at,
      published_by: v.published_by,
      source_sha256: v.source_sha256 ?? null,
      promoted_from: v.promoted_from ? { ...v.promoted_from } : null,
      in_use: v.in_use.map(useSiteView),
    })),
  };
}

export const artifactsOverviewSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    target: z.string(),
    store: z.string().nullable(),
    artifacts: z.array(
      z.strictObject({
        artifact: z.string(),
        type: z.string(),
        path: z.string(),
        keep_last: z.number().int().nullable(),
        versions: z.number().int(),
        bytes: z.number().int(),
        latest: z.strictObject({ version: z.string(), created_at: z.string() }).nullable(),
        built: z.strictObject({ version: z.string(), built_at: z.string() }).nullable(),
      }),
    ),
  }),
);

export function artifactsOverviewView(r: ArtifactsOverview): Infer<typeof artifactsOverviewSchema> {
  return {
    project: r.project,
    target: r.target,
    store: r.store,
    artifacts: r.artifacts.map((a) => ({
      artifact: a.artifact,
      type: a.type,
      path: a.path,
      keep_last: a.keepLast,
      versions: a.versions,
      bytes: a.bytes,
      latest: a.latest && { version: a.latest.version, created_at: a.latest.created_at },
      built: a.built && { version: a.built.version, built_at: a.built.built_at },
    })),
  };
}

/** `artifacts list`: the overview, or with a name that artifact's versions. */
export const artifactsListSchema = lazy(() => z.union([artifactsOverviewSchema(), artifactVersionsSchema()]));

export const installSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    target: z.string(),
    environment: z.string(),
    artifact: z.string(),
    version: z.string(),
    previous: z.string().nullable(),
    outcome: z.enum(["installed", "unchanged"]),
    path: z.string(),
  }),
);

export function installView(r: InstallResult): Infer<typeof installSchema> {
  return { project: r.project, target: r.target, environment: r.environment, artifact: r.artifact, version: r.version, previous: r.previous, outcome: r.outcome, path: r.path };
}

export const gcSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    target: z.string(),
    artifacts: z.array(z.strictObject({ artifact: z.string(), keep_last: z.number().int(), versions: z.number().int() })),
    delete: z.array(z.strictObject({ artifact: z.string(), version: z.string(), size: z.number().int(), created_at: z.string() })),
    kept_in_use: z.array(z.strictObject({ artifact: z.string(), version: z.string(), in_use: z.array(useSiteSchema()) })),
    kept: z.number().int(),
    stale_installs: z.array(z.strictObject({ environment: z.string(), instance: z.string(), artifact: z.string(), version: z.string() })),
    stranded_environments: z.array(z.strictObject({ name: z.string(), instance: z.string(), path: z.string() })),
    dry_run: z.boolean(),
    freed_bytes: z.number().int(),
  }),
);

export function gcView(r: GcResult): Infer<typeof gcSchema> {
  return {
    project: r.project,
    target: r.target,
    artifacts: r.artifacts.map((a) => ({ artifact: a.artifact, keep_last: a.keepLast, versions: a.versions })),
    delete: r.delete.map((d) => ({ artifact: d.artifact, version: d.version, size: d.size, created_at: d.created_at })),
    kept_in_use: r.keptInUse.map((k) => ({ artifact: k.artifact, version: k.version, in_use: k.in_use.map(useSiteView) })),
    kept: r.kept,
    stale_installs: r.staleInstalls.map((s) => ({ environment: s.environment, instance: s.instance, artifact: s.artifact, version: s.version })),
    stranded_environments: r.strandedEnvironments.map((e) => ({ name: e.name, instance: e.instance, path: e.path })),
    dry_run: r.dryRun,
    freed_bytes: r.freedBytes,
  };
}

export const artifactPromotionSchema = lazy(() =>
  z.strictObject({
    artifact: z.string(),
    version: z.string(),
    from: z.string(),
    to: z.string(),
    /** False when `to` held this version (same content) already: nothing was written. */
    promoted: z.boolean(),
    sha256: z.string(),
    size: z.number().int(),
    /** Whether the content was copied (false: the destination store had it, or nothing was promoted). */
    copied: z.boolean(),
  }),
);

export function artifactPromotionView(r: ArtifactPromotion): Infer<typeof artifactPromotionSchema> {
  return { artifact: r.artifact, version: r.version, from: r.from, to: r.to, promoted: r.promoted, sha256: r.sha256, size: r.size, copied: r.copied };
}
