// The Slurm executor: each run is a batch job (a sweep, one job array) whose script starts the same
// runner the local executor starts, on the node Slurm picks. The run's folder (SLIPWAY_HOME/runs/<id>)
// and the target's stores must be reachable from the nodes: a shared folder, or the machine itself
// for a single-node cluster; the bundle comes from the job_source archive store like everywhere.
// Tracked with scontrol (sacct once the controller has forgotten the job), cancelled with scancel.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Clock } from "../../clock.js";
import type { ExecutorConfig } from "../../config/schema.js";
import { cliEntry } from "../../util/package-root.js";
import type { Executor, ExecutorStatus, RunHandle, SubmitRequest } from "../executor.js";
import { sacctJob, sbatch, scancel, scontrolJob } from "./commands.js";
import { sbatchOptions, type SlurmSettings } from "./sbatch-args.js";
import { slurmStatus } from "./states.js";

/** How long a cancelled runner has to record the cancellation and archive before its job is cancelled outright. */
export const CANCEL_GRACE_MS = 15_000;

/**
 * The batch script: the same for every run, so nothing a user wrote is ever part of a script. Its
 * arguments are the node binary, the CLI, the runs folder and the run ids; a job array runs the run
 * at index $SLURM_ARRAY_TASK_ID.
 */
export const BATCH_SCRIPT = `#!/bin/sh
# Slipway's Slurm batch script: starts the runner of one run on the node this job was given.
# Arguments: NODE CLI RUNS_DIR RUN_ID...; a job array runs the run at index SLURM_ARRAY_TASK_ID.
node="$1"; cli="$2"; runs="$3"; shift 3
if [ -n "\${SLURM_ARRAY_TASK_ID:-}" ]; then shift "$SLURM_ARRAY_TASK_ID" || exit 1; fi
cd "$runs/$1" || exit 1
exec "$node" "$cli" internal-runner "$1"
`;

export function slurmExecutor(config: ExecutorConfig | undefined): Executor {
  const settings: SlurmSettings = { partition: config?.partition, account: config?.account, qos: config?.qos, sbatch_args: config?.sbatch_args };

  async function submitMany(requests: SubmitRequest[]): Promise<RunHandle[]> {
    const first = requests[0];
    if (!first) return [];
    const runsDir = dirname(first.runDir);
    if (requests.some((r) => dirname(r.runDir) !== runsDir)) throw new Error("the runs of one Slurm job array must share a runs folder");
    mkdirSync(first.runDir, { recursive: true });
    const script = join(first.runDir, "slurm-batch.sh");
    writeFileSync(script, BATCH_SCRIPT, { mode: 0o755 });
    let output = join(first.runDir, "runner.log");
    if (requests.length > 1) {
      // Slurm names an array element's output by its index (%a) only: each index's file is a link to
      // its run's runner.log, so every run's log is where the local executor puts it.
      const links = join(first.runDir, "array");
      mkdirSync(links, { recursive: true });
      requests.forEach((r, i) => {
        mkdirSync(r.runDir, { recursive: true });
        symlinkSync(join(r.runDir, "runner.log"), join(links, `${i}.log`));
      });
      output = join(links, "%a.log");
    }
    const options = sbatchOptions(settings, first.resources ?? {}, {
      jobName: `slipway-${first.job ?? "run"}`,
      output,
      chdir: runsDir,
      arraySize: requests.length,
    });
    const { jobId, cluster } = await sbatch([...options, script, process.execPath, cliEntry(), runsDir, ...requests.map((r) => r.runId)], first.env);
    return requests.map((_, i) => ({
      executor: "slurm",
      job_id: requests.length > 1 ? `${jobId}_${i}` : jobId,
      ...(requests.length > 1 ? { array_job_id: jobId } : {}),
      ...(cluster ? { cluster } : {}),
    }));
  }

  async function status(handle: RunHandle): Promise<ExecutorStatus> {
    const jobId = typeof handle.job_id === "string" ? handle.job_id : undefined;
    if (!jobId) return { liveness: "unknown" };
    let info;
    try {
      info = (await scontrolJob(jobId)) ?? (await sacctJob(jobId));
    } catch (e) {
      // The controller cannot be asked (down, unreachable): the run's heartbeat decides.
      return { liveness: "unknown", reason: (e as Error).message };
    }
    if (!info) return { liveness: "gone", reason: `Slurm no longer knows job ${jobId} (it ended more than MinJobAge ago, and accounting is off)`, outcome: "lost" };
    return slurmStatus(info);
  }

  return {
    name: "slurm",
    capabilities: { gpus: true, cancel: true, logsFollow: true, attach: false, arrays: true },
    submit: async (request) => (await submitMany([request]))[0]!,
    submitMany,
    status,
    async cancel(handle: RunHandle, _taskProcessGroups: number[], clock: Clock): Promise<void> {
      const jobId = typeof handle.job_id === "string" ? handle.job_id : undefined;
      if (!jobId) return;
      // The runner first, alone (--batch): it records the cancellation, stops its tasks and archives
      // what the run made. Signalling every process of the job at once would let a task's exit race
      // the runner's own signal, and the run could be recorded failed instead of cancelled.
      // Only a running job can be signalled (scancel --signal waits for a pending job to start).
      const running = (await status(handle)).state === "RUNNING";
      const asked = running && (await scancel(["--batch", "--signal=TERM", jobId])).ok;
      if (asked) {
        const deadline = clock.now() + CANCEL_GRACE_MS;
        while (clock.now() < deadline && (await status(handle)).liveness === "alive") await clock.sleep(200);
      }
      // Whatever is left, and a job still pending (which cannot be signalled).
      await scancel([jobId]);
    },
  };
}
