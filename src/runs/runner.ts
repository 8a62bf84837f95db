// The runner: executes one run's tasks in dependency order inside a fresh working folder, with
// retries, timeouts and the task cache, then archives outputs, logs and provenance. It runs in its
// own process (started by an executor), so a run outlives the command that submitted it.
import { appendFileSync, createWriteStream, existsSync, mkdirSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { iso } from "../clock.js";
import type { TargetConfig } from "../config/schema.js";
import type { RuntimeEnv } from "../env.js";
import { checkoutBundle, releaseSlot, returnWorkDir, type CheckoutResult } from "../bundles/index.js";
import { archiveLocations, openArchives, type ArchiveStores } from "../store/archives.js";
import { ArtifactStore } from "../artifacts/store.js";
import { describeEnvironment, ensureEnvironment, removeEnvironment, repairEnvironment, type EnvironmentContext, type EnvironmentProvenance } from "../compute/environments.js";
import { openStores, type Stores } from "../store/open.js";
import type { RunRow, RunStore } from "../store/state/run-store.js";
import type { ModelStore } from "../store/state/model-store.js";
import { registerFromRun } from "../registry/register.js";
import { hashValue } from "../util/hash.js";
import { redact } from "../util/redact.js";
import { killProcessGroup, runScript } from "../util/run-script.js";
import { readInstructions, INSTRUCTIONS_FILE, type RunInstructions } from "./instructions.js";
import type { JobDefinition, TaskDefinition } from "./job-definition.js";
import { runDag } from "../util/dag.js";
import { archiveFiles, changedFiles, hashTree, type FileHashes } from "../bundles/output-files.js";
import { archiveRunArtifacts } from "./run-artifacts.js";
import { cacheEntryKey, lookupEntry, publishEntry, restoreFromAny } from "./task-cache.js";
import { runPaths, workDirPool } from "./paths.js";
import { executorNamed } from "../executors/index.js";
import type { RunHandle } from "../executors/executor.js";

/** `key` identifies the task's inputs (its own and, through theirs, its upstream tasks'). */
type TaskOutcome = { ok: boolean; outputs: FileHashes; key: string };

export interface RunnerHooks {
  /** Each task log line as it is written (already masked); used when the caller runs attached. */
  onLine?(task: string, line: string): void;
  /** The instructions, when they did not come in the run's folder (a Kubernetes pod gets them in its environment). */
  instructions?: RunInstructions;
  /** Cancels the run; when given, the process's SIGTERM and SIGINT are not listened to (the server runs a client's attached run). */
  cancel?: AbortSignal;
  /** Once the run is recorded as ended, before its folders are put away (the server answers its client then). */
  onEnded?(): void;
}

export async function executeRun(runId: string, dir: string, env: RuntimeEnv, hooks: RunnerHooks = {}): Promise<void> {
  const instr = hooks.instructions ?? readInstructions(dir);
  // Read once; the module environment (secrets included) does not stay on disk while the run goes on.
  rmSync(join(dir, INSTRUCTIONS_FILE), { force: true });
  const stores = await openStores(instr.home, { state: instr.state, blobs: instr.blobs } as TargetConfig, env.storePool);
  const runs = stores.state.runs();
  const archives = openArchives(instr.home, instr.projectDir, instr.archives);
  const paths = runPaths(dir);
  const stop = new AbortController();
  const taskGroups = new Set<number>();
  const onTerm = () => {
    stop.abort("cancelled");
    for (const g of taskGroups) {
      try {
        process.kill(-g, "SIGTERM");
      } catch {
        /* gone */
      }
    }
  };
  const signals = !hooks.cancel;
  if (signals) {
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onTerm);
  } else if (hooks.cancel!.aborted) onTerm();
  else hooks.cancel!.addEventListener("abort", onTerm, { once: true });
  let heartbeat: NodeJS.Timeout | undefined;
  let environmentCtx: EnvironmentContext | undefined;
  let madeInstance = false;
  let checkout: CheckoutResult | undefined;
  let pool: ReturnType<typeof workDirPool> | undefined;
  // An ephemeral environment goes with the run that made it, whatever the outcome, and before the run
  // is recorded as ended: whoever follows the run (`run --wait`, `logs -f`) stops at its end status,
  // so the environment's last lines and its log in the archive must already be there.
  let endedCalled = false;
  const ended = () => {
    if (endedCalled) return;
    endedCalled = true;
    hooks.onEnded?.();
  };
  let environmentReleased = false;
  const releaseEnvironment = async () => {
    if (environmentReleased) return;
    environmentReleased = true;
    if (madeInstance && environmentCtx && instr.environment) {
      await removeEnvironment(environmentCtx, instr.environment.name, runId).catch((e: Error) => environmentCtx!.io.onLine("stderr", `could not remove the ephemeral environment: ${e.message}`));
      environmentCtx.io.onLine("stdout", `removed the ephemeral environment ${instr.environment.name} of run ${runId}`);
    }
    if (existsSync(paths.environmentLog)) await archives.stage_logs.putFile(`runs/${runId}/environment.log`, paths.environmentLog).catch(() => {});
  };
  try {
    // A cancellation asked from another host (recorded in the state: it cannot signal this process)
    // stops the run as SIGTERM would; it is read with every heartbeat and while waiting for a slot.
    let cancelReason: string | undefined;
    const cancelAsked = async () => {
      if (stop.signal.aborted) return;
      const asked = await runs.cancelRequest(runId);
      if (!asked || stop.signal.aborted) return;
      cancelReason = asked.reason;
      appendFileSync(paths.runnerLog, `${iso(env.clock.now())} cancel requested by ${asked.requested_by} on ${asked.host}\n`);
      onTerm();
    };
    if (!(await waitForSlot(runs, runId, instr, env, stop.signal, paths.runnerLog, cancelAsked))) return;
    heartbeat = setInterval(() => void runs.update(runId, { heartbeat_at: env.clock.now() }).then(cancelAsked).catch(() => {}), 1000);
    const row = (await runs.get(runId))!;
    // The working folder of an earlier run of this job, put right, or the bundle written afresh.
    pool = workDirPool(instr.home, instr.project, row.job);
    checkout = await checkoutBundle(archives.job_source, row.bundle, paths.work, pool);
    const job = JSON.parse(await readFile(join(paths.work, ".slipway", "job.json"), "utf8")) as JobDefinition;
    mkdirSync(paths.output, { recursive: true });
    mkdirSync(paths.logs, { recursive: true });
    let environment: EnvironmentProvenance | undefined;
    if (instr.environment) {
      environmentCtx = runEnvironmentContext(instr, stores, archives, env, row.user, paths.environmentLog, hooks, stop.signal);
      environment = await prepareEnvironment(environmentCtx, instr, runId, () => (madeInstance = true));
    }
    for (const task of Object.keys(job.tasks)) {
      await runs.putTask({ run_id: runId, task, status: "pending", attempts: 0, exit_code: null, pid: null, started_at: null, finished_at: null, cached_from: null, cache_key: null, outputs: null, error: null });
    }

    const models = stores.state.models(instr.project, instr.target);
    const context: TaskContext = { runId, row, job, instr, env, runs, models, archives, paths, signal: stop.signal, taskGroups, hooks, environment };
    const outcomes = await runTaskGraph(context);
    const cancelled = stop.signal.aborted;
    const ok = !cancelled && [...outcomes.values()].every((o) => o.ok) && outcomes.size === Object.keys(job.tasks).length;
    // Stopped by a signal: a cancellation, unless the executor is ending the run for a reason of its
    // own (Slurm's time limit, a preemption), which is then what the run records.
    const ending = cancelled ? await executorEnding(runs, runId) : undefined;
    await releaseEnvironment();
    await finish(context, ending?.status ?? (cancelled ? "cancelled" : ok ? "succeeded" : "failed"), ending?.reason ?? (cancelled ? cancelReason : undefined));
    ended();
  } catch (e) {
    await releaseEnvironment();
    await runs.transition(runId, ["queued", "running"], { status: "failed", finished_at: iso(env.clock.now()), error: (e as Error).message });
    ended();
  } finally {
    clearInterval(heartbeat);
    await releaseEnvironment();
    rmSync(join(dir, INSTRUCTIONS_FILE), { force: true });
    if (!instr.keepWorkdir) {
      if (checkout && pool) returnWorkDir(checkout, pool); // kept for the next run of this job
      rmSync(paths.work, { recursive: true, force: true });
      rmSync(paths.output, { recursive: true, force: true });
    } else if (checkout) {
      releaseSlot(checkout);
    }
    await stores.close();
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onTerm);
    hooks.cancel?.removeEventListener("abort", onTerm);
    ended();
  }
}

