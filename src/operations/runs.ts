// Runs of jobs: start, list, show, wait for, read logs of, and cancel them.
import { existsSync, openSync, readSync, closeSync, statSync } from "node:fs";
import { iso } from "../clock.js";
import { InvalidInputError, RefusedError, type Diagnostic } from "../errors.js";
import { executorFor, executorNamed } from "../executors/index.js";
import type { RunHandle } from "../executors/executor.js";
import { CANCEL_GRACE_MS } from "../executors/local/local-executor.js";
import { refreshLiveness } from "../runs/liveness.js";
import { executeRun } from "../runs/runner.js";
import { runDir, runPaths } from "../runs/paths.js";
import { captureJobBundle, findJob, MAX_SWEEP_RUNS, sourceOfConfig, submitRun, submitRuns, withMaskedSecrets, type RunSource, type SubmitOptions } from "../runs/submit.js";
import { jobDefinition } from "../runs/job-definition.js";
import { packBundle } from "../bundles/index.js";
import { writeFile } from "node:fs/promises";
import { openArchives } from "../store/archives.js";
import type { Stores } from "../store/open.js";
import type { RuntimeEnv } from "../env.js";
import type { RunRow, RunTaskRow } from "../store/state/run-store.js";
import { resolve } from "node:path";
import { moduleEnvironment } from "../config/env-files.js";
import { diffFields } from "../engine/plan.js";
import type { CompiledProject } from "../kinds/compile-project.js";
import { specOf } from "../kinds/index.js";
import type { JobSpec } from "../kinds/job/index.js";
import type { DesiredResource, RecordedResource } from "../resources.js";
import { didYouMean } from "../util/suggest.js";
import { authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";

export const FINISHED = new Set(["succeeded", "failed", "cancelled", "lost"]);

export interface RunSummary {
  id: string;
  job: string;
  project: string;
  target: string;
  status: string;
  params: Record<string, string>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  /** Why it started: manual, schedule (with the schedule's name in triggerRef) or deploy (run_on_deploy). */
  trigger: string;
  triggerRef: string | null;
}

export interface TaskSummary {
  task: string;
  status: string;
  attempts: number;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  cachedFrom: string | null;
  error: string | null;
}

export interface RunDetails extends RunSummary {
  bundle: string;
  executor: string;
  /** Where the executor runs it (for the local executor: the runner's pid and host). */
  handle: Record<string, unknown>;
  tasks: TaskSummary[];
  results: unknown;
  metrics: unknown;
  provenance: Record<string, unknown> | null;
}

export interface RunRequest extends ProjectOptions, SubmitOptions {
  job: string;
  /**
   * Run the job as the config declares it now instead of as deployed to the target (development:
   * `run --from-source`). By default a run executes the deployed job, and a job that is not deployed
   * to the target is refused.
   */
  fromSource?: boolean;
}

export async function startRun(options: RunRequest, ctx: OperationContext): Promise<RunSummary> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_RUN", "run", `job.${options.job}`);
  return withStores(compiled, ctx.env, async (stores) => summary(await submitRun(compiled, stores, await runSource(compiled, stores, options, (m) => ctx.reporter.warn(m)), options, ctx.env)));
}

/**
 * The key of the job `name` names: a job's key, else its `title` among the deployed jobs, else among
 * the config's. A title shared by several jobs is refused (run one by its key).
 */
function jobKey(name: string, recorded: RecordedResource[], compiled: CompiledProject): string {
  const jobs = [recorded.filter((r) => r.kind === "job"), compiled.resources.filter((r) => r.kind === "job")];
  if (jobs.some((list) => list.some((j) => j.name === name))) return name;
  for (const list of jobs) {
    const titled = list.filter((j) => j.spec.title === name);
    if (titled.length === 1) return titled[0]!.name;
    if (titled.length > 1) {
      throw new InvalidInputError([{ message: `the title "${name}" names ${titled.length} jobs: ${titled.map((j) => j.name).join(", ")}`, hint: "run one of them by its key" }], "unknown_job");
    }
  }
  return name;
}

export interface SweepRequest extends RunRequest {
  /** Each parameter swept and its values; one run per combination (the first name varies slowest). */
  values: Record<string, string[]>;
}

