// The runner's instructions for one run: written by the submitter to the run folder (mode 0600, since
// the module environment may hold secrets), read by the runner process, deleted when the run ends.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TargetConfig } from "../config/schema.js";
import type { ArchiveConfig } from "../store/archives.js";
import type { ComputeSpec } from "../compute/environments.js";
import { INSTRUCTIONS_FILE } from "../executors/executor.js";

export interface RunInstructions {
  runId: string;
  project: string;
  target: string;
  projectDir: string;
  home: string;
  /** The target's state backend, so the runner writes where the submitter reads. */
  state?: TargetConfig["state"];
  /** The target's blob backend (the archives' configuration below already names the stores it implies). */
  blobs?: TargetConfig["blobs"];
  archives: ArchiveConfig;
  /** Merged module environment (env files and Slipway variables). */
  env: Record<string, string>;
  /** The job's own env (in the bundle's job.json, values holding secrets are masked). */
  jobEnv: Record<string, string>;
  /** Each task's own env, real values (masked in the bundle like the job's). */
  taskEnv?: Record<string, Record<string, string>>;
  /** Values to mask in task logs. */
  secrets: string[];
  maxParallelRuns: number;
  maxParallelTasks: number;
  keepWorkdir: boolean;
  noCache: boolean;
  /** First retry waits this long; each further retry twice as long. */
  retryBackoffMs: number;
  /** The compute environment the tasks run in (a job's `compute.environment`). */
  environment?: RunEnvironment;
}

export interface RunEnvironment {
  name: string;
  /** Made by this run (instance = the run id) and removed when it ends. */
  ephemeral: boolean;
  /** The compute resource's spec: python, libraries, pip. */
  spec: ComputeSpec;
}

export { INSTRUCTIONS_FILE };

export function writeInstructions(runDir: string, instructions: RunInstructions): void {
  writeFileSync(join(runDir, INSTRUCTIONS_FILE), JSON.stringify(instructions), { mode: 0o600 });
}

export function readInstructions(runDir: string): RunInstructions {
  return JSON.parse(readFileSync(join(runDir, INSTRUCTIONS_FILE), "utf8")) as RunInstructions;
}
