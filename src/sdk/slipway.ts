// The TypeScript SDK: the same operations as the CLI, for programs.
//   const slipway = new Slipway({ project: "./my-project", target: "dev" });
//   const result = await slipway.deploy({ phase: 1 });
import type { Reporter } from "../engine/reporter.js";
import { silentReporter } from "../engine/reporter.js";
import { readRuntimeEnvWith, type RuntimeEnv } from "../env.js";
import type { OperationContext, ProjectOptions } from "../operations/context.js";
import { deploy, plan, validate, type DeployResult, type PlanResult, type ScopeOptions, type ValidateResult } from "../operations/deploy.js";
import { destroy } from "../operations/destroy.js";
import { history, listSettings, status, type HistoryEntry, type StatusResult } from "../operations/queries.js";
import { rollback } from "../operations/rollback.js";
import { listModels, modelVersions, setModelAlias, showModelVersion, type ModelVersionView, type ModelView } from "../operations/models.js";
import { createAccessToken, endpointLogs, listEndpoints, queryEndpoint, type EndpointView } from "../operations/endpoints.js";
import type { InferenceRow } from "../serving/inference-log.js";
import { cancelRun, listRuns, runLogs, showRun, startRun, startSweep, waitForRun, type RunDetails, type RunSummary } from "../operations/runs.js";
import type { SettingRow } from "../store/state/state-store.js";
import {
  buildArtifacts,
  collectGarbage,
  installArtifact,
  listArtifacts,
  listArtifactVersions,
  publishArtifact,
  type ArtifactListing,
  type ArtifactsOverview,
  type BuildResult,
  type GcResult,
  type InstallResult,
  type PublishResult,
} from "../operations/artifacts.js";

export interface SlipwayOptions {
  /** Project folder holding slipway.yaml (default: the current folder). */
  project?: string;
  /** Target (environment); default: the one marked `default: true`. */
  target?: string;
  /** Variable values, like --var NAME=value. */
  vars?: Record<string, string>;
  /** State folder (default: SLIPWAY_HOME, else ~/.slipway). */
  home?: string;
  /** Progress events (plans, actions, hook output); silent by default. */
  reporter?: Reporter;
}

export interface ApplyOptions {
  /** Confirms deletes and replaces (a program has no terminal to ask). */
  yes?: boolean;
  /** Allows deleting modules of a protected target. */
  force?: boolean;
  forceUnlock?: boolean;
  /** Kill a hook script an interrupted deploy left running instead of waiting for it to finish. */
  killOrphans?: boolean;
}

export class Slipway {
  private readonly project: ProjectOptions;
  private readonly ctx: OperationContext;
  /** Build, publish, list, install and collect artifacts (`slipway artifacts …`). */
  readonly artifacts: Artifacts;
  /** The model registry (`slipway models …`). */
  readonly models: Models;
  /** Serving endpoints (`slipway endpoints …`, `slipway tokens create`). */
  readonly endpoints: Endpoints;

  constructor(options: SlipwayOptions = {}) {
    const env: RuntimeEnv = readRuntimeEnvWith(options.home ? { SLIPWAY_HOME: options.home } : {});
    this.project = { dir: options.project ?? ".", target: options.target, vars: options.vars };
    this.ctx = { env, reporter: options.reporter ?? silentReporter };
    this.artifacts = new Artifacts(this.project, this.ctx);
    this.models = new Models(this.project, this.ctx);
    this.endpoints = new Endpoints(this.project, this.ctx);
  }

  /** Checks the project files; throws InvalidInputError (with every diagnostic) when invalid. */
  validate(): ValidateResult {
    return validate(this.project, this.ctx);
  }

  /** `reconcile`: also plan undoing drift (installed libraries that differ from the config's pins). */
  plan(scope: ScopeOptions & { reconcile?: boolean } = {}): Promise<PlanResult> {
    return plan({ ...this.project, ...scope }, this.ctx);
  }