export interface SweepSummary {
  /** The sweep's id (each run's provenance has `sweep: { id, index, of }`). */
  sweep: string;
  runs: RunSummary[];
}

/**
 * Starts one run per combination of the swept values (with `params` fixed for all): a parameter
 * sweep. The executor takes them in one request when it can (a Slurm job array), else one by one.
 */
export async function startSweep(options: SweepRequest, ctx: OperationContext): Promise<SweepSummary> {
  const paramSets = sweepCombinations(options.values, options.params ?? {});
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_RUN", "run", `job.${options.job}`);
  return withStores(compiled, ctx.env, async (stores) => {
    const rows = await submitRuns(compiled, stores, await runSource(compiled, stores, options, (m) => ctx.reporter.warn(m)), options, paramSets, ctx.env);
    const sweep = (JSON.parse(rows[0]!.provenance ?? "{}") as { sweep?: { id: string } }).sweep?.id ?? rows[0]!.id;
    return { sweep, runs: rows.map(summary) };
  });
}

/** How many of a sweep's unfinished runs `waitForSweep` asks the executor about each second. */
const SWEEP_CHECKS_PER_SECOND = 10;

/** Waits until every run of a sweep has finished; `onFinished` is called as each one does. */
export async function waitForSweep(options: ProjectOptions & { sweep: string; runs: string[]; onFinished?: (run: RunSummary) => void }, ctx: OperationContext): Promise<SweepSummary> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "runs show");
  return withStores(compiled, ctx.env, async (stores) => {
    const runs = stores.state.runs();
    const rows = new Map<string, RunRow>();
    // Each poll reads the unfinished runs' rows; once a second it asks the executor about a few of
    // them, in turn (on Slurm each ask is a process: a sweep of hundreds must not start hundreds a second).
    let next = 0;
    for (let poll = 0; ; poll++) {
      const open = options.runs.filter((id) => !FINISHED.has(rows.get(id)?.status ?? "queued"));
      const ask = new Set(poll % LIVENESS_EVERY_POLLS === 0 ? open.slice(next % Math.max(open.length, 1)).concat(open).slice(0, SWEEP_CHECKS_PER_SECOND) : []);
      next += ask.size;
      for (const id of open) {
        let row = (await runs.get(id))!;
        if (ask.has(id)) row = await refreshLiveness(runs, row, ctx.env.clock);
        rows.set(id, row);
        if (FINISHED.has(row.status)) options.onFinished?.(summary(row));
      }
      if (options.runs.every((id) => FINISHED.has(rows.get(id)?.status ?? "queued"))) break;
      await new Promise((r) => setTimeout(r, open.length > 50 ? 1000 : 100));
    }
    return { sweep: options.sweep, runs: options.runs.map((id) => summary(rows.get(id)!)) };
  });
}

/** Every combination of the swept values, each with the fixed parameters; checked before anything is recorded. */
export function sweepCombinations(values: Record<string, string[]>, fixed: Record<string, string>): Record<string, string>[] {
  const names = Object.keys(values);
  const problems: Diagnostic[] = [];
  if (names.length === 0) problems.push({ message: "a sweep needs at least one --values NAME=V1,V2,…", hint: "write --values learning_rate=0.1,0.01" });
  for (const name of names) {
    if (values[name]!.length === 0) problems.push({ message: `--values ${name} has no values`, hint: `write --values ${name}=V1,V2` });
    if (Object.hasOwn(fixed, name)) problems.push({ message: `parameter "${name}" is both swept (--values) and fixed (--param)`, hint: "give it with one of the two" });
  }
  const count = names.reduce((n, name) => n * Math.max(1, values[name]!.length), 1);
  if (count > MAX_SWEEP_RUNS) problems.push({ message: `the sweep makes ${count} runs, more than ${MAX_SWEEP_RUNS}`, hint: "sweep fewer values, or split it into several sweeps" });
  if (problems.length) throw new InvalidInputError(problems, "invalid_flag");
  let sets: Record<string, string>[] = [{ ...fixed }];
  for (const name of names) sets = sets.flatMap((set) => values[name]!.map((v) => ({ ...set, [name]: v })));
  return sets;
}

