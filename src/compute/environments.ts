// Compute environments (SPEC's clusters): an isolated Python environment per (project, target,
// name) under SLIPWAY_HOME/envs/, with the project's libraries installed from the target's artifact
// store. Deployed environments belong to their `compute.NAME` resource; an ephemeral environment is
// made for one run (instance = the run id) and removed when the run ends. Every environment and every
// install is recorded in state (compute_environments, compute_installs), which is how
// `artifacts list` and `artifacts gc` know what is in use.
import { join } from "node:path";
import { iso, type Clock } from "../clock.js";
import { LIBRARY } from "../config/schema.js";
import { InvalidInputError, SlipwayError } from "../errors.js";
import type { ArtifactStore, ArtifactVersion } from "../artifacts/store.js";
import type { ComputeStore, EnvironmentRow, InstallRow } from "../store/state/compute-store.js";
import { article } from "../util/suggest.js";
import { existsSync } from "node:fs";
import { rmdir } from "node:fs/promises";
import { createVenv, installFile, removeVenv, resolvePython, uninstallPackage, venvPython, type ProcessIO } from "./venv.js";

/** A compute resource's block in module.yaml, as compiled. */
export type ComputeSpec = {
  module?: string;
  description?: string;
  python?: string;
  libraries?: string[];
  ephemeral?: boolean;
  pip?: boolean;
};

export interface EnvironmentContext {
  home: string;
  project: string;
  target: string;
  compute: ComputeStore;
  artifacts: ArtifactStore;
  user: string;
  clock: Clock;
  io: ProcessIO;
}

export function environmentPath(home: string, project: string, target: string, name: string, instance = ""): string {
  return join(home, "envs", project, target, instance ? `${name}.${instance}` : name);
}

export function parseLibrary(lib: string): { artifact: string; version: string } {
  const m = LIBRARY.exec(lib);
  if (!m) throw new InvalidInputError([{ message: `"${lib}" is not ARTIFACT@VERSION`, hint: 'for example "dqm@2.6.10"' }], "invalid_library");
  return { artifact: m[1]!, version: m[2]! };
}

/** The "does not exist" error, listing the versions that do (newest first). */
export function missingVersion(artifact: string, version: string, target: string, published: ArtifactVersion[]): InvalidInputError {
  const names = published.map((v) => v.version);
  return new InvalidInputError(
    [
      {
        message: `${artifact} ${version} does not exist in the ${target} artifact store; ${names.length ? `published versions: ${names.slice(0, 20).join(", ")}${names.length > 20 ? `, … (${names.length} in all)` : ""}` : "no version of it is published there"}`,
        hint: names.length ? `pick one of those, or publish ${version}: slipway artifacts publish ${artifact} -t ${target}` : `build and publish it first: slipway artifacts build ${artifact} && slipway artifacts publish ${artifact} -t ${target}`,
      },
    ],
    "unknown_version",
  );
}

/** Looks every library up in the artifact store; fails before anything changes when one is missing. */
export async function resolveLibraries(artifacts: ArtifactStore, target: string, libraries: readonly string[]): Promise<ArtifactVersion[]> {
  const found: ArtifactVersion[] = [];
  const problems = [];
  for (const lib of libraries) {
    const { artifact, version } = parseLibrary(lib);
    const v = await artifacts.get(artifact, version);
    if (v) {
      if (v.type !== "python_wheel") problems.push({ message: `${artifact} is ${article(v.type)} artifact; only python_wheel artifacts can be installed into a compute environment` });
      else found.push(v);
    } else {
      problems.push(...missingVersion(artifact, version, target, await artifacts.list(artifact)).diagnostics);
    }
  }
  if (problems.length) throw new InvalidInputError(problems, "unknown_version");
  return found;
}

/**
 * Makes (or adopts) the environment and installs `libraries` into it. For an ephemeral instance,
 * `instance` is the run id.
 */
export async function ensureEnvironment(ctx: EnvironmentContext, name: string, spec: ComputeSpec, instance = "", runId: string | null = null): Promise<EnvironmentRow> {
  const versions = await resolveLibraries(ctx.artifacts, ctx.target, spec.libraries ?? []);
  const python = resolvePython(spec.python);
  const path = environmentPath(ctx.home, ctx.project, ctx.target, name, instance);
  const made = await createVenv(ctx.io, python, path, { pip: spec.pip });
  // A new folder holds nothing, whatever was recorded for an earlier one (deleted by hand, say).
  if (made.created) for (const stale of await ctx.compute.listInstalls({ environment: name, instance })) await ctx.compute.deleteInstall(name, instance, stale.artifact);
  const row: Omit<EnvironmentRow, "project" | "target"> = {
    name,
    instance,
    path,
    python,
    python_version: made.version,
    ephemeral: instance ? 1 : 0,
    run_id: runId,
    created_at: (await ctx.compute.getEnvironment(name, instance))?.created_at ?? iso(ctx.clock.now()),
  };
  await ctx.compute.putEnvironment(row);
  const installed = new Map((await ctx.compute.listInstalls({ environment: name, instance })).map((i) => [i.artifact, i]));
  for (const v of versions) {
    const have = installed.get(v.artifact);
    if (have?.sha256 === v.sha256) continue;
    await install(ctx, row, v);
  }
  return { ...row, project: ctx.project, target: ctx.target };
}

