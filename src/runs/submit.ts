// Submitting a run: resolve the job, capture its bundle, record the run, hand it to the executor.
// Returns as soon as the executor has the run; the run goes on without the caller.
import { mkdirSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { iso } from "../clock.js";
import { findResource, resourcesOfKind, type CompiledProject } from "../kinds/compile-project.js";
import type { JobSpec } from "../kinds/job/index.js";
import type { KindSpecs } from "../kinds/specs.js";
import { InvalidInputError, RefusedError, SlipwayError } from "../errors.js";
import { ArtifactStore } from "../artifacts/store.js";
import { resolveLibraries } from "../compute/environments.js";
import type { RuntimeEnv } from "../env.js";
import { captureBundle, packBundle, unpackArchive, type CaptureResult } from "../bundles/index.js";
import type { DesiredResource } from "../resources.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { executorFor } from "../executors/index.js";
import { openArchives } from "../store/archives.js";
import type { Stores } from "../store/open.js";
import type { RunRow, RunStore } from "../store/state/run-store.js";
import type { RunHandle } from "../executors/executor.js";
import { gitInfo } from "../util/git.js";
import { hashValue, sha256 } from "../util/hash.js";
import { didYouMean } from "../util/suggest.js";
import { redact } from "../util/redact.js";
import { newId } from "../util/ids.js";
import { INSTRUCTIONS_FILE, writeInstructions, type RunEnvironment } from "./instructions.js";
import { bundleExtras, jobDefinition, runTimeLimit, type JobDefinition } from "./job-definition.js";
import { runDir } from "./paths.js";

export interface SubmitOptions {
  params?: Record<string, string>;
  keepWorkdir?: boolean;
  noCache?: boolean;
  /** Run the job's code from this bundle archive (`slipway bundle`) instead of its source folder. */
  bundleArchive?: string;
  /**
   * The caller executes the run itself (`run --wait`): no separate runner process is started, and the
   * run is tied to the caller (Ctrl-C cancels it; if the caller is killed the run shows as lost).
   */
  attached?: boolean;
  /**
   * The attached run executes in the home's server for a CLI that handed it over (src/cli/run-handoff):
   * its handle says so, and `cancel` then asks through the state (the runner reads it with its
   * heartbeat) instead of signalling the pid, which is the server's.
   */
  attachedInServer?: boolean;
  /** Why the run starts (default manual); a schedule's runs name it in `ref`. */
  trigger?: { kind: RunTrigger; ref?: string };
  /**
   * Also write the run's bundle as a .tar.gz next to its working folder: `runs/<id>/bundle.tgz` under
   * SLIPWAY_HOME (the reference process ships this archive to the backend; here it is kept to inspect,
   * or to run elsewhere with `run --bundle`). It stays after the run.
   */
  writeBundle?: boolean;
  /** The run's id, picked by the caller (a schedule's fire claims it before starting, so a takeover never starts two). */
  runId?: string;
}

/** The bundle archive `writeBundle` asks for, in the run's folder beside `work/`. */
export const RUN_BUNDLE_FILE = "bundle.tgz";

export type RunTrigger = "manual" | "schedule" | "deploy" | "pipeline";

/** A job by its key, or else by its `title` (which must then name one job only). */
export function findJob(compiled: CompiledProject, jobName: string): DesiredResource<JobSpec> {
  const jobs = resourcesOfKind(compiled, "job");
  if (!jobs.some((j) => j.name === jobName)) {
    const titled = jobs.filter((j) => j.spec.title === jobName);
    if (titled.length === 1) return titled[0]!;
    if (titled.length > 1) {
      throw new InvalidInputError([{ message: `the title "${jobName}" names ${titled.length} jobs: ${titled.map((j) => j.name).join(", ")}`, hint: "run one of them by its key" }], "unknown_job");
    }
  }
  return findResource(compiled, "job", jobName, { noun: "job", plural: "jobs", code: "unknown_job" });
}

/**
 * What a run is made from: the job (its spec, and the module environment as `runtime`) and the
 * resources its spec names (the model it registers, the compute environment it runs in), either as
 * deployed to the target (recorded in state) or as the config declares them now (`--from-source`).
 */
export interface RunSource {
  origin: "deployed" | "source";
  job: DesiredResource<JobSpec>;
  /** The job's module folder (its `source` is relative to it). */
  moduleDir: string;
  resource<K extends "model" | "compute">(kind: K, name: string): { spec: KindSpecs[K] } | undefined;
}

/** The job as the config declares it now (`run --from-source`; run_on_deploy, right after deploying it). */
export function sourceOfConfig(compiled: CompiledProject, jobName: string): RunSource {
  const job = findJob(compiled, jobName);
  return {
    origin: "source",
    job,
    moduleDir: compiled.project.modules.find((m) => m.name === job.module)!.dir,
    resource: (kind, name) => resourcesOfKind(compiled, kind).find((r) => r.name === name),
  };
}

/**
 * Captures the job's bundle: its source folder (or the code inside a bundle archive), with the
 * resolved job definition, task scripts and runner under .slipway/.
 */
export async function captureJobBundle(
  compiled: CompiledProject,
  job: JobDefinition,
  store: BlobStore,
  env: RuntimeEnv,
  archive?: string,
  moduleDir = compiled.project.modules.find((m) => m.name === job.module)!.dir,
): Promise<CaptureResult> {
  if (archive) {
    const unpacked = await mkdtemp(join(tmpdir(), "slipway-bundle-"));
    try {
      await unpackArchive(archive, join(unpacked, "src")).catch((e: Error) => {
        throw new InvalidInputError([{ message: `bundle archive ${archive}: ${e.message}`, hint: "use an archive made by `slipway bundle`; nothing was run" }], "unsafe_archive");
      });
      return await captureBundle(store, { sourceDir: join(unpacked, "src"), extraFiles: bundleExtras(job) });
    } finally {
      await rm(unpacked, { recursive: true, force: true });
    }
  }
  const sourceDir = job.source ? join(moduleDir, job.source) : undefined;
  return captureBundle(store, {
    sourceDir,
    extraFiles: bundleExtras(job),
    indexFile: sourceDir ? join(env.home, "cache", "bundle-index", `${sha256(sourceDir).slice(0, 16)}.json`) : undefined,
  });
}

/** The folder a job's code comes from: its `source`, else its module's folder (git provenance is read there). */
function jobFolder(compiled: CompiledProject, job: JobDefinition, moduleDir = compiled.project.modules.find((m) => m.name === job.module)!.dir): string {
  return job.source ? join(moduleDir, job.source) : moduleDir;
}

export async function submitRun(compiled: CompiledProject, stores: Stores, source: RunSource, options: SubmitOptions, env: RuntimeEnv): Promise<RunRow> {
  return (await submitRuns(compiled, stores, source, options, [options.params ?? {}], env))[0]!;
}

/** Largest sweep: one run per combination of values, each a row, a bundle record and (on Slurm) an array index. */
export const MAX_SWEEP_RUNS = 1000;

/**
 * Submits one run of the job per parameter set (a sweep when there are several): every run is
 * recorded and gets its instructions first, then the executor takes them all at once when it can
 * (a Slurm job array), else one by one. `options.params` is ignored here: `paramSets` are complete.
 */
export async function submitRuns(compiled: CompiledProject, stores: Stores, source: RunSource, options: SubmitOptions, paramSets: Record<string, string>[], env: RuntimeEnv): Promise<RunRow[]> {
  const { project } = compiled;
  const resource = source.job;
  const jobName = resource.name;
  if (paramSets.length === 0) return [];
  if (options.attached && paramSets.length > 1) throw new Error("only one run can execute attached");
  const jobs = paramSets.map((params) => jobDefinition(resource, params));
  for (const job of jobs) {
    if (!job.registers) continue;
    const model = source.resource("model", job.registers.model);
    job.registers.name = model?.spec.name ?? job.registers.model;
    job.registers.tags = model?.spec.tags ?? {};
  }
  const first = jobs[0]!;
  const executor = executorFor(project.target.config);
  if ((first.compute.gpus ?? 0) > 0 && !executor.capabilities.gpus) {
    throw new SlipwayError("unsupported", `job ${jobName} asks for ${first.compute.gpus} GPU(s), but the ${executor.name} executor of target ${project.target.name} has none`, {
      exitCode: 2,
      hint: "set compute.gpus: 0, or run it on a target whose executor has GPUs",
    });
  }

  // An executor whose runners run elsewhere (a Kubernetes pod) refuses stores they could not reach.
  executor.check?.({ target: project.target.name, home: env.home, projectDir: project.dir, state: project.target.config.state, blobs: project.target.config.blobs, archives: project.archives });
  const archives = openArchives(env.home, project.dir, project.archives);
  const environment = await runEnvironment(compiled, source, stores, first, archives.artifacts);
  const runs = stores.state.runs();
  const sweep = paramSets.length > 1 ? newId("s", env.clock.now()) : undefined;
  const prepared: Array<{ row: RunRow; dir: string; job: JobDefinition }> = [];
  // A run that could not be handed over must not stay queued forever, nor leave its instructions
  // (which hold the module environment) on disk.
  const abandon = async (e: unknown) => {
    for (const { row, dir } of prepared) {
      rmSync(join(dir, INSTRUCTIONS_FILE), { force: true });
      await runs.transition(row.id, ["queued"], { status: "failed", finished_at: iso(env.clock.now()), error: `could not start: ${(e as Error).message}` }).catch(() => {});
    }
  };
  try {
    for (const [index, job] of jobs.entries()) {
      prepared.push(await recordRun(compiled, runs, source, options, job, environment, env, executor.name, archives.job_source, sweep ? { id: sweep, index, of: jobs.length } : undefined));
    }
  } catch (e) {
    await abandon(e);
    throw e;
  }

  const handed: RunRow[] = [];
  try {
    const requests = prepared.map(({ row, dir, job }) => ({
      runId: row.id,
      runDir: dir,
      env: { ...env.processEnv, SLIPWAY_HOME: env.home },
      job: jobName,
      resources: { cpus: job.compute.cpus, memory: job.compute.memory, gpus: job.compute.gpus, timeLimitMs: runTimeLimit(job) },
    }));
    let handles: RunHandle[];
    if (options.attached) handles = [{ executor: executor.name, pid: process.pid, host: env.host, attached: true, ...(options.attachedInServer ? { in_server: true } : {}) }];
    else if (requests.length > 1 && executor.capabilities.arrays && executor.submitMany) handles = await executor.submitMany(requests);
    else {
      handles = [];
      for (const request of requests) {
        handles.push(await executor.submit(request));
        const { row } = prepared[handles.length - 1]!;
        await runs.update(row.id, { handle: JSON.stringify(handles.at(-1)) });
        handed.push({ ...row, handle: JSON.stringify(handles.at(-1)) });
      }
      return handed;
    }
    for (const [i, { row }] of prepared.entries()) {
      await runs.update(row.id, { handle: JSON.stringify(handles[i]) });
      handed.push({ ...row, handle: JSON.stringify(handles[i]) });
    }
    return handed;
  } catch (e) {
    // Runs already handed over go on; the others are recorded failed.
    const done = new Set(handed.map((r) => r.id));
    prepared.splice(0, prepared.length, ...prepared.filter((p) => !done.has(p.row.id)));
    await abandon(e);
    throw e;
  }
}

/** Captures one run's bundle, records the run queued and writes the runner's instructions. */
async function recordRun(
  compiled: CompiledProject,
  runs: RunStore,
  source: RunSource,
  options: SubmitOptions,
  job: JobDefinition,
  environment: RunEnvironment | undefined,
  env: RuntimeEnv,
  executorName: string,
  jobSource: BlobStore,
  sweep: { id: string; index: number; of: number } | undefined,
): Promise<{ row: RunRow; dir: string; job: JobDefinition }> {
  const { project } = compiled;
  // The bundle is content-addressed and kept: secret values never go into it (the runner gets them
  // through the run's instructions file, mode 0600, deleted when the run ends).
  // `git` runs (two processes, for the provenance) while the bundle is captured.
  const git = options.bundleArchive ? undefined : gitInfo(jobFolder(compiled, job, source.moduleDir), env.processEnv);
  const bundle = await captureJobBundle(compiled, withMaskedSecrets(job, compiled.secrets), jobSource, env, options.bundleArchive, source.moduleDir);
  // A caller-chosen id names one run only (a sweep's runs get their own).
  const id = (!sweep && options.runId) || newId("r", env.clock.now());
  const dir = runDir(env.home, id);
  mkdirSync(dir, { recursive: true });
  const archiveFile = options.writeBundle ? join(dir, RUN_BUNDLE_FILE) : undefined;
  if (archiveFile) await writeFile(archiveFile, await packBundle(jobSource, bundle.hash));
  const runtime = source.job.runtime!;
  const row: RunRow = {
    id,
    project: project.name,
    target: project.target.name,
    job: source.job.name,
    status: "queued",
    params: JSON.stringify(job.params),
    bundle: bundle.hash,
    config_hash: hashValue(job),
    executor: executorName,
    handle: JSON.stringify({ executor: executorName }),
    user: env.user,
    host: env.host,
    created_at: iso(env.clock.now()),
    started_at: null,
    finished_at: null,
    heartbeat_at: null,
    error: null,
    results: null,
    metrics: null,
    provenance: JSON.stringify({
      git: (await git) ?? null,
      // The job definition that ran: as deployed to the target, or as the config had it (--from-source).
      job_origin: source.origin,
      bundle: { hash: bundle.hash, files: bundle.manifest.files.length, bytes: bundle.bytesTotal, bytes_written: bundle.bytesWritten, from_archive: options.bundleArchive ?? null, ...(archiveFile ? { archive_file: archiveFile } : {}) },
      env_names: Object.keys({ ...runtime.env, ...job.env }).sort(),
      ...(environment ? { environment: { name: environment.name, ephemeral: environment.ephemeral } } : {}),
      ...(sweep ? { sweep } : {}),
    }),
    options: JSON.stringify({ keep_workdir: !!options.keepWorkdir, no_cache: !!options.noCache }),
    trigger: options.trigger?.kind ?? "manual",
    trigger_ref: options.trigger?.ref ?? null,
  };
  await runs.create(row);
  const entry = { row, dir, job };
  try {
    writeInstructions(dir, {
      runId: id,
      project: project.name,
      target: project.target.name,
      projectDir: project.dir,
      home: env.home,
      state: project.target.config.state,
      blobs: project.target.config.blobs,
      archives: project.archives,
      env: runtime.env,
      jobEnv: job.env,
      taskEnv: Object.fromEntries(Object.entries(job.tasks).map(([name, t]) => [name, t.env])),
      secrets: compiled.secrets,
      maxParallelRuns: project.target.config.executor?.max_parallel_runs ?? 4,
      maxParallelTasks: project.target.config.executor?.max_parallel_tasks ?? 4,
      keepWorkdir: !!options.keepWorkdir,
      noCache: !!options.noCache,
      retryBackoffMs: env.retryBackoffMs,
      environment,
    });
  } catch (e) {
    rmSync(join(dir, INSTRUCTIONS_FILE), { force: true });
    await runs.transition(id, ["queued"], { status: "failed", finished_at: iso(env.clock.now()), error: `could not start: ${(e as Error).message}` }).catch(() => {});
    throw e;
  }
  return entry;
}

/**
 * The job as it goes into the kept bundle: env values (job and task level) with secrets masked — the
 * runner gets the real ones from its instructions — and no secret inside a command, which could not
 * be masked without changing what runs.
 */
export function withMaskedSecrets(job: JobDefinition, secrets: readonly string[]): JobDefinition {
  const mask = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, redact(v, secrets)]));
  const leaking = Object.entries(job.tasks).filter(([, t]) => redact(t.command, secrets) !== t.command).map(([name]) => name);
  if (leaking.length) {
    throw new InvalidInputError(
      leaking.map((task) => ({
        message: `job ${job.job}${task === "main" ? "" : `, task ${task},`} has a secret value in its command, which would be stored in the bundle`,
        hint: "read the secret from the environment in the command instead (e.g. $SLIPWAY_VAR_token), not through ${var.token}",
      })),
      "secret_in_command",
    );
  }
  return { ...job, env: mask(job.env), tasks: Object.fromEntries(Object.entries(job.tasks).map(([name, t]) => [name, { ...t, env: mask(t.env) }])) };
}