/**
 * The job a run executes: the one deployed to the target (its recorded spec, with the module's
 * environment as it is today), or with `fromSource` the one in the config. A job the config declares
 * but the target does not have is refused (exit 3); one neither has is unknown (exit 2).
 */
export async function runSource(compiled: CompiledProject, stores: Stores, options: { job: string; fromSource?: boolean }, warn: (message: string) => void): Promise<RunSource> {
  if (options.fromSource) return sourceOfConfig(compiled, options.job);
  const { project } = compiled;
  const where = `${project.name}/${project.target.name}`;
  const recorded = await stores.state.forTarget(project.name, project.target.name).listResources();
  const address = `job.${jobKey(options.job, recorded, compiled)}`;
  const deployed = recorded.find((r) => r.address === address);
  const declared = compiled.resources.find((r) => r.address === address);
  if (!deployed) {
    if (declared) {
      const deploy = `slipway deploy -t ${project.target.name}${declared.phase > 0 ? ` --phase ${declared.phase}` : ""}`;
      throw new RefusedError("job_not_deployed", `job ${options.job} is not deployed to ${where}${declared.phase > 0 ? ` (it is in phase ${declared.phase})` : ""}`, {
        hint: `deploy it first (${deploy}), or run it from your working copy with --from-source`,
      });
    }
    const names = [...new Set([...recorded, ...compiled.resources].filter((r) => r.kind === "job").map((r) => r.name))].sort();
    throw new InvalidInputError(
      [{ message: `no job "${options.job}" in ${project.name}`, hint: didYouMean(options.job, names) ?? (names.length ? `jobs: ${names.join(", ")}` : "declare one under resources.jobs in a module.yaml") }],
      "unknown_job",
    );
  }
  if (declared && declared.specHash !== deployed.specHash) {
    const fields = diffFields(deployed.spec, declared.spec).map((c) => c.path);
    warn(
      `job ${options.job} in the config differs from the one deployed to ${where}${fields.length ? ` (${fields.slice(0, 5).join(", ")}${fields.length > 5 ? ", …" : ""})` : ""}: running the deployed job; deploy to update it, or use --from-source`,
    );
  }
  const marker = recorded.find((r) => r.address === `module.${deployed.module}`);
  const moduleDir = project.modules.find((m) => m.name === deployed.module)?.dir ?? resolve(project.dir, String(marker?.spec.dir ?? "."));
  const runtime =
    declared?.runtime ??
    (() => {
      const env = moduleEnvironment(project, deployed.module, moduleDir);
      return { cwd: moduleDir, env: env.vars, secrets: env.secrets };
    })();
  const job: DesiredResource<JobSpec> = { address, kind: "job", name: deployed.name, module: deployed.module, phase: deployed.phase, spec: specOf(deployed, "job"), specHash: deployed.specHash, dependsOn: deployed.dependsOn, runtime };
  return {
    origin: "deployed",
    job,
    moduleDir,
    resource: (kind, name) => {
      const r = recorded.find((x) => x.kind === kind && x.name === name);
      return r && { spec: specOf(r, kind) };
    },
  };
}

/** Writes a job's bundle as a .tar.gz (to run elsewhere, or later with `run --bundle`). */
export async function exportBundle(options: ProjectOptions & { job: string; out: string; params?: Record<string, string> }, ctx: OperationContext): Promise<{ hash: string; files: number; bytes: number; out: string }> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "bundle");
  const job = jobDefinition(findJob(compiled, options.job), options.params ?? {});
  const archives = openArchives(ctx.env.home, compiled.project.dir, compiled.project.archives);
  const bundle = await captureJobBundle(compiled, withMaskedSecrets(job, compiled.secrets), archives.job_source, ctx.env);
  const data = await packBundle(archives.job_source, bundle.hash);
  await writeFile(options.out, data);
  return { hash: bundle.hash, files: bundle.manifest.files.length, bytes: data.length, out: options.out };
}

export interface BundleSummary {
  job: string;
  /** The bundle's content hash (what a run records as its `bundle`). */
  hash: string;
  files: number;
  /** Bytes of the files it holds. */
  bytes: number;
  /** Bytes this capture newly stored in the job-source archive (0 when nothing changed). */
  bytesWritten: number;
  /** The .tar.gz written (with `out`), else null. */
  out: string | null;
  archiveBytes: number | null;
  /** Each file with its size and sha256, sorted by path. */
  manifest: Array<{ path: string; size: number; sha256: string }>;
}

