// Slurm job states -> what Slipway makes of them: is the runner still there, how did the run end when
// the runner could not say so itself, and the reason shown to people. Pure: unit-tested for every state.
import type { ExecutorStatus } from "../executor.js";

/** What Slurm says about a job (from `scontrol show job` or `sacct`). */
export interface SlurmJobInfo {
  jobId: string;
  /** The job's state word: PENDING, RUNNING, TIMEOUT, … (sacct's "CANCELLED by 0" is cut to its first word). */
  state: string;
  /** scontrol's Reason (PENDING: why it waits; ended: why it ended), e.g. Resources, TimeLimit, NonZeroExitCode. */
  reason?: string;
  /** "code:signal", e.g. "143:0". */
  exitCode?: string;
  /** As Slurm prints it, e.g. 00:01:00 or UNLIMITED. */
  timeLimit?: string;
  /** The node(s) it ran on. */
  nodes?: string;
}

/** Words for the PENDING reasons people meet most; any other is shown as Slurm writes it. */
const PENDING_REASONS: Record<string, string> = {
  None: "waiting to be scheduled",
  Priority: "jobs with a higher priority are first",
  Resources: "waiting for resources",
  Dependency: "waiting for a job it depends on",
  BeginTime: "its start time has not come",
  JobHeldUser: "held by its user",
  JobHeldAdmin: "held by an administrator",
  PartitionDown: "its partition is down",
  PartitionInactive: "its partition is inactive",
  ReqNodeNotAvail: "the nodes it needs are not available",
  QOSMaxJobsPerUserLimit: "its QOS allows no more running jobs for this user",
  AssocMaxJobsLimit: "its account allows no more running jobs",
};

const ALIVE = new Set(["PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "STAGE_OUT", "SIGNALING", "RESIZING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "STOPPED"]);

export function slurmStatus(info: SlurmJobInfo): ExecutorStatus {
  const job = `Slurm job ${info.jobId}`;
  const state = info.state.toUpperCase();
  const reason = info.reason && info.reason !== "None" ? info.reason : undefined;
  const exit = exitOf(info.exitCode);
  const limit = info.timeLimit && info.timeLimit !== "UNLIMITED" ? `, time limit ${info.timeLimit}` : "";
  const on = info.nodes && info.nodes !== "(null)" ? ` on ${info.nodes}` : "";
  switch (state) {
    case "PENDING": {
      const why = info.reason ?? "None";
      const words = PENDING_REASONS[why];
      return { liveness: "alive", state, reason: words ? `${job} is pending: ${words} (${why})` : `${job} is pending (${why})` };
    }
    case "COMPLETING":
      // The runner was signalled and is finishing: if Slurm is ending the job for a reason of its own,
      // the runner records that instead of a cancellation.
      if (reason === "TimeLimit") return { liveness: "alive", state: "TIMEOUT", reason: timeout(job, limit), outcome: "failed" };
      if (reason === "Preempted" || reason === "JobPreempted") return { liveness: "alive", state: "PREEMPTED", reason: `${job} was preempted${on}`, outcome: "lost" };
      return { liveness: "alive", state };
    case "COMPLETED":
      return { liveness: "gone", state, reason: `${job} completed, but its runner recorded no outcome (see the run's runner.log)`, outcome: "lost" };
    case "FAILED":
      return { liveness: "gone", state, reason: `${job} failed${exit ? ` (${exit})` : ""}${reason && reason !== "NonZeroExitCode" ? `: ${reason}` : ""}${on}; see the run's runner.log`, outcome: "failed" };
    case "TIMEOUT":
      return { liveness: "gone", state, reason: timeout(job, limit), outcome: "failed" };
    case "CANCELLED":
      return { liveness: "gone", state, reason: `${job} was cancelled in Slurm (scancel)`, outcome: "cancelled" };
    case "NODE_FAIL":
      return { liveness: "gone", state, reason: `${job} ended because its node failed (NODE_FAIL${on})`, outcome: "lost" };
    case "PREEMPTED":
      return { liveness: "gone", state, reason: `${job} was preempted (PREEMPTED${on})`, outcome: "lost" };
    case "OUT_OF_MEMORY":
      return { liveness: "gone", state, reason: `${job} ran out of memory (OUT_OF_MEMORY${on}): raise the job's compute.memory`, outcome: "failed" };
    case "BOOT_FAIL":
      return { liveness: "gone", state, reason: `${job} could not start: its node failed to boot (BOOT_FAIL)`, outcome: "lost" };
    case "DEADLINE":
      return { liveness: "gone", state, reason: `${job} reached its deadline (DEADLINE)`, outcome: "failed" };
    case "REVOKED":
      return { liveness: "gone", state, reason: `${job} was revoked (REVOKED: it runs on another cluster of the federation)`, outcome: "lost" };
    case "SPECIAL_EXIT":
      return { liveness: "gone", state, reason: `${job} ended with a special exit state (SPECIAL_EXIT${exit ? `, ${exit}` : ""})`, outcome: "failed" };
  }
  if (state === "SUSPENDED" || state === "STOPPED") return { liveness: "alive", state, reason: `${job} is ${state.toLowerCase()}` };
  if (ALIVE.has(state)) return { liveness: "alive", state };
  return { liveness: "unknown", state, reason: `${job} is in a state Slipway does not know: ${info.state}` };
}

function timeout(job: string, limit: string): string {
  return `${job} reached its time limit (TIMEOUT${limit}): raise the job's compute.time_limit`;
}

function exitOf(exitCode: string | undefined): string | undefined {
  const match = exitCode ? /^(\d+):(\d+)$/.exec(exitCode) : null;
  if (!match) return undefined;
  const [code, signal] = [Number(match[1]), Number(match[2])];
  if (signal) return `killed by signal ${signal}`;
  return code ? `exit code ${code}` : undefined;
}