/**
 * Waits until fewer than maxParallelRuns runs are running on this host, then marks this one running.
 * The first time it has to wait it says so in the runner's log (`runnerLog`).
 */
async function waitForSlot(runs: RunStore, runId: string, instr: RunInstructions, env: RuntimeEnv, signal: AbortSignal, runnerLog: string, cancelAsked: () => Promise<void>): Promise<boolean> {
  for (let waited = false; ; waited = true) {
    await cancelAsked();
    if (signal.aborted) {
      await runs.transition(runId, ["queued"], { status: "cancelled", finished_at: iso(env.clock.now()) });
      return false;
    }
    const running = (await runs.active(env.host)).filter((r) => r.status === "running" && r.executor === "local").length;
    if (running < instr.maxParallelRuns) {
      const now = env.clock.now();
      // `error` held why it was queued (a scheduler's reason); it is running now.
      return runs.transition(runId, ["queued"], { status: "running", started_at: iso(now), heartbeat_at: now, error: null });
    }
    if (!waited) appendFileSync(runnerLog, `${iso(env.clock.now())} waiting for a slot: ${running} of at most ${instr.maxParallelRuns} run(s) running on this host\n`);
    await env.clock.sleep(100, signal);
  }
}

interface TaskContext {
  runId: string;
  row: RunRow;
  job: JobDefinition;
  instr: RunInstructions;
  env: RuntimeEnv;
  runs: RunStore;
  models: ModelStore;
  archives: ArchiveStores;
  paths: ReturnType<typeof runPaths>;
  signal: AbortSignal;
  taskGroups: Set<number>;
  hooks: RunnerHooks;
  /** The compute environment the tasks run in, as it was when the run started. */
  environment?: EnvironmentProvenance;
}

