import { join } from "node:path";
import { sha256 } from "../util/hash.js";

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

/** Where the working folders of finished runs wait to be reused by the next run of the same job (src/bundles/workdir.ts). */
export function workDirPool(home: string, project: string, job: string): { cacheDir: string; pool: string } {
  return { cacheDir: join(home, "cache", "workdirs"), pool: sha256(`${project}\0${job}`).slice(0, 16) };
}
