// What every operation starts from: the project on disk, the chosen target, the runtime environment.
import { compileProject, type CompiledProject } from "../config/compile.js";
import { loadProject } from "../config/load.js";
import type { Reporter } from "../engine/reporter.js";
import type { RuntimeEnv } from "../env.js";
import { openStores, type Stores } from "../store/open.js";

export interface ProjectOptions {
  /** Project folder (holding slipway.yaml). */
  dir: string;
  target?: string;
  /** --var NAME=value */
  vars?: Record<string, string>;
}

export interface OperationContext {
  env: RuntimeEnv;
  reporter: Reporter;
  /** Asks the person at the terminal; absent when there is none (then --yes is needed). */
  confirm?: (question: string) => Promise<boolean>;
}

export function compile(options: ProjectOptions, env: RuntimeEnv): CompiledProject {
  const project = loadProject({
    dir: options.dir,
    target: options.target,
    vars: options.vars,
    envVars: env.varOverrides,
    user: env.user,
    env: env.processEnv,
  });
  return compileProject(project);
}

export async function withStores<T>(compiled: CompiledProject, env: RuntimeEnv, body: (stores: Stores) => Promise<T>): Promise<T> {
  const stores = await openStores(env.home, compiled.project.target.config);
  try {
    return await body(stores);
  } finally {
    await stores.close();
  }
}
