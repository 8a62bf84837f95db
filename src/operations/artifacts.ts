// Artifacts: build one from its package, publish it to targets' artifact stores, list the versions a
// target holds (and where each is in use), install a chosen version into a compute environment, and
// collect garbage (retention). The CLI (`slipway artifacts …`) and the SDK (`slipway.artifacts`) both
// come here.
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { buildArtifact, hashFolder, readBuildRecord, type BuildRecord } from "../artifacts/build.js";
import type { ArtifactSpec } from "../artifacts/builders/builder.js";
import { ArtifactStore, type ArtifactVersion, type PublishOutcome } from "../artifacts/store.js";
import { computeUsage, strandedInstances, type UseSite } from "./artifact-usage.js";
import { install, missingVersion, parseLibrary, removeEnvironment, repairEnvironment, type ComputeSpec, type EnvironmentContext } from "../compute/environments.js";
import { uninstallPackage } from "../compute/venv.js";
import { findResource, resourcesOfKind, type CompiledProject } from "../kinds/compile-project.js";
import type { DesiredResource } from "../resources.js";
import { InvalidInputError, RefusedError, SlipwayError } from "../errors.js";
import { refreshLiveness } from "../runs/liveness.js";
import { openArchives } from "../store/archives.js";
import type { Stores } from "../store/open.js";
import type { EnvironmentRow, InstallRow } from "../store/state/compute-store.js";
import { sha256 } from "../util/hash.js";
import { article, didYouMean } from "../util/suggest.js";
import { targetNamesOf } from "../config/load.js";
import { compile, authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";
import { loadSnapshot, takeLease } from "./deployment.js";
import { FINISHED } from "./runs.js";

// ---------------------------------------------------------------------------------------------------
// helpers

/**
 * Building and publishing to several targets do not depend on one target: without -t and without a
 * default target, the project is read for its first target instead of failing.
 */
function compileAnyTarget(options: ProjectOptions, ctx: OperationContext): CompiledProject {
  try {
    return compileFor(options, ctx);
  } catch (e) {
    const first = targetNamesOf(options.dir)[0];
    if (e instanceof InvalidInputError && e.code === "no_target" && options.target === undefined && first) return compileFor({ ...options, target: first }, ctx);
    throw e;
  }
}

function declaredArtifacts(compiled: CompiledProject): Array<DesiredResource<ArtifactSpec>> {
  return resourcesOfKind(compiled, "artifact");
}

function findArtifact(compiled: CompiledProject, name: string): DesiredResource<ArtifactSpec> {
  return findResource(compiled, "artifact", name, { noun: "artifact", plural: "artifacts", code: "unknown_artifact" });
}

function findCompute(compiled: CompiledProject, name: string): DesiredResource<ComputeSpec> {
  return findResource(compiled, "compute", name, { noun: "compute environment", plural: "compute environments", code: "unknown_environment" });
}

function packageDir(resource: DesiredResource<ArtifactSpec>): string {
  return resolve(resource.runtime!.cwd, resource.spec.path);
}

/** The artifact store of the compiled project's target. */
export function artifactStoreFor(compiled: CompiledProject, home: string): ArtifactStore {
  const { project } = compiled;
  return new ArtifactStore(openArchives(home, project.dir, project.archives).artifacts, project.name, project.target.name);
}

function storeLocation(store: ArtifactStore): string | null {
  return store.blobs.location;
}

function environmentContext(compiled: CompiledProject, stores: Stores, ctx: OperationContext, io: EnvironmentContext["io"]): EnvironmentContext {
  const { project } = compiled;
  return {
    home: ctx.env.home,
    project: project.name,
    target: project.target.name,
    compute: stores.state.compute(project.name, project.target.name),
    artifacts: artifactStoreFor(compiled, ctx.env.home),
    user: ctx.env.user,
    clock: ctx.env.clock,
    io,
  };
}

async function withLease<T>(compiled: CompiledProject, stores: Stores, ctx: OperationContext, operation: string, forceUnlock: boolean | undefined, body: () => Promise<T>): Promise<T> {
  const lease = await takeLease(stores.state.forTarget(compiled.project.name, compiled.project.target.name), ctx, operation, forceUnlock);
  try {
    return await body();
  } finally {
    await lease.release();
  }
}

// ---------------------------------------------------------------------------------------------------
// build

export interface BuildResult {
  project: string;
  builds: Array<BuildRecord & { copied_to: string | null; not_copied?: NotCopied }>;
}

/**
 * Why a build was not copied to `--out`: a published version of the same name (artifact and
 * version, so the same file name) has other content, so the folder would no longer match what was
 * published (and publishing this build would be refused).
 */
export interface NotCopied {
  file: string;
  reason: string;
  published: Array<{ target: string; sha256: string }>;
}

/** Targets whose artifact store holds this version of the artifact with other content. */
async function publishedWithOtherContent(options: ProjectOptions, base: CompiledProject, record: BuildRecord, ctx: OperationContext): Promise<Array<{ target: string; sha256: string }>> {
  const found: Array<{ target: string; sha256: string }> = [];
  for (const target of base.project.targetNames) {
    let compiled: CompiledProject;
    try {
      compiled = target === base.project.target.name ? base : compile({ ...options, target }, ctx.env);
    } catch {
      continue; // a target that does not compile cannot have been published to from this config
    }
    const v = await artifactStoreFor(compiled, ctx.env.home).get(record.artifact, record.version);
    if (v && v.sha256 !== record.sha256) found.push({ target, sha256: v.sha256 });
  }
  return found;
}

/** Builds the named artifacts (all of them when none is named). `out` also copies each file there. */
export async function buildArtifacts(options: ProjectOptions & { names?: string[]; out?: string }, ctx: OperationContext): Promise<BuildResult> {
  const compiled = compileAnyTarget(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", "artifacts build");
  const selected = options.names?.length ? options.names.map((n) => findArtifact(compiled, n)) : declaredArtifacts(compiled);
  if (selected.length === 0) throw new InvalidInputError([{ message: `${compiled.project.name} declares no artifacts`, hint: "declare one under resources.artifacts in a module.yaml" }], "unknown_artifact");
  const builds: BuildResult["builds"] = [];
  for (const resource of selected) {
    ctx.reporter.info(`building ${resource.name} (${String(resource.spec.type)}) from ${resource.spec.path}`);
    const record = await buildArtifact({
      project: compiled.project.name,
      artifact: resource.name,
      spec: resource.spec,
      dir: packageDir(resource),
      home: ctx.env.home,
      user: ctx.env.user,
      clock: ctx.env.clock,
      env: ctx.env.processEnv,
      onLine: (stream, line) => ctx.reporter.output?.(`artifact.${resource.name}`, stream, line),
    });
    let copiedTo: string | null = null;
    let notCopied: NotCopied | undefined;
    if (options.out) {
      const dest = resolve(options.out, record.filename);
      // Never put a file in --out that differs from a published version of the same name.
      const published = await publishedWithOtherContent(options, compiled, record, ctx);
      if (published.length) {
        notCopied = {
          file: dest,
          published,
          reason:
            `${record.artifact} ${record.version} is already published (${published.map((p) => p.target).join(", ")}) with other content ` +
            `(sha256 ${published[0]!.sha256.slice(0, 12)}; this build is ${record.sha256.slice(0, 12)}), so publishing this build would be refused; ` +
            `${existsSync(dest) ? `${dest} was left as it was` : `nothing was written to ${options.out}`}`,
        };
        ctx.reporter.warn(`not copied to ${options.out}: ${notCopied.reason}. Raise the version in the package's metadata to publish this change.`);
      } else {
        await mkdir(options.out, { recursive: true });
        copiedTo = dest;
        await copyFile(record.file, copiedTo);
      }
    }
    builds.push({ ...record, copied_to: copiedTo, ...(notCopied ? { not_copied: notCopied } : {}) });
  }
  return { project: compiled.project.name, builds };
}

// ---------------------------------------------------------------------------------------------------
// publish

export interface PublishResult {
  project: string;
  artifact: string;
  version: string;
  filename: string;
  sha256: string;
  size: number;
  /** The package folder changed after the build: what was published is the earlier build. */
  staleBuild: boolean;
  targets: Array<{ target: string; outcome: PublishOutcome; store: string | null; ms: number }>;
}

/**
 * Uploads the latest build of an artifact to each target's artifact store. Every target is checked
 * first: if any already holds this version with other content, nothing is written anywhere.
 */
export async function publishArtifact(options: ProjectOptions & { name: string; targets?: string[]; allTargets?: boolean }, ctx: OperationContext): Promise<PublishResult> {
  const first = options.allTargets ? undefined : options.targets?.[0];
  const base = options.allTargets ? compileAnyTarget(options, ctx) : compileFor({ ...options, target: first ?? options.target }, ctx);
  const { project } = base;
  const resource = findArtifact(base, options.name);
  const targets = options.allTargets ? project.targetNames : options.targets?.length ? [...new Set(options.targets)] : [project.target.name];
  const unknown = targets.filter((t) => !project.targetNames.includes(t));
  if (unknown.length) throw new InvalidInputError(unknown.map((t) => ({ message: `unknown target "${t}"`, hint: didYouMean(t, project.targetNames) ?? `targets: ${project.targetNames.join(", ")}` })), "unknown_target");

  const build = await readBuildRecord(ctx.env.home, project.name, options.name);
  if (!build || !existsSync(build.file)) {
    throw new InvalidInputError([{ message: `${options.name} has not been built on this machine`, hint: `build it first: slipway artifacts build ${options.name}` }], "not_built");
  }
  const spec = resource.spec;
  if (build.type !== spec.type) {
    throw new InvalidInputError([{ message: `the build of ${options.name} is ${article(build.type)}, but the config now says ${spec.type}`, hint: `build it again: slipway artifacts build ${options.name}` }], "stale_build");
  }
  const data = await readFile(build.file);
  if (sha256(data) !== build.sha256) throw new SlipwayError("artifact_corrupt", `${build.file} changed after it was built`, { hint: `build it again: slipway artifacts build ${options.name}` });
  const staleBuild = existsSync(packageDir(resource)) && (await hashFolder(packageDir(resource), ctx.env.home)) !== build.source_sha256;
  if (staleBuild) ctx.reporter.warn(`${spec.path} changed after ${options.name} ${build.version} was built (${build.built_at}); publishing that build. Run \`slipway artifacts build ${options.name}\` to publish the change.`);

  const stores = targets.map((t) => {
    const compiled = t === project.target.name ? base : compile({ ...options, target: t }, ctx.env);
    return { target: t, compiled, store: artifactStoreFor(compiled, ctx.env.home) };
  });
  for (const { compiled } of stores) await authorizeFor(compiled, ctx, "CAN_MANAGE", "artifacts publish");
  // Immutability, checked everywhere before anything is written anywhere.
  for (const { store } of stores) await store.check(options.name, build.version, build.sha256);
  const meta: Omit<ArtifactVersion, "project" | "target"> = {
    artifact: options.name,
    version: build.version,
    type: build.type,
    package: build.package,
    filename: build.filename,
    sha256: build.sha256,
    size: build.size,
    created_at: new Date(ctx.env.clock.now()).toISOString(),
    published_by: ctx.env.user,
    source_sha256: build.source_sha256,
  };
  const results: PublishResult["targets"] = [];
  for (const { target, store } of stores) {
    const started = ctx.env.clock.now();
    const outcome = await store.publish(meta, data, { verified: true });
    results.push({ target, outcome, store: storeLocation(store), ms: ctx.env.clock.now() - started });
  }
  return { project: project.name, artifact: options.name, version: build.version, filename: build.filename, sha256: build.sha256, size: build.size, staleBuild, targets: results };
}

// ---------------------------------------------------------------------------------------------------
// list

export interface VersionListing extends ArtifactVersion {
  in_use: UseSite[];
}

export interface ArtifactListing {
  project: string;
  target: string;
  artifact: string;
  type: string | null;
  keepLast: number | null;
  store: string | null;
  versions: VersionListing[];
}

export interface ArtifactsOverview {
  project: string;
  target: string;
  store: string | null;
  artifacts: Array<{ artifact: string; type: string; path: string; keepLast: number | null; versions: number; bytes: number; latest: { version: string; created_at: string } | null; built: { version: string; built_at: string } | null }>;
}

/** Where versions of this target's artifacts are in use (installs, deployed config, revisions). */
async function gatherUsage(compiled: CompiledProject, stores: Stores) {
  const { project } = compiled;
  const state = stores.state.forTarget(project.name, project.target.name);
  const [installs, recorded, deployments] = await Promise.all([stores.state.compute(project.name, project.target.name).listInstalls(), state.listResources(), state.listDeployments(1_000_000)]);
  const snapshots = new Map<string, Awaited<ReturnType<typeof loadSnapshot>>["resources"]>();
  const revisions = [];
  for (const d of deployments) {
    if (d.revision === null || !d.snapshot) continue;
    let resources = snapshots.get(d.snapshot);
    if (!resources) {
      resources = await loadSnapshot(stores, d.snapshot).then((s) => s.resources, () => []);
      snapshots.set(d.snapshot, resources);
    }
    revisions.push({ revision: d.revision, resources });
  }
  revisions.sort((a, b) => a.revision - b.revision);
  return computeUsage({ installs, recorded, revisions });
}

/** The versions of one artifact in the target's store, newest first, with where each is in use. */
export async function listArtifactVersions(options: ProjectOptions & { name: string }, ctx: OperationContext): Promise<ArtifactListing> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "artifacts list");
  const { project } = compiled;
  const declared = declaredArtifacts(compiled).find((r) => r.name === options.name);
  const store = artifactStoreFor(compiled, ctx.env.home);
  const versions = await store.list(options.name);
  if (!declared && versions.length === 0) findArtifact(compiled, options.name); // throws, with suggestions
  const usage = await withStores(compiled, ctx.env, (stores) => gatherUsage(compiled, stores));
  const used = usage.get(options.name);
  const spec = declared?.spec;
  return {
    project: project.name,
    target: project.target.name,
    artifact: options.name,
    type: spec?.type ?? versions[0]?.type ?? null,
    keepLast: spec?.retention?.keep_last ?? null,
    store: storeLocation(store),
    versions: versions.map((v) => ({ ...v, in_use: used?.get(v.version) ?? [] })),
  };
}

