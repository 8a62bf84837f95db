// What a kind's unit tests need: compiling a small project written as files (with the problems and
// their file:line:column), and a ProviderContext on real stores — SQLite state and a filesystem blob
// store in a temp folder, the target's real archive and artifact stores — with in-memory fakes only
// for the TargetServices interfaces that reach outside the target (serving). See src/kinds/README.md.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { ArtifactStore } from "../../src/artifacts/store.js";
import { ManualClock } from "../../src/clock.js";
import type { EnvironmentContext } from "../../src/compute/environments.js";
import { loadProject } from "../../src/config/load.js";
import type { ActionLog, ProviderContext } from "../../src/engine/provider.js";
import { readRuntimeEnv, type RuntimeEnv } from "../../src/env.js";
import { InvalidInputError, type Diagnostic } from "../../src/errors.js";
import { compileProject, type CompiledProject } from "../../src/kinds/compile-project.js";
import { moduleFileSchema } from "../../src/kinds/module-file.js";
import type { TargetServices } from "../../src/kinds/services.js";
import type { DesiredResource, RecordedResource } from "../../src/resources.js";
import type { FileHashes } from "../../src/bundles/output-files.js";
import type { AppControl, ServingControl } from "../../src/serving/control.js";
import type { AppConfig } from "../../src/serving/apps/config.js";
import { materializeBundle } from "../../src/bundles/index.js";
import type { EndpointConfig } from "../../src/serving/endpoints.js";
import { openArchives, type ArchiveStores } from "../../src/store/archives.js";
import type { BlobStore } from "../../src/store/blobs/blob-store.js";
import { blobStoreAt, openStores, type Stores } from "../../src/store/open.js";
import type { ModelStore } from "../../src/store/state/model-store.js";
import type { TargetState } from "../../src/store/state/state-store.js";

/** Writes `files` under `dir` (scripts ending in .sh are made executable). */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    if (path.endsWith(".sh")) chmodSync(full, 0o755);
  }
}

/** A temp folder removed by `cleanup`. */
export function tempDir(prefix = "slipway-unit-"): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CompileOptions {
  target?: string;
  vars?: Record<string, string>;
  /** Where the project is written (kept); a temp folder removed after compiling when absent. */
  dir?: string;
}

/** A project's slipway.yaml with one target `dev` that includes every module.yaml under modules/. */
export function projectYaml(extra = "", name = "unit"): string {
  return `project: ${name}\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n${extra}`;
}

/** Compiles a project written as files; throws InvalidInputError with every problem, like `slipway validate`. */
export function compileFiles(files: Record<string, string>, options: CompileOptions = {}): CompiledProject {
  const own = options.dir ? undefined : tempDir();
  const dir = options.dir ?? own!.dir;
  try {
    writeFiles(dir, files);
    const diagnostics: Diagnostic[] = [];
    const project = loadProject({ moduleSchema: moduleFileSchema, diagnostics, dir, target: options.target, vars: options.vars, envVars: {}, user: "tester", env: {} });
    return compileProject(project, diagnostics);
  } finally {
    own?.cleanup();
  }
}

/** A problem as `file:line:column: message`, the file relative to the project folder. */
export interface Problem {
  where: string;
  message: string;
  hint?: string;
}

/** Compiles and returns the problems (none when the project is valid). */
export function compileProblems(files: Record<string, string>, options: CompileOptions = {}): Problem[] {
  const own = options.dir ? undefined : tempDir();
  const dir = options.dir ?? own!.dir;
  try {
    compileFiles(files, { ...options, dir });
    return [];
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    return e.diagnostics.map((d) => ({
      where: d.location ? `${relative(dir, resolve(d.location.file))}:${d.location.line}:${d.location.column}` : "",
      message: d.message,
      hint: d.hint,
    }));
  } finally {
    own?.cleanup();
  }
}

