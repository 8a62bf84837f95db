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

/** What a promote stage did (its outputs are what conditions read as stages.NAME.…). */
export interface PromoteOutcome {
  message: string;
  outputs: { target: string; model: string | null; version: number | string | null; artifact: string | null; promoted: boolean };
}

/** A rollout's versions, decided when it starts: the candidate, and the champion the endpoint served. */
export interface RolloutStart {
  model: string;
  candidate: number;
  /** The version the endpoint served (most traffic) before the rollout, or null. */
  champion: number | null;
  /** The metric gate's verdict (null: no gate); `passed: false` fails the stage before traffic moves. */
  gate: { passed: boolean; message: string } | null;
}

/** The candidate's answers since a mark, from the inference table. */
export interface RolloutHealth {
  requests: number;
  /** Answers with status 5xx. */
  errors: number;
  /** p95 of latency_ms (null: no requests). */
  p95_ms: number | null;
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
  /** A promote stage: copies the model or artifact version from `from` to `to` (and moves `alias`). */
  promote(run: PipelineRunRow, stage: StageSpec, log: (line: string) => void): Promise<PromoteOutcome>;
  /** A rollout stage starts: resolves the candidate and the champion, checks the metric gate. */
  rolloutStart(run: PipelineRunRow, stage: StageSpec): Promise<RolloutStart>;
  /**
   * Serves the candidate at `percent` (the endpoint's versions as deployed share the rest), through the
   * server's rolling switch; returns a mark in the inference table (rows after it are this step's).
   */
  rolloutShift(run: PipelineRunRow, stage: StageSpec, start: RolloutStart, percent: number): Promise<{ mark: number }>;
  /** The candidate's answers since `mark`. */
  rolloutHealth(run: PipelineRunRow, stage: StageSpec, start: RolloutStart, mark: number): Promise<RolloutHealth>;
  /** Serves the endpoint as deployed again (the candidate gets no traffic). */
  rolloutRevert(run: PipelineRunRow, stage: StageSpec): Promise<void>;
  /** The candidate serves its last step: `alias` (if any) moves to it and the endpoint's module is deployed (a revision). */
  rolloutFinish(run: PipelineRunRow, stage: StageSpec, start: RolloutStart, log: (line: string) => void): Promise<ApplyOutcome | null>;
  /** What a deploy or destroy stage would change now. */
  plan(run: PipelineRunRow, stage: StageSpec): Promise<PlanSummary>;
  /** A value of the pipeline's environment (env files, module env, then the process's), for notification secrets. */
  envValue(run: PipelineRunRow, name: string): Promise<string | undefined>;
  /** Values that must never appear in a log line or a notification. */
  secrets(run: PipelineRunRow): Promise<readonly string[]>;
}