/** Every declared artifact: how many versions the target holds, the newest, the local build. */
export async function listArtifacts(options: ProjectOptions, ctx: OperationContext): Promise<ArtifactsOverview> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "artifacts list");
  const { project } = compiled;
  const store = artifactStoreFor(compiled, ctx.env.home);
  const artifacts: ArtifactsOverview["artifacts"] = [];
  for (const r of declaredArtifacts(compiled)) {
    const spec = r.spec;
    const versions = await store.list(r.name);
    const build = await readBuildRecord(ctx.env.home, project.name, r.name);
    artifacts.push({
      artifact: r.name,
      type: spec.type,
      path: spec.path,
      keepLast: spec.retention?.keep_last ?? null,
      versions: versions.length,
      bytes: versions.reduce((n, v) => n + v.size, 0),
      latest: versions[0] ? { version: versions[0].version, created_at: versions[0].created_at } : null,
      built: build ? { version: build.version, built_at: build.built_at } : null,
    });
  }
  return { project: project.name, target: project.target.name, store: storeLocation(store), artifacts };
}

// ---------------------------------------------------------------------------------------------------
// install

export interface InstallResult {
  project: string;
  target: string;
  environment: string;
  artifact: string;
  version: string;
  previous: string | null;
  outcome: "installed" | "unchanged";
  path: string;
}