/**
 * Captures a job's bundle (its source, resolved configuration, task scripts and runner) into the
 * job-source archive and describes it; with `out`, also writes it as a .tar.gz (`slipway bundle`).
 * The SDK's `Slipway.bundle()`.
 */
export async function describeBundle(options: ProjectOptions & { job: string; out?: string; params?: Record<string, string> }, ctx: OperationContext): Promise<BundleSummary> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "bundle");
  const job = jobDefinition(findJob(compiled, options.job), options.params ?? {});
  const archives = openArchives(ctx.env.home, compiled.project.dir, compiled.project.archives);
  const bundle = await captureJobBundle(compiled, withMaskedSecrets(job, compiled.secrets), archives.job_source, ctx.env);
  let archiveBytes: number | null = null;
  if (options.out) {
    const data = await packBundle(archives.job_source, bundle.hash);
    await writeFile(options.out, data);
    archiveBytes = data.length;
  }
  return {
    job: job.job,
    hash: bundle.hash,
    files: bundle.manifest.files.length,
    bytes: bundle.bytesTotal,
    bytesWritten: bundle.bytesWritten,
    out: options.out ?? null,
    archiveBytes,
    manifest: bundle.manifest.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
  };
}

/**
 * Runs a job attached to this process (`run --wait`): one process instead of a CLI plus a runner, the
 * log lines as they are written, and Ctrl-C cancels the run.
 */
export async function runAttached(
  options: RunRequest & { onStarted?: (run: RunSummary) => void; onLine?: (task: string, line: string) => void },
  ctx: OperationContext,
): Promise<RunDetails> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_RUN", "run", `job.${options.job}`);
  return withStores(compiled, ctx.env, async (stores) => {
    const source = await runSource(compiled, stores, options, (m) => ctx.reporter.warn(m));
    if (!executorFor(compiled.project.target.config).capabilities.attach) {
      // The run executes where the executor puts it (a Slurm node): submitted like any run, then followed.
      const row = await submitRun(compiled, stores, source, { ...options, attached: false }, ctx.env);
      options.onStarted?.(summary(row));
      await followUntilFinished(stores, compiled, row.id, ctx, options.onLine);
      return details(stores, row.id, ctx);
    }
    const inServer = ctx.cancel !== undefined;
    const row = await submitRun(compiled, stores, source, { ...options, attached: true, attachedInServer: inServer }, ctx.env);
    options.onStarted?.(summary(row));
    let recorded!: () => void;
    const ended = new Promise<void>((resolve) => (recorded = resolve));
    const running = executeRun(row.id, runDir(ctx.env.home, row.id), ctx.env, { onLine: options.onLine, cancel: ctx.cancel, onEnded: recorded });
    if (!inServer) await running;
    else {
      // The server answers its client once the run is recorded as ended; it puts the run's folders
      // away after (a CLI process must wait for that before it exits).
      await Promise.race([ended, running]);
      running.catch((e: Error) => ctx.reporter.warn(`run ${row.id}: ${e.message}`));
    }
    return details(stores, row.id, ctx);
  });
}

/**
 * Streams a submitted run's log lines until it has finished; Ctrl-C (SIGINT) or SIGTERM cancels it
 * (once; the following goes on until the runner has recorded the end). A queued run's reason (a
 * scheduler's "pending: waiting for resources") is reported when it changes.
 */
