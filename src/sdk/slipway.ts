// The TypeScript SDK: the same operations as the CLI, for programs.
//   const slipway = new Slipway({ project: "./my-project", target: "dev" });
//   const result = await slipway.deploy({ phase: 1 });
// With `server` (and a token) it works on a Slipway server instead of the local home, like the CLI's
// --server: each call uploads the project folder (only what the server lacks) and the server runs the
// same command; the answers come back as the same result types (sdk/from-documents.ts).
import { join } from "node:path";
import { normalizeServer, RemoteClient } from "../client/api-client.js";
import { RemoteProject } from "../client/remote-project.js";
import { SlipwayError } from "../errors.js";
import { localControlPlaneAccess } from "../server/control-plane.js";
import type { ProgressEvent } from "../views/progress.js";
import * as doc from "./from-documents.js";
import type { Reporter } from "../engine/reporter.js";
import { silentReporter } from "../engine/reporter.js";
import { readRuntimeEnvWith, type RuntimeEnv } from "../env.js";
import type { OperationContext, ProjectOptions } from "../operations/context.js";
import { deploy, plan, validate, type DeployResult, type PlanResult, type ScopeOptions, type ValidateResult } from "../operations/deploy.js";
import { destroy } from "../operations/destroy.js";
import { history, listSettings, status, type HistoryEntry, type StatusResult } from "../operations/queries.js";
import { rollback } from "../operations/rollback.js";
import { listModels, modelVersions, setModelAlias, showModelVersion, type ModelVersionView, type ModelView } from "../operations/models.js";
import { promoteArtifact, promoteModel, type ArtifactPromotion, type ModelPromotion } from "../operations/promote.js";
import { createAccessToken, endpointLogs, listEndpoints, queryEndpoint, type EndpointView } from "../operations/endpoints.js";
import { appLogs, listApps, type AppLogs, type AppView } from "../operations/apps.js";
import type { InferenceRow } from "../serving/inference-log.js";
import { cancelRun, describeBundle, listRuns, runLogs, showRun, startRun, startSweep, waitForRun, type BundleSummary, type RunDetails, type RunSummary } from "../operations/runs.js";
import { listArchive, type ArchiveListing } from "../operations/archives.js";
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
  /**
   * A Slipway server (e.g. "http://127.0.0.1:7878"): work there instead of on the local home, like
   * `--server`. Each call uploads the project folder (only what the server lacks).
   */
  server?: string;
  /** The bearer token for `server` (default: SLIPWAY_TOKEN). */
  token?: string;
}

/** Where a Slipway's calls go: the local home (ctx), or a server (remote). */
interface Backend {
  project: ProjectOptions;
  ctx: OperationContext;
  remote?: RemoteProject;
}

/** Runs a project command on the server, replaying its progress into the reporter. */
async function onServer<C extends Parameters<RemoteProject["command"]>[0]>(b: Backend, command: C, args: Parameters<RemoteProject["command"]>[1] & Record<string, unknown>) {
  return b.remote!.command(command, args as never, { onEvent: (e) => replay(b.ctx.reporter, e) });
}

function replay(r: Reporter, e: ProgressEvent): void {
  if ("info" in e) r.info(e.info);
  else if ("warn" in e) r.warn(e.warn);
  else if ("plan" in e) r.plan?.(doc.toPlan(e.plan), e.where);
  else if ("action_started" in e) r.actionStarted?.(doc.toAction(e.action_started));
  else if ("action_finished" in e) r.actionFinished?.(doc.toAction(e.action_finished), { ok: e.ok, ms: e.ms, ...(e.error !== null ? { error: e.error } : {}) });
  else if ("output" in e) r.output?.(e.output.address, e.output.stream, e.output.line);
}