function runEnvironmentContext(instr: RunInstructions, stores: Stores, archives: ArchiveStores, env: RuntimeEnv, user: string, logFile: string, hooks: RunnerHooks, signal: AbortSignal): EnvironmentContext {
  return {
    home: instr.home,
    project: instr.project,
    target: instr.target,
    compute: stores.state.compute(instr.project, instr.target),
    artifacts: new ArtifactStore(archives.artifacts, instr.project, instr.target),
    user,
    clock: env.clock,
    io: {
      env: env.processEnv,
      signal,
      onLine: (_stream, line) => {
        const masked = redact(line, instr.secrets);
        appendFileSync(logFile, masked + "\n");
        hooks.onLine?.("environment", masked);
      },
    },
  };
}

/** A deployed environment is used as it is; an ephemeral one is made for this run (instance = run id). */
async function prepareEnvironment(ctx: EnvironmentContext, instr: RunInstructions, runId: string, made: () => void): Promise<EnvironmentProvenance> {
  const { name, ephemeral, spec } = instr.environment!;
  if (ephemeral) {
    made();
    ctx.io.onLine("stdout", `making the ephemeral environment ${name} for run ${runId}`);
    await ensureEnvironment(ctx, name, spec, runId, runId);
    return describeEnvironment(ctx.compute, name, runId);
  }
  if (!(await repairEnvironment(ctx, name, spec))) throw new Error(`compute environment ${name} is not deployed to ${instr.target} (deploy it, or make it ephemeral)`);
  return describeEnvironment(ctx.compute, name);
}