async function followUntilFinished(stores: Stores, compiled: CompiledProject, id: string, ctx: OperationContext, onLine?: (task: string, line: string) => void): Promise<void> {
  let cancelling: Promise<unknown> | undefined;
  const onSignal = () => {
    cancelling ??= (async () => {
      ctx.reporter.info(`cancelling run ${id}`);
      const row = await stores.state.runs().get(id);
      if (row && !FINISHED.has(row.status)) await cancelRunRow(stores, row, ctx.env);
    })().catch((e: Error) => ctx.reporter.warn(`could not cancel run ${id}: ${e.message}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    let reason: string | null = null;
    await followLogs(stores, compiled, id, ctx, {
      follow: true,
      onLine: onLine ?? (() => {}),
      onRow: (row) => {
        if (row.status === "queued" && row.error && row.error !== reason) ctx.reporter.info(`run ${row.id} is queued: ${row.error}`);
        reason = row.error;
      },
    });
    await cancelling;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export async function listRuns(options: ProjectOptions & { job?: string; limit?: number }, ctx: OperationContext): Promise<RunSummary[]> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "runs");
  return withStores(compiled, ctx.env, async (stores) => {
    const runs = stores.state.runs();
    const rows = await runs.list({ project: compiled.project.name, target: compiled.project.target.name, job: options.job, limit: options.limit });
    return Promise.all(rows.map(async (r) => summary(await refreshLiveness(runs, r, ctx.env.clock))));
  });
}

export async function showRun(options: ProjectOptions & { run: string }, ctx: OperationContext): Promise<RunDetails> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "runs show");
  return withStores(compiled, ctx.env, (stores) => details(stores, options.run, ctx));
}

/** Polls until the run finishes; `onTick` is called on each poll (to stream logs). */
export async function waitForRun(options: ProjectOptions & { run: string; onTick?: () => void; pollMs?: number }, ctx: OperationContext): Promise<RunDetails> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "runs show");
  return withStores(compiled, ctx.env, async (stores) => {
    const runs = stores.state.runs();
    let row = await findRun(stores, options.run);
    for (let i = 0; !FINISHED.has(row.status); i++) {
      await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
      options.onTick?.();
      row = (await runs.get(row.id))!;
      if (i % 20 === 19) row = await refreshLiveness(runs, row, ctx.env.clock);
    }
    options.onTick?.();
    return details(stores, row.id, ctx);
  });
}

export async function cancelRun(options: ProjectOptions & { run: string }, ctx: OperationContext): Promise<RunSummary> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_RUN", "cancel");
  return withStores(compiled, ctx.env, async (stores) => summary(await cancelRunRow(stores, await findRun(stores, options.run), ctx.env)));
}

/** Cancels one run (its runner and task process groups, then its record); `reason` is what it records. */
export async function cancelRunRow(stores: Stores, found: RunRow, env: RuntimeEnv, reason = "cancelled"): Promise<RunRow> {
  const runs = stores.state.runs();
  const row = await refreshLiveness(runs, found, env.clock);
  if (FINISHED.has(row.status)) throw new RefusedError("run_finished", `run ${row.id} already finished (${row.status})`, { hint: "only queued or running runs can be cancelled" });
  const handle = JSON.parse(row.handle) as RunHandle;
  // A run the home's server executes for a CLI (run handed over): its pid is the server's, which a
  // signal would stop; the runner reads the request with its heartbeat and stops the run as on SIGTERM.
  if ((handle.host && handle.host !== env.host) || (handle.attached && handle.in_server)) return cancelElsewhere(stores, row, String(handle.host), env, reason);
  const executor = executorNamed(row.executor);
  const groups = (await runs.tasks(row.id)).filter((t) => t.status === "running" && t.pid).map((t) => t.pid!);
  await executor?.cancel(handle, groups, env.clock);
  const now = iso(env.clock.now());
  if (await runs.transition(row.id, ["queued", "running"], { status: "cancelled", finished_at: now, error: reason })) {
    for (const t of await runs.tasks(row.id)) if (t.status === "running" || t.status === "pending") await runs.updateTask(row.id, t.task, { status: "cancelled", finished_at: now });
  }
  return (await runs.get(row.id))!;
}

/** How long a cancel waits for a runner on another host to stop its run: its grace period, and a few heartbeats. */
export const CANCEL_ELSEWHERE_WAIT_MS = CANCEL_GRACE_MS + 10_000;

/**
 * A run on another host (another server on the same state database, a cluster node): this process
 * cannot signal its runner, so the request is recorded in the state, where the runner reads it with
 * its heartbeat (every second) and stops as it would on SIGTERM. Waits for the run to end; a runner
 * that stopped answering is found lost by the usual heartbeat rule meanwhile.
 */
async function cancelElsewhere(stores: Stores, row: RunRow, host: string, env: RuntimeEnv, reason: string): Promise<RunRow> {
  const runs = stores.state.runs();
  await runs.requestCancel({ run_id: row.id, requested_at: iso(env.clock.now()), requested_by: env.user, host: env.host, reason });
  const deadline = env.clock.now() + CANCEL_ELSEWHERE_WAIT_MS;
  let current = row;
  while (!FINISHED.has(current.status)) {
    if (env.clock.now() >= deadline) {
      throw new RefusedError("run_elsewhere", `run ${row.id} runs on ${host}: its cancellation is recorded, but its runner has not stopped it within ${Math.round(CANCEL_ELSEWHERE_WAIT_MS / 1000)} s`, {
        hint: `the runner stops the run when it next reads the state database; \`slipway runs show ${row.id}\` shows when it has`,
      });
    }
    await env.clock.sleep(200);
    const fresh = await runs.get(row.id);
    if (!fresh) break;
    current = await refreshLiveness(runs, fresh, env.clock);
  }
  return current;
}

