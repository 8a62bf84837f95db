// What the pipeline engine asks of the layers above it: running a job, deploying, destroying and
// planning a target, reading a secret from the pipeline's environment. src/operations/pipelines.ts
// implements it with the same operations the CLI calls; the bench uses no-op effects. Keeping the
// effects behind this interface keeps src/pipelines below src/operations (.dependency-cruiser.cjs).
import type { StageSpec } from "../kinds/pipeline/index.js";
import type { PipelineRunRow } from "../store/state/pipeline-store.js";

/** What a plan would change, as an approval shows it and a deploy stage records it. */
export interface PlanSummary {
  target: string;
  create: number;
  update: number;
  replace: number;
  delete: number;
  noop: number;
  /** The changes (no no-ops): "+ create job.train", … */
  changes: Array<{ action: string; address: string }>;
}

export interface ApplyOutcome {
  status: "succeeded" | "failed";
  /** The revision recorded (null when nothing changed or it failed). */
  revision: number | null;
  changed: boolean;
  plan: PlanSummary;
  error?: string;
}

export interface JobState {
  /** queued | running | succeeded | failed | cancelled | lost */
  status: string;
  results: unknown;
  metrics: unknown;
  error: string | null;
}

export interface StageEffects {
  /**
   * Starts the job of a run stage, with this run id (chosen before, so a takeover finds it): the stage's
   * params, and those of the pipeline run's params that the job declares.
   */
  startJob(run: PipelineRunRow, stage: StageSpec, jobRunId: string, params: { run: Record<string, string>; stage: Record<string, string> }): Promise<void>;
  /** The job run's state (a run whose runner died is lost); undefined when no such run exists. */
  jobState(run: PipelineRunRow, stage: StageSpec, jobRunId: string): Promise<JobState | undefined>;
  cancelJob(run: PipelineRunRow, stage: StageSpec, jobRunId: string): Promise<void>;
  /** A deploy stage (mode replace destroys the scope first); lines go to the stage's log. */
  deploy(run: PipelineRunRow, stage: StageSpec, log: (line: string) => void): Promise<ApplyOutcome>;
  destroy(run: PipelineRunRow, stage: StageSpec, log: (line: string) => void): Promise<ApplyOutcome>;
  /** What a deploy or destroy stage would change now. */
  plan(run: PipelineRunRow, stage: StageSpec): Promise<PlanSummary>;
  /** A value of the pipeline's environment (env files, module env, then the process's), for notification secrets. */
  envValue(run: PipelineRunRow, name: string): Promise<string | undefined>;
  /** Values that must never appear in a log line or a notification. */
  secrets(run: PipelineRunRow): Promise<readonly string[]>;
}
