import { join } from "node:path";

/** The local folder of a run: instructions, runner output, task logs, working and output folders. */
export function runDir(home: string, runId: string): string {
  return join(home, "runs", runId);
}

export const runPaths = (dir: string) => ({
  work: join(dir, "work"),
  output: join(dir, "output"),
  logs: join(dir, "logs"),
  taskLog: (task: string) => join(dir, "logs", `${task}.log`),
  runnerLog: join(dir, "runner.log"),
  /** Making (or checking) the run's compute environment. */
  environmentLog: join(dir, "logs", "environment.log"),
});