function notRemote(what: string): SlipwayError {
  return new SlipwayError("not_remote", `${what} works on this machine only; this Slipway works on a server`, { hint: "use a Slipway without `server` for it" });
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
  private readonly b: Backend;
  /** Build, publish, list, install and collect artifacts (`slipway artifacts …`). */
  readonly artifacts: Artifacts;
  /** The model registry (`slipway models …`). */
  readonly models: Models;
  /** Serving endpoints (`slipway endpoints …`, `slipway tokens create`). */
  readonly endpoints: Endpoints;
  /** Web apps the server runs at /apps/NAME/ (`slipway apps …`). */
  readonly apps: Apps;
  /** The run archives (`slipway archives …`). */
  readonly archives: Archives;

  constructor(options: SlipwayOptions = {}) {
    const env: RuntimeEnv = readRuntimeEnvWith(options.home ? { SLIPWAY_HOME: options.home } : {});
    const project: ProjectOptions = { dir: options.project ?? ".", target: options.target, vars: options.vars };
    const ctx: OperationContext = { env, reporter: options.reporter ?? silentReporter, controlPlaneAccess: localControlPlaneAccess(env) };
    let remote: RemoteProject | undefined;
    if (options.server !== undefined) {
      const url = normalizeServer(options.server);
      const token = options.token ?? env.token;
      if (!token) throw new SlipwayError("not_logged_in", `no token for ${url}`, { hint: "pass `token` (a token from `slipway tokens create`), or set SLIPWAY_TOKEN" });
      remote = new RemoteProject(new RemoteClient(url, token), { dir: project.dir, target: project.target, vars: project.vars, envVars: env.varOverrides, cacheDir: join(env.home, "cache", "uploads") });
    }
    this.b = { project, ctx, remote };
    this.artifacts = new Artifacts(this.b);
    this.models = new Models(this.b);
    this.endpoints = new Endpoints(this.b);
    this.apps = new Apps(this.b);
    this.archives = new Archives(this.b);
  }

  /**
   * Checks the project files; throws InvalidInputError (with every diagnostic) when invalid. It reads
   * the files on this machine, with a server too (which checks them again on every other call).
   */
  validate(): ValidateResult {
    return validate(this.b.project, this.b.ctx);
  }

  /** `reconcile`: also plan undoing drift (installed libraries that differ from the config's pins). */
  async plan(scope: ScopeOptions & { reconcile?: boolean } = {}): Promise<PlanResult> {
    if (this.b.remote) return doc.toPlanResult((await onServer(this.b, "plan", { phase: scope.phase, modules: scope.modules, withDeps: scope.withDeps, reconcile: scope.reconcile })).fields);
    return plan({ ...this.b.project, ...scope }, this.b.ctx);
  }

  /** `reconcile`: also reinstall the config's pins where another version was installed by hand. */
  async deploy(options: ScopeOptions & ApplyOptions & { reconcile?: boolean } = {}): Promise<DeployResult> {
    if (this.b.remote) return doc.toDeployResult((await onServer(this.b, "deploy", { ...options })).fields);
    return deploy({ ...this.b.project, ...options }, this.b.ctx);
  }

  async destroy(options: { modules?: string[] } & ApplyOptions = {}): Promise<DeployResult> {
    if (this.b.remote) return doc.toDeployResult((await onServer(this.b, "destroy", { ...options })).fields);
    return destroy({ ...this.b.project, ...options }, this.b.ctx);
  }

  async rollback(revision: number, options: ApplyOptions = {}): Promise<DeployResult> {
    if (this.b.remote) return doc.toDeployResult((await onServer(this.b, "rollback", { ...options, to: revision })).fields);
    return rollback({ ...this.b.project, ...options, to: revision }, this.b.ctx);
  }

  async status(): Promise<StatusResult> {
    if (this.b.remote) return doc.toStatus((await onServer(this.b, "status", {})).fields);
    return status(this.b.project, this.b.ctx);
  }

  async history(limit = 50): Promise<HistoryEntry[]> {
    if (this.b.remote) return (await onServer(this.b, "history", { limit })).fields.deployments.map(doc.toHistoryEntry);
    return (await history({ ...this.b.project, limit }, this.b.ctx)).deployments;
  }

  async settings(module?: string): Promise<SettingRow[]> {
    if (this.b.remote) return doc.toSettings((await onServer(this.b, "settings list", { module })).fields);
    return (await listSettings({ ...this.b.project, module }, this.b.ctx)).settings;
  }

  /**
   * Starts a run of `job` as deployed to the target and returns at once; the run goes on even if this
   * program exits. A job not deployed to the target is refused (RefusedError, exit code 3) unless
   * `fromSource` is set. With a server, it runs on the server's executor.
   */
  async run(job: string, options: RunOptions = {}): Promise<Run> {
    const args = { job, params: options.params, noCache: options.noCache, keepWorkdir: options.keepWorkdir, fromSource: options.fromSource, writeBundle: options.writeBundle };
    const id = this.b.remote ? (await onServer(this.b, "run", args)).fields.id : (await startRun({ ...this.b.project, ...args }, this.b.ctx)).id;
    return new Run(id, this.b);
  }

  /**
   * Starts one run of `job` per combination of `values` (a parameter sweep; `params` fixed for all)
   * and returns them at once: on a Slurm target one job array. `await Promise.all(runs.map((r) => r.wait()))` waits.
   */
  async sweep(job: string, values: Record<string, string[]>, options: RunOptions = {}): Promise<Run[]> {
    const args = { job, values, params: options.params, noCache: options.noCache, fromSource: options.fromSource };
    const ids = this.b.remote ? (await onServer(this.b, "sweep", args)).fields.runs.map((r) => r.id) : (await startSweep({ ...this.b.project, ...args, keepWorkdir: options.keepWorkdir }, this.b.ctx)).runs.map((r) => r.id);
    return ids.map((id) => new Run(id, this.b));
  }

  /**
   * Captures `job`'s bundle (its source folder, resolved configuration, task scripts and runner) into
   * the job-source archive and returns its hash and manifest; with `out`, also writes it as a .tar.gz
   * (what `slipway bundle JOB -o FILE` writes; `run --bundle FILE` runs it). On this machine only.
   */
  async bundle(job: string, options: { out?: string; params?: Record<string, string> } = {}): Promise<BundleSummary> {
    if (this.b.remote) throw notRemote("bundle");
    return describeBundle({ ...this.b.project, job, out: options.out, params: options.params }, this.b.ctx);
  }

  /** A run started earlier (by id or unique prefix). */
  getRun(id: string): Run {
    return new Run(id, this.b);
  }

  async runs(filter: { job?: string; limit?: number } = {}): Promise<RunSummary[]> {
    if (this.b.remote) return (await onServer(this.b, "runs", { job: filter.job, limit: filter.limit })).fields.runs.map(doc.toRunSummary);
    return listRuns({ ...this.b.project, ...filter }, this.b.ctx);
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
  /** Also write the run's bundle as a .tar.gz next to its working folder (its path is in provenance.bundle.archive_file). */
  writeBundle?: boolean;
}

/** One run of a job. */
export class Run {
  /** @internal */
  constructor(
    readonly id: string,
    private readonly b: Backend,
  ) {}

  /** Tasks, timings, exit codes, params, results and provenance as they are now. */
  async details(): Promise<RunDetails> {
    if (this.b.remote) return doc.toRunDetails((await onServer(this.b, "runs show", { run: this.id })).fields);
    return showRun({ ...this.b.project, run: this.id }, this.b.ctx);
  }

  /** Resolves when the run has finished (succeeded, failed, cancelled or lost). */
  async wait(): Promise<RunDetails> {
    if (this.b.remote) {
      // The server follows the run until it has finished.
      await onServer(this.b, "logs", { run: this.id, follow: true, onLine: () => {} });
      return this.details();
    }
    return waitForRun({ ...this.b.project, run: this.id }, this.b.ctx);
  }

  /** What the run wrote to $SLIPWAY_OUTPUT_DIR/results.json (null if nothing). */
  async results(): Promise<unknown> {
    return (await this.details()).results;
  }

  /** Log lines, per task. */
  async logs(task?: string): Promise<Array<{ task: string; line: string }>> {
    if (this.b.remote) return (await onServer(this.b, "logs", { run: this.id, task })).fields.lines.map((l) => ({ task: l.task, line: l.line }));
    const lines: Array<{ task: string; line: string }> = [];
    await runLogs({ ...this.b.project, run: this.id, task, onLine: (t, line) => lines.push({ task: t, line }) }, this.b.ctx);
    return lines;
  }

  async cancel(): Promise<RunSummary> {
    if (this.b.remote) return doc.toRunSummary((await onServer(this.b, "cancel", { run: this.id })).fields);
    return cancelRun({ ...this.b.project, run: this.id }, this.b.ctx);
  }
}

/** The run archives of the Slipway's target: the same as `slipway archives …`. */
export class Archives {
  /** @internal */
  constructor(private readonly b: Backend) {}

  /**
   * What one archive kind (job_source, stage_logs, persisted_data, artifacts, provenance, cache, misc)
   * holds for the target, grouped by run, bundle and content; `run` limits it to one run's blobs.
   */
  async list(kind: string, options: { run?: string } = {}): Promise<ArchiveListing> {
    if (this.b.remote) return doc.toArchiveListing((await onServer(this.b, "archives list", { kind, run: options.run })).fields);
    return listArchive({ ...this.b.project, kind, run: options.run }, this.b.ctx);
  }
}

/** Artifacts of the project: the same operations as `slipway artifacts …`, for the Slipway's target. */
export class Artifacts {
  /** @internal */
  constructor(private readonly b: Backend) {}

  /** Builds the named artifacts (all when none is named); versions come from the packages. On this machine only. */
  build(names: string[] = [], options: { out?: string } = {}): Promise<BuildResult> {
    if (this.b.remote) return Promise.reject(notRemote("artifacts build"));
    return buildArtifacts({ ...this.b.project, names, out: options.out }, this.b.ctx);
  }

  /**
   * Uploads the latest build to the given targets (default: this Slipway's target). Throws
   * RefusedError (code version_exists) when a target holds this version with other content. On this
   * machine only.
   */
  publish(name: string, options: { targets?: string[]; allTargets?: boolean } = {}): Promise<PublishResult> {
    if (this.b.remote) return Promise.reject(notRemote("artifacts publish"));
    return publishArtifact({ ...this.b.project, name, targets: options.targets, allTargets: options.allTargets }, this.b.ctx);
  }

  /** Versions of one artifact in the target's store (newest first), with where each is in use. */
  async versions(name: string): Promise<ArtifactListing> {
    if (this.b.remote) return doc.toArtifactListing((await onServer(this.b, "artifacts list", { name })).fields as Parameters<typeof doc.toArtifactListing>[0]);
    return listArtifactVersions({ ...this.b.project, name }, this.b.ctx);
  }

  /** Copies a published version ("name@1.2.0") from one target's artifact store to another's. */
  async promote(ref: string, options: { from: string; to: string }): Promise<ArtifactPromotion> {
    if (this.b.remote) return { ...(await onServer(this.b, "artifacts promote", { ref, from: options.from, to: options.to })).fields };
    return promoteArtifact({ ...this.b.project, ref, from: options.from, to: options.to }, this.b.ctx);
  }

  /** Every declared artifact with its number of versions in the target's store. */
  async list(): Promise<ArtifactsOverview> {
    if (this.b.remote) return doc.toArtifactsOverview((await onServer(this.b, "artifacts list", {})).fields as Parameters<typeof doc.toArtifactsOverview>[0]);
    return listArtifacts(this.b.project, this.b.ctx);
  }

  /**
   * Installs "ARTIFACT@VERSION" into a deployed compute environment. A version that does not exist
   * throws InvalidInputError (code unknown_version) listing those that do; nothing changes.
   */
  async install(library: string, into: string): Promise<InstallResult> {
    if (this.b.remote) return doc.toInstall((await onServer(this.b, "artifacts install", { library, into })).fields);
    return installArtifact({ ...this.b.project, library, into }, this.b.ctx);
  }

  /** Retention: with `yes`, deletes versions past keep_last that nothing uses; without, only reports. */
  async gc(options: { names?: string[]; keepLast?: number; yes?: boolean } = {}): Promise<GcResult> {
    if (this.b.remote) return doc.toGc((await onServer(this.b, "artifacts gc", { ...options })).fields);
    return collectGarbage({ ...this.b.project, ...options }, this.b.ctx);
  }
}

/** The model registry of the Slipway's target: versions registered by runs, and aliases. */
export class Models {
  /** @internal */
  constructor(private readonly b: Backend) {}

  async list(): Promise<ModelView[]> {
    if (this.b.remote) return doc.toModels((await onServer(this.b, "models list", {})).fields);
    return listModels(this.b.project, this.b.ctx);
  }

  /** Versions of one model, newest first. */
  async versions(model: string): Promise<ModelVersionView[]> {
    if (this.b.remote) return (await onServer(this.b, "models versions", { model })).fields.versions.map(doc.toModelVersion);
    return modelVersions({ ...this.b.project, model }, this.b.ctx);
  }

  /** One version: "name@3", "name@champion", or "name" for the latest. */
  async show(ref: string): Promise<ModelVersionView> {
    if (this.b.remote) return doc.toModelVersion((await onServer(this.b, "models show", { ref })).fields);
    return showModelVersion({ ...this.b.project, ref }, this.b.ctx);
  }

  async setAlias(model: string, alias: string, version: number): Promise<ModelVersionView> {
    if (this.b.remote) return doc.toModelVersion((await onServer(this.b, "models alias set", { model, alias, version })).fields);
    return setModelAlias({ ...this.b.project, model, alias, version }, this.b.ctx);
  }

  /**
   * Copies a version ("name@champion", "name@3", "name/3") with its files, metrics and lineage from one
   * target's registry to another's, and points `alias` at it there. Promoting it again adds nothing
   * (`promoted: false`).
   */
  async promote(ref: string, options: { from: string; to: string; alias?: string }): Promise<ModelPromotion> {
    if (this.b.remote) return doc.toModelPromotion((await onServer(this.b, "models promote", { ref, from: options.from, to: options.to, alias: options.alias })).fields);
    return promoteModel({ ...this.b.project, ref, from: options.from, to: options.to, alias: options.alias }, this.b.ctx);
  }
}

/** Apps of the Slipway's target, run by the local server (or by the Slipway's server). */
export class Apps {
  /** @internal */
  constructor(private readonly b: Backend) {}

  async list(): Promise<AppView[]> {
    if (this.b.remote) return doc.toApps((await onServer(this.b, "apps list", {})).fields);
    return listApps(this.b.project, this.b.ctx);
  }

  /** The app's log lines from `offset` (default: the last `tail` lines), and the offset to read from next. */
  async logs(name: string, options: { offset?: number; tail?: number } = {}): Promise<AppLogs> {
    if (this.b.remote) return (await onServer(this.b, "apps logs", { name, offset: options.offset, tail: options.tail })).fields;
    return appLogs({ ...this.b.project, name, offset: options.offset, tail: options.tail }, this.b.ctx);
  }
}

/** Endpoints of the Slipway's target, served by the local server (or by the Slipway's server). */
export class Endpoints {
  /** @internal */
  constructor(private readonly b: Backend) {}

  async list(): Promise<EndpointView[]> {
    if (this.b.remote) return doc.toEndpoints((await onServer(this.b, "endpoints list", {})).fields);
    return listEndpoints(this.b.project, this.b.ctx);
  }

  /**
   * Sends one request through the gateway (the MLflow format unless `protocol: "oip"`); `body` is
   * JSON-encoded. With a server, the server sends it as the caller (its token; `token` is not used).
   */
  async query(name: string, body: unknown, options: { token?: string; protocol?: "mlflow" | "oip" } = {}): Promise<{ status: number; body: unknown; requestId: string | null }> {
    if (this.b.remote) {
      const r = (await onServer(this.b, "endpoints query", { name, data: JSON.stringify(body), protocol: options.protocol })).fields;
      return { status: r.status, body: r.body, requestId: r.request_id };
    }
    return queryEndpoint({ ...this.b.project, name, data: JSON.stringify(body), token: options.token, protocol: options.protocol }, this.b.ctx);
  }

  /** The latest rows of an endpoint's inference table. */
  async logs(name: string, limit = 100): Promise<InferenceRow[]> {
    if (this.b.remote) return doc.toInferenceRows((await onServer(this.b, "endpoints logs", { name, limit })).fields);
    return endpointLogs({ ...this.b.project, name, limit }, this.b.ctx);
  }

  /**
   * A bearer token for `user` (and groups); shown once, stored only as a hash. With a server it is a
   * control-plane token (`slipway tokens create --user`), which administrators may make for anyone.
   */
  async createToken(user: string, groups: string[] = [], description?: string): Promise<{ token: string; user: string; groups: string[] }> {
    if (this.b.remote) {
      const t = await this.b.remote.client.fields("POST", "/tokens", { body: { user, groups, description } });
      return { token: String(t.token), user: String(t.user), groups: t.groups as string[] };
    }
    return createAccessToken({ ...this.b.project, user, groups, description }, this.b.ctx);
  }
}
