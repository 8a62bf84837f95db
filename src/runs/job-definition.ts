// What a run executes, resolved from a job resource: its tasks (a single `main` task for a job with
// one command), environment, parameters, retries and limits. Serialized into the bundle as
// .slipway/job.json, next to one shell script per task and Slipway's runner script.
import { InvalidInputError } from "../errors.js";
import type { JobSpec } from "../kinds/job/index.js";
import type { DesiredResource } from "../resources.js";
import { parseDuration } from "../util/duration.js";
import { didYouMean } from "../util/suggest.js";
import type { RegistersSpec } from "../registry/register.js";

export interface TaskDefinition {
  command: string;
  dependsOn: string[];
  cache: boolean;
  env: Record<string, string>;
}

export interface JobDefinition {
  job: string;
  module: string;
  tasks: Record<string, TaskDefinition>;
  env: Record<string, string>;
  params: Record<string, string>;
  retries: number;
  timeoutMs?: number;
  compute: { cpus?: number; memory?: string; gpus?: number; time_limit?: string; environment?: string };
  registers?: RegistersSpec;
  source?: string;
  /** Globs of output files kept in the artifacts archive (the job's and its tasks'); absent when none. */
  artifacts?: string[];
}


const strings = (o: Record<string, unknown> | undefined): Record<string, string> => Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, String(v)]));

export function jobDefinition(resource: DesiredResource<JobSpec>, paramOverrides: Record<string, string>): JobDefinition {
  const spec = resource.spec;
  const defaults = strings(spec.params);
  const unknown = Object.keys(paramOverrides).filter((p) => !Object.hasOwn(defaults, p));
  if (unknown.length) {
    throw new InvalidInputError(
      unknown.map((p) => ({
        message: `job ${resource.name} has no parameter "${p}"`,
        hint: didYouMean(p, Object.keys(defaults)) ?? (Object.keys(defaults).length ? `its parameters: ${Object.keys(defaults).join(", ")}` : `declare it under jobs.${resource.name}.params`),
      })),
      "unknown_param",
    );
  }
  const tasks: Record<string, TaskDefinition> = spec.tasks
    ? Object.fromEntries(Object.entries(spec.tasks).map(([name, t]) => [name, { command: t.command, dependsOn: t.depends_on ?? [], cache: t.cache ?? false, env: strings(t.env) }]))
    : { main: { command: spec.command!, dependsOn: [], cache: false, env: {} } };
  const { timeout, ...compute } = spec.compute ?? {};
  const artifacts = [...new Set([...(spec.artifacts ?? []), ...Object.values(spec.tasks ?? {}).flatMap((t) => t.artifacts ?? [])])];
  return {
    job: resource.name,
    module: spec.module,
    tasks,
    env: strings(spec.env),
    params: { ...defaults, ...paramOverrides },
    retries: spec.retries ?? 0,
    timeoutMs: timeout ? parseDuration(timeout) : undefined,
    compute,
    registers: spec.registers,
    source: spec.source,
    // Only when declared: the job definition is in the bundle, whose hash the task cache keys on.
    ...(artifacts.length ? { artifacts } : {}),
  };
}

/** Time a run needs besides its tasks' attempts: checking out the bundle, an environment, archiving. */
export const RUN_TIME_ALLOWANCE_MS = 10 * 60_000;

/**
 * The whole run's time limit: compute.time_limit, else the longest the run can take when every attempt
 * of every task runs to its timeout one after another, plus an allowance. None without either.
 */
export function runTimeLimit(job: JobDefinition): number | undefined {
  if (job.compute.time_limit) return parseDuration(job.compute.time_limit);
  return job.timeoutMs === undefined ? undefined : job.timeoutMs * (job.retries + 1) * Object.keys(job.tasks).length + RUN_TIME_ALLOWANCE_MS;
}

/** Slipway's runner script, shipped in every bundle: runs one task's script in the bundle folder. */
export const RUNNER_SCRIPT = `#!/usr/bin/env bash
# Slipway task runner: runs task "$1" of this bundle from the bundle's root folder.
set -uo pipefail
cd "$(dirname "$0")/.."
exec bash ".slipway/tasks/$1.sh"
`;

/** The files Slipway adds to the job's source folder in the bundle. */
export function bundleExtras(job: JobDefinition): Record<string, string> {
  const files: Record<string, string> = {
    ".slipway/job.json": JSON.stringify(job, null, 2) + "\n",
    ".slipway/runner.sh": RUNNER_SCRIPT,
  };
  for (const [name, task] of Object.entries(job.tasks)) files[`.slipway/tasks/${name}.sh`] = `# task ${name} of job ${job.job}\n${task.command}\n`;
  return files;
}