  /** `reconcile`: also reinstall the config's pins where another version was installed by hand. */
  deploy(options: ScopeOptions & ApplyOptions & { reconcile?: boolean } = {}): Promise<DeployResult> {
    return deploy({ ...this.project, ...options }, this.ctx);
  }

  destroy(options: { modules?: string[] } & ApplyOptions = {}): Promise<DeployResult> {
    return destroy({ ...this.project, ...options }, this.ctx);
  }

  rollback(revision: number, options: ApplyOptions = {}): Promise<DeployResult> {
    return rollback({ ...this.project, ...options, to: revision }, this.ctx);
  }

  status(): Promise<StatusResult> {
    return status(this.project, this.ctx);
  }

  async history(limit = 50): Promise<HistoryEntry[]> {
    return (await history({ ...this.project, limit }, this.ctx)).deployments;
  }

  async settings(module?: string): Promise<SettingRow[]> {
    return (await listSettings({ ...this.project, module }, this.ctx)).settings;
  }

  /**
   * Starts a run of `job` as deployed to the target and returns at once; the run goes on even if this
   * program exits. A job not deployed to the target is refused (RefusedError, exit code 3) unless
   * `fromSource` is set.
   */
  async run(job: string, options: RunOptions = {}): Promise<Run> {
    const summary = await startRun({ ...this.project, job, params: options.params, noCache: options.noCache, keepWorkdir: options.keepWorkdir, fromSource: options.fromSource }, this.ctx);
    return new Run(summary.id, this.project, this.ctx);
  }

  /**
   * Starts one run of `job` per combination of `values` (a parameter sweep; `params` fixed for all)
   * and returns them at once: on a Slurm target one job array. `await Promise.all(runs.map((r) => r.wait()))` waits.
   */
  async sweep(job: string, values: Record<string, string[]>, options: RunOptions = {}): Promise<Run[]> {
    const sweep = await startSweep({ ...this.project, job, values, params: options.params, noCache: options.noCache, keepWorkdir: options.keepWorkdir, fromSource: options.fromSource }, this.ctx);
    return sweep.runs.map((r) => new Run(r.id, this.project, this.ctx));
  }

  /** A run started earlier (by id or unique prefix). */
  getRun(id: string): Run {
    return new Run(id, this.project, this.ctx);
  }

  runs(filter: { job?: string; limit?: number } = {}): Promise<RunSummary[]> {
    return listRuns({ ...this.project, ...filter }, this.ctx);
  }
}

export interface RunOptions {
  /** Job parameters (each becomes SLIPWAY_PARAM_<NAME>); unknown names are rejected. */
  params?: Record<string, string>;
  /** Run cached tasks even when an earlier run had the same inputs. */
  noCache?: boolean;
  /** Keep the working folder after the run. */
  keepWorkdir?: boolean;
  /** Run the job as the config declares it now, deployed or not (development). */
  fromSource?: boolean;
}

/** One run of a job. */
export class Run {
  constructor(
    readonly id: string,
    private readonly project: ProjectOptions,
    private readonly ctx: OperationContext,
  ) {}

  /** Tasks, timings, exit codes, params, results and provenance as they are now. */
  details(): Promise<RunDetails> {
    return showRun({ ...this.project, run: this.id }, this.ctx);
  }

  /** Resolves when the run has finished (succeeded, failed, cancelled or lost). */
  wait(): Promise<RunDetails> {
    return waitForRun({ ...this.project, run: this.id }, this.ctx);
  }

  /** What the run wrote to $SLIPWAY_OUTPUT_DIR/results.json (null if nothing). */
  async results(): Promise<unknown> {
    return (await this.details()).results;
  }

  /** Log lines, per task. */
  async logs(task?: string): Promise<Array<{ task: string; line: string }>> {
    const lines: Array<{ task: string; line: string }> = [];
    await runLogs({ ...this.project, run: this.id, task, onLine: (t, line) => lines.push({ task: t, line }) }, this.ctx);
    return lines;
  }

  cancel(): Promise<RunSummary> {
    return cancelRun({ ...this.project, run: this.id }, this.ctx);
  }
}