/** Runs tasks as their dependencies succeed, at most maxParallelTasks at once; stops starting new ones on failure. */
async function runTaskGraph(ctx: TaskContext): Promise<Map<string, TaskOutcome>> {
  const names = Object.keys(ctx.job.tasks);
  const outcomes = new Map<string, TaskOutcome>();
  const { notStarted } = await runDag({
    nodes: names,
    key: (name) => name,
    prerequisites: (name) => ctx.job.tasks[name]!.dependsOn,
    limit: ctx.instr.maxParallelTasks,
    signal: ctx.signal,
    run: async (name) => {
      const outcome = await runTask(ctx, name, outcomes).catch((e): TaskOutcome => {
        void ctx.runs.updateTask(ctx.runId, name, { status: "failed", error: (e as Error).message, finished_at: iso(ctx.env.clock.now()) });
        return { ok: false, outputs: {}, key: "" };
      });
      outcomes.set(name, outcome);
      return outcome.ok;
    },
  });
  const unstarted = new Set(notStarted);
  for (const name of names) {
    if (unstarted.has(name)) await ctx.runs.updateTask(ctx.runId, name, { status: ctx.signal.aborted ? "cancelled" : "skipped" });
  }
  return outcomes;
}

async function runTask(ctx: TaskContext, name: string, outcomes: Map<string, TaskOutcome>): Promise<TaskOutcome> {
  const task = ctx.job.tasks[name]!;
  const log = createWriteStream(ctx.paths.taskLog(name), { flags: "a" });
  const write = (line: string) => {
    const masked = redact(line, ctx.instr.secrets);
    log.write(masked + "\n");
    ctx.hooks.onLine?.(name, masked);
  };
  try {
    // Everything a task's result depends on: the code, the command, parameters, the whole environment
    // (env files, variables, job and task env), the libraries of its compute environment, where it runs,
    // and the keys of the tasks it follows. Upstream keys, not upstream outputs, so tasks running side by
    // side cannot change each other's key.
    const upstream = Object.fromEntries(task.dependsOn.map((d) => [d, outcomes.get(d)?.key ?? ""]));
    const libraries = ctx.environment ? Object.fromEntries(Object.entries(ctx.environment.libraries).map(([a, l]) => [a, l.sha256])) : undefined;
    const key = hashValue({ project: ctx.instr.project, target: ctx.instr.target, bundle: ctx.row.bundle, task: name, command: task.command, params: ctx.job.params, moduleEnv: ctx.instr.env, env: ctx.instr.jobEnv, taskEnv: ctx.instr.taskEnv?.[name] ?? task.env, upstream, libraries });
    const cacheKey = task.cache ? key : null;
    if (cacheKey && !ctx.instr.noCache) {
      const hit = await findCached(ctx, name, cacheKey, write);
      if (hit) {
        write(`cache hit: reusing the outputs of run ${hit.runId} (task ${hit.task}${hit.fromArchive ? ", from the cache archive" : ""})`);
        const now = iso(ctx.env.clock.now());
        const outputs = JSON.stringify(hit.outputs);
        await ctx.runs.updateTask(ctx.runId, name, { status: "cached", cached_from: hit.runId, cache_key: cacheKey, outputs, started_at: now, finished_at: now, exit_code: 0 });
        return { ok: true, outputs: hit.outputs, key };
      }
    }
    const attempts = ctx.job.retries + 1;
    await ctx.runs.updateTask(ctx.runId, name, { status: "running", started_at: iso(ctx.env.clock.now()), cache_key: cacheKey });
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) write(`── attempt ${attempt} of ${attempts} ──`);
      const before = await hashTree(ctx.paths.output);
      const { code, timedOut } = await attemptTask(ctx, name, task, write, attempt);
      if (code === 0) {
        const outputs = changedFiles(before, await hashTree(ctx.paths.output));
        await archiveFiles(ctx.archives.persisted_data, ctx.paths.output, outputs);
        if (cacheKey) {
          const createdAt = iso(ctx.env.clock.now());
          // The archive's entry first (other homes find it there), then this home's index.
          await publishEntry(ctx.archives.cache, ctx.paths.output, { cache_key: cacheKey, project: ctx.instr.project, target: ctx.instr.target, task: name, run_id: ctx.runId, created_at: createdAt, outputs }).catch((e: Error) =>
            write(`warning: could not write the cache entry to the cache archive (${e.message}); only this home will reuse it`),
          );
          await ctx.runs.remember({ cache_key: cacheKey, run_id: ctx.runId, task: name, outputs: JSON.stringify(outputs), created_at: createdAt });
        }
        await ctx.runs.updateTask(ctx.runId, name, { status: "succeeded", exit_code: 0, attempts: attempt, pid: null, finished_at: iso(ctx.env.clock.now()), outputs: JSON.stringify(outputs) });
        return { ok: true, outputs, key };
      }
      const why = ctx.signal.aborted ? "cancelled" : timedOut ? `timed out after ${ctx.job.timeoutMs} ms` : `exited with code ${code}`;
      write(`task ${name} ${why}`);
      if (ctx.signal.aborted || attempt === attempts) {
        await ctx.runs.updateTask(ctx.runId, name, { status: ctx.signal.aborted ? "cancelled" : "failed", exit_code: code, attempts: attempt, pid: null, finished_at: iso(ctx.env.clock.now()), error: why });
        return { ok: false, outputs: {}, key };
      }
      const wait = ctx.instr.retryBackoffMs * 2 ** (attempt - 1);
      write(`retrying in ${wait} ms`);
      await ctx.env.clock.sleep(wait, ctx.signal);
      if (ctx.signal.aborted) {
        await ctx.runs.updateTask(ctx.runId, name, { status: "cancelled", attempts: attempt, pid: null, finished_at: iso(ctx.env.clock.now()), error: "cancelled" });
        return { ok: false, outputs: {}, key };
      }
    }
    return { ok: false, outputs: {}, key };
  } finally {
    await new Promise((r) => log.end(r));
  }
}

