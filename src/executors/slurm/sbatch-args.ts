// The sbatch options of a run: the target's settings (partition, account, QOS, extra options) and the
// job's compute (CPUs, memory, GPUs as --gres, the time limit). Pure; every value is one argument.
import type { ExecutorConfig } from "../../config/schema.js";
import type { RunResources } from "../executor.js";

export type SlurmSettings = Pick<ExecutorConfig, "partition" | "account" | "qos" | "sbatch_args">;

export interface BatchLayout {
  jobName: string;
  /** Where the batch job's output goes (the runner's log; `%a` is the array index). */
  output: string;
  /** The folder the job starts in. */
  chdir: string;
  /** A job array of this many runs (indexes 0..n-1); absent for one run. */
  arraySize?: number;
}

export function sbatchOptions(settings: SlurmSettings, resources: RunResources, layout: BatchLayout): string[] {
  const args: string[] = [...(settings.sbatch_args ?? [])];
  args.push(`--job-name=${layout.jobName}`, `--output=${layout.output}`, "--open-mode=append", `--chdir=${layout.chdir}`);
  if (settings.partition) args.push(`--partition=${settings.partition}`);
  if (settings.account) args.push(`--account=${settings.account}`);
  if (settings.qos) args.push(`--qos=${settings.qos}`);
  // One task with all of the run's CPUs: the runner and the tasks it starts share them.
  if (resources.cpus !== undefined) args.push("--ntasks=1", `--cpus-per-task=${Math.max(1, Math.ceil(resources.cpus))}`);
  if (resources.memory !== undefined) args.push(`--mem=${memoryMegabytes(resources.memory)}M`);
  if (resources.gpus) args.push(`--gres=gpu:${resources.gpus}`);
  if (resources.timeLimitMs !== undefined) args.push(`--time=${timeLimitMinutes(resources.timeLimitMs)}`);
  if (layout.arraySize !== undefined && layout.arraySize > 1) args.push(`--array=0-${layout.arraySize - 1}`);
  return args;
}

const UNIT_MB: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/** "512M", "4G", "1.5Gi", "2048MB" -> whole megabytes, rounded up (Slurm's M and G are powers of 1024). */
export function memoryMegabytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT])i?B?$/i.exec(text.trim());
  if (!match) throw new Error(`not a memory size: "${text}"`);
  return Math.max(1, Math.ceil(Number(match[1]) * UNIT_MB[match[2]!.toUpperCase()]!));
}

/** Slurm counts time limits in whole minutes: a limit is rounded up, and is at least one minute. */
export function timeLimitMinutes(ms: number): number {
  return Math.max(1, Math.ceil(ms / 60_000));
}
