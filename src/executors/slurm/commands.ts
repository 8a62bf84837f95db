// Slurm's client commands (sbatch, scontrol, sacct, scancel), run as programs with argument lists
// (never through a shell), with their answers parsed. They find the cluster as they always do:
// SLURM_CONF in the environment, else the system's slurm.conf.
import { execFile } from "node:child_process";
import { SlipwayError } from "../../errors.js";
import type { SlurmJobInfo } from "./states.js";

/** A command that does not answer in this long is treated as failed (a hung controller must not hang Slipway). */
const COMMAND_TIMEOUT_MS = 30_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      const e = error as (NodeJS.ErrnoException & { code?: string | number; killed?: boolean }) | null;
      if (e && e.code === "ENOENT") {
        reject(new SlipwayError("executor_failed", `${command} is not installed on this machine (or not on PATH)`, { hint: "install Slurm's client commands (Debian: apt-get install slurm-client) and point SLURM_CONF at the cluster's slurm.conf" }));
        return;
      }
      if (e && e.killed) {
        reject(new SlipwayError("executor_failed", `${command} did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`, { hint: "is the Slurm controller reachable? try `scontrol ping`" }));
        return;
      }
      resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

const firstLine = (text: string): string =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .join("; ");

/** Submits a batch job; returns its id (and cluster, on a multi-cluster setup). */
export async function sbatch(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ jobId: string; cluster?: string }> {
  const r = await run("sbatch", ["--parsable", ...args], env);
  const answer = r.stdout.trim().split("\n").pop() ?? "";
  const match = /^(\d+)(?:;(\S+))?$/.exec(answer);
  if (r.code !== 0 || !match) {
    throw new SlipwayError("executor_failed", `sbatch refused the run: ${firstLine(r.stderr) || firstLine(r.stdout) || `exit code ${r.code}`}`, {
      hint: "check the target's executor settings (partition, account, qos, sbatch_args) and the job's compute against the cluster (sinfo, sacctmgr show qos)",
    });
  }
  return { jobId: match[1]!, cluster: match[2] };
}

/** What the controller knows of a job; `undefined` when it no longer knows it; throws when it cannot be asked. */
export async function scontrolJob(jobId: string): Promise<SlurmJobInfo | undefined> {
  const r = await run("scontrol", ["show", "job", "-o", jobId]);
  if (r.code !== 0) {
    if (/invalid job id/i.test(r.stderr)) return undefined;
    throw new SlipwayError("executor_failed", `scontrol show job ${jobId}: ${firstLine(r.stderr) || `exit code ${r.code}`}`);
  }
  const line = r.stdout.split("\n").find((l) => l.includes("JobState="));
  if (!line) return undefined;
  const field = (key: string) => new RegExp(`(?:^| )${key}=(\\S*)`).exec(line)?.[1];
  return { jobId, state: field("JobState") ?? "UNKNOWN", reason: field("Reason"), exitCode: field("ExitCode"), timeLimit: field("TimeLimit"), nodes: field("NodeList") || undefined };
}

/** What accounting knows of a finished job; `undefined` when accounting is off or has no record. */
export async function sacctJob(jobId: string): Promise<SlurmJobInfo | undefined> {
  const r = await run("sacct", ["--noheader", "--parsable2", "--allocations", "--jobs", jobId, "--format", "JobID,State,ExitCode,Timelimit,NodeList"]);
  if (r.code !== 0) return undefined; // "Slurm accounting storage is disabled", or slurmdbd is down
  const line = r.stdout.split("\n").find((l) => l.split("|")[0] === jobId) ?? r.stdout.split("\n").find((l) => l.trim());
  if (!line) return undefined;
  const [, state, exitCode, timeLimit, nodes] = line.split("|");
  // sacct writes "CANCELLED by 1000".
  return { jobId, state: (state ?? "UNKNOWN").split(" ")[0]!, exitCode, timeLimit, nodes: nodes || undefined };
}

/** Sends a signal to a job or cancels it; tells whether Slurm accepted (a job that has ended is not an error here). */
export async function scancel(args: readonly string[]): Promise<{ ok: boolean; message: string }> {
  const r = await run("scancel", args);
  return { ok: r.code === 0 && !/error/i.test(r.stderr), message: firstLine(r.stderr) };
}