/**
 * Installs ARTIFACT@VERSION into a deployed compute environment of the target, replacing the version
 * it has. A version the target's store does not hold fails before anything changes, listing those it does.
 */
export async function installArtifact(options: ProjectOptions & { library: string; into: string; forceUnlock?: boolean }, ctx: OperationContext): Promise<InstallResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", "artifacts install");
  const { project } = compiled;
  const target = project.target.name;
  const { artifact, version } = parseLibrary(options.library);
  const declared = findArtifact(compiled, artifact);
  if (declared.spec.type !== "python_wheel") {
    throw new InvalidInputError([{ message: `${artifact} is ${article(String(declared.spec.type))} artifact; only python_wheel artifacts can be installed into a compute environment` }], "not_installable");
  }
  const compute = findCompute(compiled, options.into);
  if (compute.spec.ephemeral) {
    throw new RefusedError("environment_ephemeral", `compute.${options.into} is ephemeral: each run makes it from its config and removes it afterwards, so there is nothing to install into`, {
      hint: `change its libraries in the config instead (libraries: ["${artifact}@${version}"])`,
    });
  }
  const store = artifactStoreFor(compiled, ctx.env.home);
  const wanted = await store.get(artifact, version);
  if (!wanted) throw missingVersion(artifact, version, target, await store.list(artifact));
  return withStores(compiled, ctx.env, async (stores) => {
    const ectx = environmentContext(compiled, stores, ctx, { env: ctx.env.processEnv, onLine: (stream, line) => ctx.reporter.output?.(`compute.${options.into}`, stream, line) });
    if (!(await ectx.compute.getEnvironment(options.into))) {
      throw new RefusedError("environment_not_deployed", `compute.${options.into} is not deployed to ${project.name}/${target}`, { hint: `deploy it first: slipway deploy -t ${target}` });
    }
    return withLease(compiled, stores, ctx, "artifacts install", options.forceUnlock, async () => {
      const env = (await repairEnvironment(ectx, options.into, compute.spec))!;
      const previous = (await ectx.compute.listInstalls({ environment: options.into, instance: "", artifact }))[0];
      const base = { project: project.name, target, environment: options.into, artifact, version, previous: previous?.version ?? null, path: env.path };
      if (previous?.sha256 === wanted.sha256) return { ...base, outcome: "unchanged" as const };
      await install(ectx, env, wanted);
      return { ...base, outcome: "installed" as const };
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// garbage collection

export interface GcPlan {
  project: string;
  target: string;
  /** Versions past retention that nothing uses. */
  delete: Array<{ artifact: string; version: string; size: number; created_at: string }>;
  /** Versions past retention kept because something uses them. */
  keptInUse: Array<{ artifact: string; version: string; in_use: UseSite[] }>;
  /** Versions kept as the newest keep_last. */
  kept: number;
  /** Installs of versions the store no longer holds: uninstalled from their environments. */
  staleInstalls: Array<{ environment: string; instance: string; artifact: string; version: string }>;
  /** Ephemeral environments whose run has finished (its runner was killed): removed. */
  strandedEnvironments: Array<{ name: string; instance: string; path: string }>;
  /** Artifacts looked at, with the retention applied. */
  artifacts: Array<{ artifact: string; keepLast: number; versions: number }>;
}

export interface GcResult extends GcPlan {
  dryRun: boolean;
  freedBytes: number;
}

export interface GcOptions extends ProjectOptions {
  /** Only these artifacts (default: every declared artifact with retention, or all with keepLast). */
  names?: string[];
  /** Retention for the artifacts looked at, overriding their `retention.keep_last`. */
  keepLast?: number;
  /** Delete; without it (and without a yes at the terminal) nothing is deleted. */
  yes?: boolean;
  forceUnlock?: boolean;
  /** Told the plan before anything is asked or deleted. */
  onPlan?(plan: GcPlan): void;
}

async function planGc(compiled: CompiledProject, stores: Stores, options: GcOptions, ctx: OperationContext): Promise<GcPlan> {
  const { project } = compiled;
  const store = artifactStoreFor(compiled, ctx.env.home);
  const selected = options.names?.length ? options.names.map((n) => findArtifact(compiled, n)) : declaredArtifacts(compiled);
  const usage = await gatherUsage(compiled, stores);
  const plan: GcPlan = { project: project.name, target: project.target.name, delete: [], keptInUse: [], kept: 0, staleInstalls: [], strandedEnvironments: [], artifacts: [] };
  for (const r of selected) {
    const keepLast = options.keepLast ?? r.spec.retention?.keep_last;
    if (keepLast === undefined) continue;
    const versions = await store.list(r.name);
    plan.artifacts.push({ artifact: r.name, keepLast, versions: versions.length });
    versions.forEach((v, i) => {
      if (i < keepLast) {
        plan.kept++;
        return;
      }
      const sites = usage.get(r.name)?.get(v.version) ?? [];
      if (sites.length) plan.keptInUse.push({ artifact: r.name, version: v.version, in_use: sites });
      else plan.delete.push({ artifact: r.name, version: v.version, size: v.size, created_at: v.created_at });
    });
  }
  const compute = stores.state.compute(project.name, project.target.name);
  for (const i of await compute.listInstalls()) {
    if (!(await store.get(i.artifact, i.version))) plan.staleInstalls.push({ environment: i.environment, instance: i.instance, artifact: i.artifact, version: i.version });
  }
  const runs = stores.state.runs();
  const finished = new Set<string>();
  for (const e of await compute.listEnvironments()) {
    if (!e.ephemeral || !e.instance) continue;
    const row = await runs.get(e.instance);
    if (!row || FINISHED.has((await refreshLiveness(runs, row, ctx.env.clock)).status)) finished.add(e.instance);
  }
  plan.strandedEnvironments = strandedInstances(await compute.listEnvironments(), finished).map((e) => ({ name: e.name, instance: e.instance, path: e.path }));
  return plan;
}

function isEmptyPlan(plan: GcPlan): boolean {
  return plan.delete.length === 0 && plan.staleInstalls.length === 0 && plan.strandedEnvironments.length === 0;
}

/**
 * Retention for one target: deletes the versions past each artifact's `keep_last` that nothing uses,
 * uninstalls installs of versions the store no longer holds, and removes ephemeral environments left
 * by runs that were killed. Shows the plan; deletes only with `yes` (or a yes at the terminal).
 * This is also what a server runs nightly.
 */
export async function collectGarbage(options: GcOptions, ctx: OperationContext): Promise<GcResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", "artifacts gc");
  return withStores(compiled, ctx.env, async (stores) => {
    let plan = await planGc(compiled, stores, options, ctx);
    options.onPlan?.(plan);
    if (isEmptyPlan(plan)) return { ...plan, dryRun: false, freedBytes: 0 };
    if (!options.yes) {
      const question = `Delete ${plan.delete.length} version(s)${plan.staleInstalls.length ? `, uninstall ${plan.staleInstalls.length} stale install(s)` : ""}${plan.strandedEnvironments.length ? `, remove ${plan.strandedEnvironments.length} stranded environment(s)` : ""} in ${plan.project}/${plan.target}?`;
      if (!ctx.confirm || !(await ctx.confirm(question))) return { ...plan, dryRun: true, freedBytes: 0 };
    }
    return withLease(compiled, stores, ctx, "artifacts gc", options.forceUnlock, async () => {
      plan = await planGc(compiled, stores, options, ctx); // again, under the lock
      const store = artifactStoreFor(compiled, ctx.env.home);
      let freedBytes = 0;
      for (const d of plan.delete) {
        const v = await store.get(d.artifact, d.version);
        if (v) freedBytes += (await store.delete(v)).freedBytes;
      }
      for (const a of new Set(plan.delete.map((d) => d.artifact))) freedBytes += await store.sweep(a);
      const ectx = environmentContext(compiled, stores, ctx, { env: ctx.env.processEnv, onLine: (stream, line) => ctx.reporter.output?.("artifacts gc", stream, line) });
      for (const s of plan.staleInstalls) {
        const env: EnvironmentRow | undefined = await ectx.compute.getEnvironment(s.environment, s.instance);
        const row: InstallRow | undefined = (await ectx.compute.listInstalls({ environment: s.environment, instance: s.instance, artifact: s.artifact }))[0];
        if (env && row && existsSync(env.path)) await uninstallPackage(ectx.io, env.path, env.python, row.package);
        await ectx.compute.deleteInstall(s.environment, s.instance, s.artifact);
      }
      for (const e of plan.strandedEnvironments) await removeEnvironment(ectx, e.name, e.instance);
      return { ...plan, dryRun: false, freedBytes };
    });
  });
}
