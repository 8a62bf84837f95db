// Which executor runs a target's jobs.
import type { TargetConfig } from "../config/schema.js";
import type { Executor } from "./executor.js";
import { localExecutor } from "./local/local-executor.js";

const executors: Record<string, Executor> = { local: localExecutor };

export function executorFor(target: TargetConfig): Executor {
  return executors[target.executor?.type ?? "local"]!;
}

export function executorNamed(name: string): Executor | undefined {
  return executors[name];
}