/** The compiled resource at `address` (fails the test when it is missing). */
export function resourceAt<Spec = Record<string, unknown>>(compiled: CompiledProject, address: string): DesiredResource<Spec> {
  const r = compiled.resources.find((x) => x.address === address);
  if (!r) throw new Error(`no ${address}; compiled: ${compiled.resources.map((x) => x.address).join(", ")}`);
  return r as unknown as DesiredResource<Spec>;
}

/** What state would record after `desired` was applied with `outputs`. */
export function recordedFrom<Spec>(desired: DesiredResource<Spec>, outputs: Record<string, unknown> = {}): RecordedResource<Spec> {
  return { address: desired.address, kind: desired.kind, name: desired.name, module: desired.module, phase: desired.phase, spec: desired.spec, specHash: desired.specHash, dependsOn: desired.dependsOn, outputs, createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z" };
}

/** Registers a version of `model` in `models` as a run would (a command-flavor model by default); returns its number. */
export function registerVersion(models: ModelStore, model: string, manifest: Record<string, unknown> = { flavor: "command", command: "python3 serve.py", health: "/health", startup_timeout: 60 }, files: FileHashes = {}): Promise<number> {
  return models.addVersion({ model, registered_name: model, flavor: String(manifest.flavor), manifest: JSON.stringify(manifest), files: JSON.stringify(files), metrics: "{}", tags: "{}", run_id: "r-test", job: "train", bundle: null, created_at: "2026-01-01T00:00:00.000Z" });
}

/** A fake ServingControl: remembers what it was asked, serves nothing, starts no process. */
/** The apps a deploy handed to "the server", in memory; bundles laid out for real under `root`. */
export class FakeAppControl implements AppControl {
  readonly applied: AppConfig[] = [];
  readonly live = new Map<string, AppConfig>();
  constructor(private readonly root: string) {}
  async appDir(name: string, bundle: string, blobs: BlobStore): Promise<string> {
    const dir = join(this.root, name, bundle);
    if (!existsSync(dir)) await materializeBundle(blobs, bundle, dir);
    return dir;
  }
  async apply(config: AppConfig): Promise<{ url: string }> {
    this.applied.push(config);
    this.live.set(config.name, config);
    return { url: "http://127.0.0.1:7878" };
  }
  async remove(name: string): Promise<void> {
    this.live.delete(name);
  }
  async sweepAppDirs(name: string, keep: ReadonlySet<string>): Promise<string[]> {
    const appRoot = join(this.root, name);
    const removed = existsSync(appRoot) ? readdirSync(appRoot).map((b) => join(appRoot, b)).filter((d) => !keep.has(d)) : [];
    for (const d of removed) rmSync(d, { recursive: true, force: true });
    return removed;
  }
}

export class FakeServingControl implements ServingControl {
  readonly applied: EndpointConfig[] = [];
  readonly live = new Map<string, EndpointConfig>();
  readonly retired: Array<{ name: string; archive: string }> = [];
  readonly modelDirs: Array<{ model: string; version: number; files: FileHashes; source: string }> = [];
  /** Rows "archived" by the next retire. */
  inferenceRows = 0;
  url = "http://fake-serving.invalid";

  async modelDir(model: string, version: number, files: FileHashes, source: BlobStore): Promise<string> {
    this.modelDirs.push({ model, version, files, source: source.location });
    return `/fake-models/${model}/${version}`;
  }

  async apply(config: EndpointConfig): Promise<{ url: string }> {
    this.applied.push(config);
    this.live.set(config.name, config);
    return { url: this.url };
  }

  /** The model folders a sweep was told to keep, per sweep. */
  readonly sweeps: Array<string[]> = [];
  async sweepModelDirs(keep: ReadonlySet<string>): Promise<string[]> {
    this.sweeps.push([...keep].sort());
    const dirs = this.modelDirs.map((d) => `/fake-models/${d.model}/${d.version}`);
    return [...new Set(dirs)].filter((d) => !keep.has(d));
  }

  async retire(name: string, archive: BlobStore): Promise<{ archived: number; key?: string }> {
    this.retired.push({ name, archive: archive.location });
    this.live.delete(name);
    const archived = this.inferenceRows;
    this.inferenceRows = 0;
    return archived ? { archived, key: `inference/${name}.jsonl.gz` } : { archived: 0 };
  }
}

/** A log that keeps what a provider wrote and the process groups it reported. */
export class RecordingLog implements ActionLog {
  readonly lines: Array<{ stream: "stdout" | "stderr"; line: string }> = [];
  readonly children: Array<number | null> = [];
  output(stream: "stdout" | "stderr", line: string): void {
    this.lines.push({ stream, line });
  }
  async childStarted(pid: number | null): Promise<void> {
    this.children.push(pid);
  }
  text(): string {
    return this.lines.map((l) => l.line).join("\n");
  }
}

export interface KindHarness {
  root: string;
  /** SLIPWAY_HOME of this harness. */
  home: string;
  /** The project folder (empty until a test writes to it). */
  projectDir: string;
  project: string;
  target: string;
  stores: Stores;
  state: TargetState;
  blobs: BlobStore;
  archives: ArchiveStores;
  artifacts: ArtifactStore;
  clock: ManualClock;
  serving: FakeServingControl;
  services: TargetServices;
  /** A fresh context (its own log and signal) for one provider call. */
  context(options?: { signal?: AbortSignal; deploymentId?: string }): ProviderContext<TargetServices> & { log: RecordingLog };
  cleanup(): Promise<void>;
}

/** The environment scripts start from: enough to find bash and python, nothing of the test's own. */
export function scriptEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", SLIPWAY_HOME: home };
}