/**
 * The compute environment a job runs in, checked before the run is recorded: a deployed one must be
 * there; an ephemeral one's libraries must be published (the run makes the environment).
 */
async function runEnvironment(compiled: CompiledProject, source: RunSource, stores: Stores, job: JobDefinition, artifactBlobs: BlobStore): Promise<RunEnvironment | undefined> {
  const name = job.compute.environment;
  if (!name) return undefined;
  const { project } = compiled;
  const target = project.target.name;
  const resource = source.resource("compute", name);
  const known = compiled.resources.filter((r) => r.kind === "compute").map((r) => r.name);
  if (!resource) throw new InvalidInputError([{ message: `job ${job.job} runs in compute environment "${name}", which is not declared`, hint: didYouMean(name, known) ?? "declare it under resources.compute" }], "unknown_environment");
  const spec = resource.spec;
  if (spec.ephemeral) {
    await resolveLibraries(new ArtifactStore(artifactBlobs, project.name, target), target, spec.libraries ?? []);
  } else {
    // A recorded environment whose folder is gone is made again by the runner (repairEnvironment).
    const row = await stores.state.compute(project.name, target).getEnvironment(name);
    if (!row) {
      throw new RefusedError("environment_not_deployed", `job ${job.job} runs in compute.${name}, which is not deployed to ${project.name}/${target}`, {
        hint: `deploy it first (slipway deploy -t ${target}), or set ephemeral: true on it to have each run make its own`,
      });
    }
  }
  return { name, ephemeral: !!spec.ephemeral, spec: { python: spec.python, libraries: spec.libraries ?? [], pip: spec.pip } };
}


