// The executor contract: where a run's runner process executes (local processes today; Slurm and
// Kubernetes follow as folders of their own with the same file names). Capability flags, not
// `if (kind === "slurm")` branches, tell callers what an executor can do.
import type { Clock } from "../clock.js";

export interface ExecutorCapabilities {
  /** Can give tasks GPUs. */
  readonly gpus: boolean;
  /** Can stop a run's whole process tree. */
  readonly cancel: boolean;
  /** Logs can be followed while the run executes. */
  readonly logsFollow: boolean;
}

/** What an executor needs to find a run again (stored as JSON with the run). */
export interface RunHandle {
  executor: string;
  [field: string]: unknown;
}

export interface SubmitRequest {
  runId: string;
  /** Local folder of the run: run.json (the runner's instructions), logs/, work/, output/. */
  runDir: string;
  /** Environment of the runner process (SLIPWAY_HOME and the like; not the tasks' environment). */
  env: NodeJS.ProcessEnv;
}

export type Liveness = "alive" | "gone" | "unknown";

export interface Executor {
  readonly name: string;
  readonly capabilities: ExecutorCapabilities;
  /** Starts the run's runner and returns at once; the run goes on after the caller exits. */
  submit(request: SubmitRequest): Promise<RunHandle>;
  /** Whether the runner is still there (a run whose runner is gone is lost, not running forever). */
  liveness(handle: RunHandle): Promise<Liveness>;
  /** Stops the runner and every task process it started; grace periods are measured on `clock`. */
  cancel(handle: RunHandle, taskProcessGroups: number[], clock: Clock): Promise<void>;
}
