// Which executor runs a target's jobs. `executorFor` builds one with the target's settings (to submit);
// `executorNamed` gives one that finds, checks and cancels runs from their handles alone.
import type { ExecutorConfig, TargetConfig } from "../config/schema.js";
import type { Executor } from "./executor.js";
import { localExecutor } from "./local/local-executor.js";
import { slurmExecutor } from "./slurm/slurm-executor.js";
import { kubernetesExecutor } from "./kubernetes/kubernetes-executor.js";

const factories: Record<ExecutorConfig["type"], (config: ExecutorConfig | undefined) => Executor> = {
  local: () => localExecutor,
  slurm: (config) => slurmExecutor(config),
  kubernetes: (config) => kubernetesExecutor(config),
};

export function executorFor(target: TargetConfig): Executor {
  const config = target.executor;
  return factories[config?.type ?? "local"](config);
}

export function executorNamed(name: string): Executor | undefined {
  return Object.hasOwn(factories, name) ? factories[name as ExecutorConfig["type"]](undefined) : undefined;
}