/** Installs one version into an environment (replacing the installed version of that artifact). */
export async function install(ctx: EnvironmentContext, env: Pick<EnvironmentRow, "name" | "instance" | "path" | "python">, v: ArtifactVersion): Promise<InstallRow> {
  ctx.io.onLine("stdout", `installing ${v.artifact} ${v.version} (${v.filename}) into ${env.name}`);
  await installFile(ctx.io, env.path, env.python, v.filename, await ctx.artifacts.content(v));
  const row = {
    environment: env.name,
    instance: env.instance,
    artifact: v.artifact,
    version: v.version,
    sha256: v.sha256,
    package: v.package,
    filename: v.filename,
    installed_at: iso(ctx.clock.now()),
    installed_by: ctx.user,
  };
  await ctx.compute.putInstall(row);
  return { ...row, project: ctx.project, target: ctx.target };
}

/** Removes one artifact from an environment (pip uninstall) and forgets the install. */
export async function uninstall(ctx: EnvironmentContext, env: Pick<EnvironmentRow, "name" | "instance" | "path" | "python">, installed: InstallRow): Promise<void> {
  ctx.io.onLine("stdout", `uninstalling ${installed.artifact} ${installed.version} from ${env.name}`);
  await uninstallPackage(ctx.io, env.path, env.python, installed.package);
  await ctx.compute.deleteInstall(env.name, env.instance, installed.artifact);
}

/**
 * Applies a change of `libraries` to a deployed environment: what the config changed is installed or
 * uninstalled; a version chosen by hand (`artifacts install`) for a library whose pin did not change
 * stays. Missing versions fail before anything changes.
 */
export async function syncLibraries(ctx: EnvironmentContext, name: string, before: ComputeSpec, after: ComputeSpec): Promise<EnvironmentRow> {
  const wanted = await resolveLibraries(ctx.artifacts, ctx.target, after.libraries ?? []);
  const env = await ensureEnvironment(ctx, name, { ...after, libraries: [] });
  const pinnedBefore = new Map((before.libraries ?? []).map((l) => [parseLibrary(l).artifact, parseLibrary(l).version]));
  const installed = new Map((await ctx.compute.listInstalls({ environment: name, instance: "" })).map((i) => [i.artifact, i]));
  for (const v of wanted) {
    const have = installed.get(v.artifact);
    const pinChanged = pinnedBefore.get(v.artifact) !== v.version;
    if (!have || (pinChanged && have.sha256 !== v.sha256)) await install(ctx, env, v);
  }
  const wantedNames = new Set(wanted.map((v) => v.artifact));
  for (const [artifact, have] of installed) {
    if (!wantedNames.has(artifact) && pinnedBefore.has(artifact)) await uninstall(ctx, env, have);
  }
  return env;
}

/**
 * A deployed environment whose folder is gone (deleted by hand, a wiped disk) is made again with the
 * versions recorded as installed, so a version chosen by hand survives. Returns the environment, or
 * undefined when it was never deployed.
 */
export async function repairEnvironment(ctx: EnvironmentContext, name: string, spec: ComputeSpec = {}): Promise<EnvironmentRow | undefined> {
  const row = await ctx.compute.getEnvironment(name);
  if (!row) return undefined;
  if (existsSync(venvPython(row.path))) return row;
  const libraries = (await ctx.compute.listInstalls({ environment: name, instance: "" })).map((i) => `${i.artifact}@${i.version}`);
  ctx.io.onLine("stdout", `the folder of compute.${name} (${row.path}) is missing: making it again with ${libraries.length ? libraries.join(", ") : "no libraries"}`);
  return ensureEnvironment(ctx, name, { ...spec, python: row.python, libraries });
}

/** Deletes the environment's folder (and the project's and target's folders once empty) and forgets it and its installs. */
export async function removeEnvironment(ctx: Pick<EnvironmentContext, "compute" | "home" | "project" | "target">, name: string, instance = ""): Promise<void> {
  const row = await ctx.compute.getEnvironment(name, instance);
  await removeVenv(row?.path ?? environmentPath(ctx.home, ctx.project, ctx.target, name, instance));
  await removeEmptyFolders([join(ctx.home, "envs", ctx.project, ctx.target), join(ctx.home, "envs", ctx.project)]);
  await ctx.compute.deleteEnvironment(name, instance);
}

/** Removes each folder in turn while it is empty (another environment being made may fill it: then it stays). */
async function removeEmptyFolders(folders: string[]): Promise<void> {
  for (const folder of folders) {
    try {
      await rmdir(folder);
    } catch {
      return; // not empty, or gone
    }
  }
}

/** What a run records about the environment it ran in. */
export interface EnvironmentProvenance {
  name: string;
  ephemeral: boolean;
  instance: string;
  path: string;
  python: string;
  python_version: string;
  libraries: Record<string, { version: string; sha256: string; package: string; filename: string }>;
}

export async function describeEnvironment(compute: ComputeStore, name: string, instance = ""): Promise<EnvironmentProvenance> {
  const env = await compute.getEnvironment(name, instance);
  if (!env) throw new SlipwayError("environment_missing", `compute environment ${name} is not recorded`);
  const installs = await compute.listInstalls({ environment: name, instance });
  return {
    name,
    ephemeral: env.ephemeral === 1,
    instance,
    path: env.path,
    python: env.python,
    python_version: env.python_version,
    libraries: Object.fromEntries(installs.map((i) => [i.artifact, { version: i.version, sha256: i.sha256, package: i.package, filename: i.filename }])),
  };
}