/** A ProviderContext for project `unit`, target `dev`, on real stores in a temp folder. */
export async function kindHarness(options: { project?: string; target?: string } = {}): Promise<KindHarness> {
  const project = options.project ?? "unit";
  const target = options.target ?? "dev";
  const root = mkdtempSync(join(tmpdir(), "slipway-kind-"));
  const home = join(root, "home");
  const projectDir = join(root, "project");
  mkdirSync(projectDir, { recursive: true });
  const stores = await openStores(home);
  const state = stores.state.forTarget(project, target);
  const archives = openArchives(home, projectDir);
  const artifacts = new ArtifactStore(archives.artifacts, project, target);
  const clock = new ManualClock();
  const serving = new FakeServingControl();
  const compute = stores.state.compute(project, target);
  const services: TargetServices = {
    scripts: { env: scriptEnv(home), projectDir },
    user: "tester",
    models: stores.state.models(project, target),
    archives,
    archiveAt: blobStoreAt,
    artifacts,
    environments: (io): EnvironmentContext => ({ home, project, target, compute, artifacts, user: "tester", clock, io }),
    serving,
    // Endpoints served on Kubernetes are tested against the fake API server (test/integration/k8s-serving.test.ts).
    cluster: {
      apply: () => Promise.reject(new Error("the kind harness has no Kubernetes cluster")),
      remove: () => Promise.reject(new Error("the kind harness has no Kubernetes cluster")),
      readiness: async () => ({ state: "unknown", replicas: 0, readyReplicas: 0, reason: "the kind harness has no Kubernetes cluster" }),
    },
    apps: new FakeAppControl(join(home, "apps")),
  };
  let contexts = 0;
  return {
    root,
    home,
    projectDir,
    project,
    target,
    stores,
    state,
    blobs: stores.blobs,
    archives,
    artifacts,
    clock,
    serving,
    services,
    context: (o = {}) => ({
      project,
      target,
      deploymentId: o.deploymentId ?? `d-test-${++contexts}`,
      state,
      blobs: stores.blobs,
      clock,
      signal: o.signal ?? new AbortController().signal,
      log: new RecordingLog(),
      services,
    }),
    async cleanup() {
      await stores.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A RuntimeEnv for operations run in-process against `home`, with a clock the test moves. */
export function runtimeEnv(home: string, clock = new ManualClock(), extra: NodeJS.ProcessEnv = {}): RuntimeEnv {
  return { ...readRuntimeEnv({ ...scriptEnv(home), SLIPWAY_USER: "tester", SLIPWAY_SERVER_PORT: "0", NO_COLOR: "1", ...extra }), clock };
}