/**
 * A usable earlier result for `cacheKey`, its outputs already restored into the output folder: this
 * home's index first (outputs from persisted_data or the cache archive), then the cache archive's entry,
 * which is verified before use (task-cache.ts) and then indexed here. An unusable one is reported and
 * skipped; undefined means the task runs.
 */
async function findCached(ctx: TaskContext, task: string, cacheKey: string, write: (line: string) => void): Promise<{ runId: string; task: string; outputs: FileHashes; fromArchive: boolean } | undefined> {
  const stores = [ctx.archives.persisted_data, ctx.archives.cache].filter((s, i, all) => all.findIndex((o) => o.location === s.location) === i);
  const local = await ctx.runs.cached(cacheKey);
  if (local) {
    const outputs = JSON.parse(local.outputs) as FileHashes;
    const ok = await restoreFromAny(stores, outputs, ctx.paths.output).then(
      () => true,
      (e: Error) => (write(`cache entry of run ${local.run_id} is unusable (${e.message}); looking in the cache archive`), false),
    );
    if (ok) return { runId: local.run_id, task: local.task, outputs, fromArchive: false };
  }
  const found = await lookupEntry(ctx.archives.cache, cacheKey, { project: ctx.instr.project, target: ctx.instr.target, task }).catch((e: Error) => ({ problem: `the cache archive could not be read: ${e.message}` }));
  if (!found) return undefined;
  if ("problem" in found) {
    write(`warning: ignoring the cache archive's entry ${cacheEntryKey(cacheKey)}: ${found.problem}; running the task`);
    return undefined;
  }
  const { entry } = found;
  const restored = await restoreFromAny([ctx.archives.cache, ...stores.filter((s) => s.location !== ctx.archives.cache.location)], entry.outputs, ctx.paths.output).then(
    () => true,
    (e: Error) => (write(`warning: ignoring the cache archive's entry of run ${entry.run_id}: ${e.message}; running the task`), false),
  );
  if (!restored) return undefined;
  await ctx.runs.remember({ cache_key: cacheKey, run_id: entry.run_id, task: entry.task, outputs: JSON.stringify(entry.outputs), created_at: entry.created_at });
  return { runId: entry.run_id, task: entry.task, outputs: entry.outputs, fromArchive: true };
}

