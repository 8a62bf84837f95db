// Public JSON of run, runs, runs show, runs results, logs, cancel and bundle.
import { z } from "zod";
import type { RunDetails, RunSummary, SweepSummary, TaskSummary } from "../operations/runs.js";
import { failureView, type ErrorJson } from "./error.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

const runSummaryShape = () => ({
  id: z.string(),
  job: z.string(),
  project: z.string(),
  target: z.string(),
  status: z.string(),
  /** As given (strings), keys as the job declares them. */
  params: z.record(z.string(), z.string()),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().int().nullable(),
  /** Why it ended as it did ("main: exited with code 4", "cancelled"); null while it runs and when it succeeded. Named `error` before the envelope reserved that key. */
  reason: z.string().nullable(),
  /** Why it started: manual, schedule, deploy (run_on_deploy) or pipeline (a run stage). */
  trigger: z.enum(["manual", "schedule", "deploy", "pipeline"]),
  /** The schedule that started it; null for other triggers. */
  schedule: z.string().nullable(),
});

export const runSummarySchema = lazy(() => z.strictObject(runSummaryShape()));

export const taskSchema = lazy(() =>
  z.strictObject({
    task: z.string(),
    status: z.string(),
    attempts: z.number().int(),
    exit_code: z.number().int().nullable(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
    cached_from: z.string().nullable(),
    error: z.string().nullable(),
  }),
);

export const runDetailsSchema = lazy(() =>
  z.strictObject({
    ...runSummaryShape(),
    bundle: z.string(),
    executor: z.string(),
    /** Where the executor runs it (local: executor, pid, host). */
    handle: z.record(z.string(), z.unknown()),
    tasks: z.array(taskSchema()),
    /** What the job wrote, keys as written (null: nothing). */
    results: z.unknown(),
    metrics: z.unknown(),
    /**
     * How the run was made, as recorded when it started (git, bundle, env_names, environment, archives, …).
     * `job_origin`: the job definition that ran, `deployed` (to the target) or `source` (`run --from-source`,
     * and run_on_deploy); absent in runs recorded before it existed.
     */
    provenance: z.looseObject({ job_origin: z.enum(["deployed", "source"]).optional() }).nullable(),
  }),
);

export function runSummaryView(r: RunSummary): Infer<typeof runSummarySchema> {
  return {
    id: r.id,
    job: r.job,
    project: r.project,
    target: r.target,
    status: r.status,
    params: { ...r.params },
    created_at: r.createdAt,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    duration_ms: r.durationMs,
    reason: r.error,
    trigger: r.trigger as "manual" | "schedule" | "deploy" | "pipeline",
    schedule: r.trigger === "schedule" ? r.triggerRef : null,
  };
}

function taskView(t: TaskSummary): Infer<typeof taskSchema> {
  return {
    task: t.task,
    status: t.status,
    attempts: t.attempts,
    exit_code: t.exitCode,
    started_at: t.startedAt,
    finished_at: t.finishedAt,
    duration_ms: t.durationMs,
    cached_from: t.cachedFrom,
    error: t.error,
  };
}

export function runDetailsView(d: RunDetails): Infer<typeof runDetailsSchema> {
  return {
    ...runSummaryView(d),
    bundle: d.bundle,
    executor: d.executor,
    handle: { ...d.handle },
    tasks: d.tasks.map(taskView),
    results: d.results ?? null,
    metrics: d.metrics ?? null,
    provenance: provenanceView(d.provenance),
  };
}

function provenanceView(p: Record<string, unknown> | null): Infer<typeof runDetailsSchema>["provenance"] {
  if (!p) return null;
  const { job_origin, ...rest } = p;
  return job_origin === "deployed" || job_origin === "source" ? { ...p, job_origin } : rest;
}

/** `run`: the summary at once, or (with --wait) the details when it has finished. */
export const runSchema = lazy(() => z.union([runSummarySchema(), runDetailsSchema()]));

/** The envelope's `error` for a run that was waited for (run --wait, logs -f) and did not succeed. */
export function runFailure(r: { id: string; status: string; error: string | null }): ErrorJson | undefined {
  if (r.status === "succeeded") return undefined;
  return failureView("run_failed", `run ${r.id} ${r.status}${r.error && r.error !== r.status ? `: ${r.error}` : ""}`, `see its logs: slipway logs ${r.id}`);
}

export const runsSchema = lazy(() => z.strictObject({ runs: z.array(runSummarySchema()) }));

export function runsView(list: RunSummary[]): Infer<typeof runsSchema> {
  return { runs: list.map(runSummaryView) };
}

/** `sweep`: its id and its runs (as started, or with --wait as they ended). */
export const sweepSchema = lazy(() => z.strictObject({ sweep: z.string(), runs: z.array(runSummarySchema()) }));

export function sweepView(s: SweepSummary): Infer<typeof sweepSchema> {
  return { sweep: s.sweep, runs: s.runs.map(runSummaryView) };
}

/** The envelope's `error` for a sweep that was waited for and has runs that did not succeed. */
export function sweepFailure(s: { sweep: string; runs: ReadonlyArray<{ id: string; status: string }> }): ErrorJson | undefined {
  const bad = s.runs.filter((r) => r.status !== "succeeded");
  if (!bad.length) return undefined;
  return failureView("run_failed", `${bad.length} of ${s.runs.length} run(s) of sweep ${s.sweep} did not succeed: ${bad.map((r) => `${r.id} ${r.status}`).join(", ")}`, `see their logs: slipway logs ${bad[0]!.id}`);
}

export const runResultsSchema = lazy(() => z.strictObject({ run: z.string(), status: z.string(), results: z.unknown(), metrics: z.unknown() }));

export function runResultsView(d: RunDetails): Infer<typeof runResultsSchema> {
  return { run: d.id, status: d.status, results: d.results ?? null, metrics: d.metrics ?? null };
}

export const logsSchema = lazy(() => z.strictObject({ run: z.string(), status: z.string(), lines: z.array(z.strictObject({ task: z.string(), line: z.string() })) }));

export function logsView(r: RunSummary, lines: Array<{ task: string; line: string }>): Infer<typeof logsSchema> {
  return { run: r.id, status: r.status, lines: lines.map((l) => ({ task: l.task, line: l.line })) };
}

export const bundleSchema = lazy(() => z.strictObject({ hash: z.string(), files: z.number().int(), bytes: z.number().int(), out: z.string() }));

export function bundleView(b: { hash: string; files: number; bytes: number; out: string }): Infer<typeof bundleSchema> {
  return { hash: b.hash, files: b.files, bytes: b.bytes, out: b.out };
}