/** Artifacts of the project: the same operations as `slipway artifacts …`, for the Slipway's target. */
export class Artifacts {
  constructor(
    private readonly project: ProjectOptions,
    private readonly ctx: OperationContext,
  ) {}

  /** Builds the named artifacts (all when none is named); versions come from the packages. */
  build(names: string[] = [], options: { out?: string } = {}): Promise<BuildResult> {
    return buildArtifacts({ ...this.project, names, out: options.out }, this.ctx);
  }

  /**
   * Uploads the latest build to the given targets (default: this Slipway's target). Throws
   * RefusedError (code version_exists) when a target holds this version with other content.
   */
  publish(name: string, options: { targets?: string[]; allTargets?: boolean } = {}): Promise<PublishResult> {
    return publishArtifact({ ...this.project, name, targets: options.targets, allTargets: options.allTargets }, this.ctx);
  }

  /** Versions of one artifact in the target's store (newest first), with where each is in use. */
  versions(name: string): Promise<ArtifactListing> {
    return listArtifactVersions({ ...this.project, name }, this.ctx);
  }

  /** Every declared artifact with its number of versions in the target's store. */
  list(): Promise<ArtifactsOverview> {
    return listArtifacts(this.project, this.ctx);
  }

  /**
   * Installs "ARTIFACT@VERSION" into a deployed compute environment. A version that does not exist
   * throws InvalidInputError (code unknown_version) listing those that do; nothing changes.
   */
  install(library: string, into: string): Promise<InstallResult> {
    return installArtifact({ ...this.project, library, into }, this.ctx);
  }

  /** Retention: with `yes`, deletes versions past keep_last that nothing uses; without, only reports. */
  gc(options: { names?: string[]; keepLast?: number; yes?: boolean } = {}): Promise<GcResult> {
    return collectGarbage({ ...this.project, ...options }, this.ctx);
  }
}

/** The model registry of the Slipway's target: versions registered by runs, and aliases. */
export class Models {
  constructor(
    private readonly project: ProjectOptions,
    private readonly ctx: OperationContext,
  ) {}

  list(): Promise<ModelView[]> {
    return listModels(this.project, this.ctx);
  }

  /** Versions of one model, newest first. */
  versions(model: string): Promise<ModelVersionView[]> {
    return modelVersions({ ...this.project, model }, this.ctx);
  }

  /** One version: "name@3", "name@champion", or "name" for the latest. */
  show(ref: string): Promise<ModelVersionView> {
    return showModelVersion({ ...this.project, ref }, this.ctx);
  }

  setAlias(model: string, alias: string, version: number): Promise<ModelVersionView> {
    return setModelAlias({ ...this.project, model, alias, version }, this.ctx);
  }
}

/** Endpoints of the Slipway's target, served by the local server. */
export class Endpoints {
  constructor(
    private readonly project: ProjectOptions,
    private readonly ctx: OperationContext,
  ) {}

  list(): Promise<EndpointView[]> {
    return listEndpoints(this.project, this.ctx);
  }

  /** Sends one request through the gateway (the MLflow format unless `protocol: "oip"`); `body` is JSON-encoded. */
  query(name: string, body: unknown, options: { token?: string; protocol?: "mlflow" | "oip" } = {}): Promise<{ status: number; body: unknown; requestId: string | null }> {
    return queryEndpoint({ ...this.project, name, data: JSON.stringify(body), token: options.token, protocol: options.protocol }, this.ctx);
  }

  /** The latest rows of an endpoint's inference table. */
  logs(name: string, limit = 100): Promise<InferenceRow[]> {
    return endpointLogs({ ...this.project, name, limit }, this.ctx);
  }

  /** A bearer token for `user` (and groups); shown once, stored only as a hash. */
  createToken(user: string, groups: string[] = [], description?: string): Promise<{ token: string; user: string; groups: string[] }> {
    return createAccessToken({ ...this.project, user, groups, description }, this.ctx);
  }
}
