// The TypeScript SDK: the same operations as the CLI, for programs.
//   const slipway = new Slipway({ project: "./my-project", target: "dev" });
//   const result = await slipway.deploy({ phase: 1 });
import type { Reporter } from "../engine/reporter.js";
import { silentReporter } from "../engine/reporter.js";
import { readRuntimeEnv, type RuntimeEnv } from "../env.js";
import type { OperationContext, ProjectOptions } from "../operations/context.js";
import { deploy, plan, validate, type DeployResult, type PlanResult, type ScopeOptions, type ValidateResult } from "../operations/deploy.js";
import { destroy } from "../operations/destroy.js";
import { history, listSettings, status, type HistoryEntry, type StatusResult } from "../operations/queries.js";
import { rollback } from "../operations/rollback.js";
import type { SettingRow } from "../store/state/state-store.js";

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
}

export class Slipway {
  private readonly project: ProjectOptions;
  private readonly ctx: OperationContext;

  constructor(options: SlipwayOptions = {}) {
    const env: RuntimeEnv = readRuntimeEnv(options.home ? { ...process.env, SLIPWAY_HOME: options.home } : process.env);
    this.project = { dir: options.project ?? ".", target: options.target, vars: options.vars };
    this.ctx = { env, reporter: options.reporter ?? silentReporter };
  }

  /** Checks the project files; throws InvalidInputError (with every diagnostic) when invalid. */
  validate(): ValidateResult {
    return validate(this.project, this.ctx);
  }

  plan(scope: ScopeOptions = {}): Promise<PlanResult> {
    return plan({ ...this.project, ...scope }, this.ctx);
  }

  deploy(options: ScopeOptions & ApplyOptions = {}): Promise<DeployResult> {
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
}