/**
 * Log lines of a run's tasks, from the run folder while it is here, else from the stage-logs archive.
 * With `follow`, keeps reading until the run has finished.
 */
export async function runLogs(
  options: ProjectOptions & { run: string; task?: string; follow?: boolean; onLine: (task: string, line: string) => void },
  ctx: OperationContext,
): Promise<RunSummary> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "logs");
  return withStores(compiled, ctx.env, async (stores) => summary(await followLogs(stores, compiled, (await findRun(stores, options.run)).id, ctx, options)));
}

/** A followed run's executor is asked whether its runner is still there every this many polls of 100 ms (on Slurm, each ask starts scontrol). */
const LIVENESS_EVERY_POLLS = 10;
/** The name a run's compute-environment lines are shown under (runs/<id>/logs/environment.log). */
const ENVIRONMENT_LOG = "environment";

/** Prints a run's log lines (what is there, or with `follow` until it finishes); returns the run as it ended. */
async function followLogs(
  stores: Stores,
  compiled: CompiledProject,
  id: string,
  ctx: OperationContext,
  options: { task?: string; follow?: boolean; onLine: (task: string, line: string) => void; onRow?: (row: RunRow) => void },
): Promise<RunRow> {
  const runs = stores.state.runs();
  let row = (await runs.get(id))!;
  const allTasks = async () => (await runs.tasks(row.id)).map((t) => t.task);
  const known = await allTasks();
  if (options.task && known.length && !known.includes(options.task)) {
    throw new InvalidInputError([{ message: `run ${row.id} has no task "${options.task}"`, hint: `its tasks: ${known.join(", ")}` }], "unknown_task");
  }
  const readers = new Map<string, LogReader>();
  const archives = openArchives(ctx.env.home, compiled.project.dir, compiled.project.archives);
  // A run whose task logs are not on this machine (a Kubernetes pod without a shared volume): its lines
  // come from the executor (the pod's log) while it runs, then from the archive, without repeating.
  const executor = executorNamed(row.executor);
  const remote = executor?.readOutput ? new RemoteOutput((h) => executor.readOutput!(h)) : undefined;
  const paths = runPaths(runDir(ctx.env.home, row.id));
  const pump = async (askRemote: boolean) => {
    let local = false;
    // The compute environment's lines (made, repaired, removed) first, as an attached run shows them
    // under "[environment]": that name is not a task's (the job schema reserves it in a job that uses
    // an environment).
    const streams = options.task ? [options.task] : [ENVIRONMENT_LOG, ...(await allTasks())];
    for (const task of streams) {
      let reader = readers.get(task);
      if (!reader) readers.set(task, (reader = new LogReader(task === ENVIRONMENT_LOG && !options.task ? paths.environmentLog : paths.taskLog(task))));
      if (reader.exists()) {
        local = true;
        reader.read((line) => options.onLine(task, line));
      } else if (FINISHED.has(row.status) && !reader.fromArchive) {
        reader.fromArchive = true;
        const archived = await archives.stage_logs.get(`runs/${row.id}/${task}.log`);
        for (const line of archived?.toString("utf8").split("\n").slice(0, -1).slice(remote?.shown(task) ?? 0) ?? []) options.onLine(task, line);
      }
    }
    if (remote && askRemote && !local && !FINISHED.has(row.status)) {
      await remote.read(JSON.parse(row.handle) as RunHandle, (task, line) => {
        if (!options.task || options.task === task) options.onLine(task, line);
      });
    }
  };
  await pump(true);
  for (let poll = 1; options.follow && !FINISHED.has(row.status); poll++) {
    await new Promise((r) => setTimeout(r, 100));
    row = (await runs.get(row.id))!;
    if (poll % LIVENESS_EVERY_POLLS === 0) {
      row = await refreshLiveness(runs, row, ctx.env.clock);
      options.onRow?.(row);
    }
    await pump(poll % LIVENESS_EVERY_POLLS === 0);
  }
  await pump(false);
  return row;
}

