// The executor contract: where a run's runner process executes (local processes, a Slurm cluster, a
// Kubernetes cluster; one folder each with the same shape). Capability flags, not
// `if (kind === "slurm")` branches, tell callers what an executor can do.
import type { Clock } from "../clock.js";
import type { ArchiveConfig } from "../store/archives.js";
import type { BackendSpec, BlobBackend } from "../store/open.js";

/** The runner's instructions in a run's folder (written by src/runs/instructions.ts; read by executors that carry them elsewhere). */
export const INSTRUCTIONS_FILE = "run.json";

export interface ExecutorCapabilities {
  /** Can give tasks GPUs. */
  readonly gpus: boolean;
  /** Can stop a run's whole process tree. */
  readonly cancel: boolean;
  /** Logs can be followed while the run executes. */
  readonly logsFollow: boolean;
  /**
   * A run may execute inside the calling process (`run --wait` runs the runner in the CLI). When false,
   * `run --wait` submits the run like any other and follows it.
   */
  readonly attach: boolean;
  /** `submitMany` hands several runs over in one request (a Slurm job array), instead of one `submit` each. */
  readonly arrays: boolean;
}

/** What an executor needs to find a run again (stored as JSON with the run). */
export interface RunHandle {
  executor: string;
  [field: string]: unknown;
}

/** What the run asks of the machine it runs on (from the job's `compute`). */
export interface RunResources {
  cpus?: number;
  /** As written in the job: "512M", "4G", "1.5Gi". */
  memory?: string;
  gpus?: number;
  /** The whole run's time limit (enforced by executors that can, such as Slurm's `--time`). */
  timeLimitMs?: number;
}

export interface SubmitRequest {
  runId: string;
  /** Local folder of the run: run.json (the runner's instructions), logs/, work/, output/. */
  runDir: string;
  /** Environment of the runner process (SLIPWAY_HOME and the like; not the tasks' environment). */
  env: NodeJS.ProcessEnv;
  /** The job's name (a scheduler shows it, e.g. Slurm's job name). */
  job?: string;
  resources?: RunResources;
}

export type Liveness = "alive" | "gone" | "unknown";

/** What the executor knows about a run's runner. */
export interface ExecutorStatus {
  liveness: Liveness;
  /** The executor's own word for it, e.g. Slurm's `PENDING` or `TIMEOUT` (absent for local runs). */
  state?: string;
  /** Why it waits, or why it ended, for people: "Slurm job 12 is PENDING (Resources)". */
  reason?: string;
  /**
   * How the run ended when its runner could not say so itself (killed at its time limit, its node
   * failed, cancelled from outside): the status the run gets. Absent while the runner may still
   * record an outcome, and when nothing is known.
   */
  outcome?: "failed" | "cancelled" | "lost";
}

/** Where a target's runs read and write: what an executor whose runners run elsewhere checks before a run is recorded. */
export interface TargetPlaces {
  target: string;
  home: string;
  projectDir: string;
  state?: BackendSpec;
  blobs?: BlobBackend;
  archives: ArchiveConfig;
}

export interface Executor {
  readonly name: string;
  readonly capabilities: ExecutorCapabilities;
  /** Starts the run's runner and returns at once; the run goes on after the caller exits. */
  submit(request: SubmitRequest): Promise<RunHandle>;
  /** Hands several runs over in one request (only when `capabilities.arrays`); one handle per request, in order. */
  submitMany?(requests: SubmitRequest[]): Promise<RunHandle[]>;
  /** Whether the runner is still there (a run whose runner is gone is lost, not running forever), and why. */
  status(handle: RunHandle): Promise<ExecutorStatus>;
  /** Refuses a target whose stores its runners could not reach (a Kubernetes pod and local folders); before anything is recorded. */
  check?(places: TargetPlaces): void;
  /** The runner's output as the executor keeps it (a pod's log), for runs whose task logs are not on this machine. */
  readOutput?(handle: RunHandle): Promise<string | undefined>;
  /** Stops the runner and every task process it started; grace periods are measured on `clock`. */
  cancel(handle: RunHandle, taskProcessGroups: number[], clock: Clock): Promise<void>;
}