async function attemptTask(ctx: TaskContext, name: string, task: TaskDefinition, write: (line: string) => void, attempt: number): Promise<{ code: number; timedOut: boolean }> {
  const abort = new AbortController();
  const onStop = () => abort.abort();
  ctx.signal.addEventListener("abort", onStop, { once: true });
  let timedOut = false;
  // The timeout is measured on the run's clock (a test moves it instead of waiting).
  const timer = new AbortController();
  if (ctx.job.timeoutMs) {
    void ctx.env.clock.sleep(ctx.job.timeoutMs, timer.signal).then(() => {
      if (timer.signal.aborted) return;
      timedOut = true;
      abort.abort();
    });
  }
  let pgid: number | undefined;
  try {
    const params = Object.fromEntries(Object.entries(ctx.job.params).map(([k, v]) => [`SLIPWAY_PARAM_${k}`, v]));
    // The task's script, from the working folder: what the bundle's runner.sh does (`cd` there, then
    // `exec bash` the script), without its shell and its `dirname` (a few ms of every task's start).
    const code = await runScript({
      script: join(".slipway", "tasks", `${name}.sh`),
      cwd: ctx.paths.work,
      env: inEnvironment(
        {
          ...ctx.env.processEnv,
          ...ctx.instr.env,
          ...ctx.instr.jobEnv,
          ...(ctx.instr.taskEnv?.[name] ?? task.env),
          ...params,
          SLIPWAY_RUN_ID: ctx.runId,
          SLIPWAY_TASK: name,
          SLIPWAY_ATTEMPT: String(attempt),
          SLIPWAY_OUTPUT_DIR: ctx.paths.output,
          SLIPWAY_PROJECT_DIR: ctx.instr.projectDir,
          SLIPWAY_HOME: ctx.instr.home,
        },
        ctx.environment,
      ),
      signal: abort.signal,
      onLine: (_stream, line) => write(line),
      onStart: async (pid) => {
        pgid = pid;
        ctx.taskGroups.add(pid);
        await ctx.runs.updateTask(ctx.runId, name, { pid, attempts: attempt });
      },
    });
    return { code, timedOut };
  } finally {
    timer.abort();
    ctx.signal.removeEventListener("abort", onStop);
    if (pgid !== undefined) {
      ctx.taskGroups.delete(pgid);
      killProcessGroup(pgid); // nothing a task started outlives it
    }
  }
}

/** A task in a compute environment: its bin first on PATH, VIRTUAL_ENV set, no PYTHONHOME. */
function inEnvironment(base: NodeJS.ProcessEnv, environment: EnvironmentProvenance | undefined): NodeJS.ProcessEnv {
  if (!environment) return base;
  const env: NodeJS.ProcessEnv = { ...base, VIRTUAL_ENV: environment.path, PATH: `${join(environment.path, "bin")}${delimiter}${base.PATH ?? ""}`, SLIPWAY_COMPUTE_ENVIRONMENT: environment.name };
  delete env.PYTHONHOME;
  return env;
}

/** How the executor says the run is ending, when it knows better than "cancelled" (see ExecutorStatus.outcome). */
async function executorEnding(runs: RunStore, runId: string): Promise<{ status: "failed" | "cancelled" | "lost"; reason?: string } | undefined> {
  const row = await runs.get(runId);
  const executor = row && executorNamed(row.executor);
  if (!row || !executor) return undefined;
  const status = await executor.status(JSON.parse(row.handle) as RunHandle).catch(() => undefined);
  return status?.outcome ? { status: status.outcome, reason: status.reason } : undefined;
}