/** The task lines of a runner's output kept by its executor ("[task] line", as the pod's runner writes them), each shown once. */
class RemoteOutput {
  private consumed = 0;
  private readonly counts = new Map<string, number>();
  constructor(private readonly fetch: (handle: RunHandle) => Promise<string | undefined>) {}
  shown(task: string): number {
    return this.counts.get(task) ?? 0;
  }
  async read(handle: RunHandle, onLine: (task: string, line: string) => void): Promise<void> {
    const text = await this.fetch(handle).catch(() => undefined);
    if (text === undefined) return;
    const lines = text.split("\n").slice(0, -1); // whole lines only
    for (const line of lines.slice(this.consumed)) {
      const m = /^\[([^\]]+)\] (.*)$/s.exec(line);
      if (!m) continue;
      this.counts.set(m[1]!, this.shown(m[1]!) + 1);
      onLine(m[1]!, m[2]!);
    }
    this.consumed = Math.max(this.consumed, lines.length);
  }
}

/** Reads a growing log file incrementally, whole lines at a time. */
class LogReader {
  private offset = 0;
  private partial = "";
  fromArchive = false;
  constructor(private readonly file: string) {}
  exists(): boolean {
    return existsSync(this.file);
  }
  read(onLine: (line: string) => void): void {
    const size = statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = openSync(this.file, "r");
    try {
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const lines = (this.partial + buffer.toString("utf8")).split("\n");
      this.partial = lines.pop()!;
      for (const line of lines) onLine(line);
    } finally {
      closeSync(fd);
    }
  }
}

export async function findRun(stores: Stores, id: string): Promise<RunRow> {
  const runs = stores.state.runs();
  const exact = await runs.get(id);
  if (exact) return exact;
  const matches = await runs.findByPrefix(id);
  if (matches.length === 1) return matches[0]!;
  throw new InvalidInputError(
    [{ message: matches.length ? `run id "${id}" is ambiguous` : `no run "${id}"`, hint: matches.length ? `it starts ${matches.map((m) => m.id).join(", ")}; type more of it` : "see `slipway runs` for run ids" }],
    "unknown_run",
  );
}

async function details(stores: Stores, id: string, ctx: OperationContext): Promise<RunDetails> {
  const runs = stores.state.runs();
  const row = await refreshLiveness(runs, await findRun(stores, id), ctx.env.clock);
  const tasks = await runs.tasks(row.id);
  return {
    ...summary(row),
    bundle: row.bundle,
    executor: row.executor,
    handle: JSON.parse(row.handle),
    tasks: tasks.map(taskSummary),
    results: row.results ? JSON.parse(row.results) : null,
    metrics: row.metrics ? JSON.parse(row.metrics) : null,
    provenance: row.provenance ? JSON.parse(row.provenance) : null,
  };
}

export function summary(r: RunRow): RunSummary {
  return {
    id: r.id,
    job: r.job,
    project: r.project,
    target: r.target,
    status: r.status,
    params: JSON.parse(r.params),
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.started_at && r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : null,
    error: r.error,
    trigger: r.trigger,
    triggerRef: r.trigger_ref,
  };
}

function taskSummary(t: RunTaskRow): TaskSummary {
  return {
    task: t.task,
    status: t.status,
    attempts: t.attempts,
    exitCode: t.exit_code,
    startedAt: t.started_at,
    finishedAt: t.finished_at,
    durationMs: t.started_at && t.finished_at ? Date.parse(t.finished_at) - Date.parse(t.started_at) : null,
    cachedFrom: t.cached_from,
    error: t.error,
  };
}