async function finish(ctx: TaskContext, status: "succeeded" | "failed" | "cancelled" | "lost", reason?: string): Promise<void> {
  const outputs = await hashTree(ctx.paths.output);
  // The outputs, their list and the task logs go to their archives side by side (independent writes).
  await Promise.all([
    archiveFiles(ctx.archives.persisted_data, ctx.paths.output, outputs).then(() => ctx.archives.persisted_data.put(`runs/${ctx.runId}/outputs.json`, JSON.stringify(outputs, null, 2))),
    ...Object.keys(ctx.job.tasks).map((task) => {
      const file = ctx.paths.taskLog(task);
      return existsSync(file) ? ctx.archives.stage_logs.putFile(`runs/${ctx.runId}/${task}.log`, file) : undefined;
    }),
  ]);
  // Declared artifacts, whatever the outcome (a failed run's report is often what explains it).
  const artifacts = ctx.job.artifacts?.length
    ? await archiveRunArtifacts(ctx.archives.artifacts, ctx.runId, ctx.paths.output, ctx.job.artifacts).catch((e: Error) => {
        appendFileSync(ctx.paths.runnerLog, `${iso(ctx.env.clock.now())} could not archive the run's artifacts: ${e.message}\n`);
        return undefined;
      })
    : undefined;
  let results = await readJson(join(ctx.paths.output, "results.json"));
  if (status === "succeeded" && ctx.job.registers) {
    const registration = await registerFromRun({
      models: ctx.models,
      registers: ctx.job.registers,
      outputDir: ctx.paths.output,
      outputs,
      run: { id: ctx.runId, job: ctx.job.job, bundle: ctx.row.bundle },
      at: iso(ctx.env.clock.now()),
    }).catch((e: Error) => ({ model: ctx.job.registers!.model, registered: false, reason: e.message }));
    // The run's results say whether a new version was registered.
    results = { ...(results && typeof results === "object" ? results : results === undefined ? {} : { value: results }), registration };
  }
  const metrics = await readJson(join(ctx.paths.output, "metrics.json"));
  const tasks = await ctx.runs.tasks(ctx.runId);
  const submitted = JSON.parse(ctx.row.provenance ?? "{}") as Record<string, unknown>;
  const finishedAt = iso(ctx.env.clock.now());
  const provenance = {
    ...submitted,
    run: ctx.runId,
    job: ctx.job.job,
    project: ctx.instr.project,
    target: ctx.instr.target,
    bundle_hash: ctx.row.bundle,
    config_hash: ctx.row.config_hash,
    params: ctx.job.params,
    executor: ctx.row.executor,
    host: ctx.env.host,
    user: ctx.row.user,
    started_at: ctx.row.started_at ?? ctx.row.created_at,
    finished_at: finishedAt,
    status,
    tasks: Object.fromEntries(tasks.map((t) => [t.task, { status: t.status, exit_code: t.exit_code, attempts: t.attempts, cached_from: t.cached_from }])),
    outputs,
    ...(artifacts ? { artifacts } : {}),
    archives: archiveLocations(ctx.archives),
    ...(ctx.environment ? { environment: ctx.environment } : {}),
  };
  await ctx.archives.provenance.put(`runs/${ctx.runId}.json`, JSON.stringify(provenance, null, 2));
  const failedTasks = tasks.filter((t) => t.status === "failed").map((t) => `${t.task}: ${t.error}`);
  await ctx.runs.transition(ctx.runId, ["running"], {
    status,
    finished_at: finishedAt,
    results: results === undefined ? null : JSON.stringify(results),
    metrics: metrics === undefined ? null : JSON.stringify(metrics),
    provenance: JSON.stringify(provenance),
    error: reason ?? (status === "failed" ? failedTasks.join("; ") || "a task failed" : status === "cancelled" ? "cancelled" : status === "lost" ? "lost" : null),
  });
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch {
    return undefined;
  }
}
