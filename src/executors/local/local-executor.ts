// The local executor: a detached runner process per run on this machine (its own process group, so
// it outlives the CLI and can be stopped as a whole), with its output in the run folder.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { killProcessGroup, processAlive } from "../../util/run-script.js";
import { cliEntry } from "../../util/package-root.js";
import type { Executor, Liveness, RunHandle, SubmitRequest } from "../executor.js";

export const localExecutor: Executor = {
  name: "local",
  capabilities: { gpus: false, cancel: true, logsFollow: true },

  async submit(request: SubmitRequest): Promise<RunHandle> {
    mkdirSync(request.runDir, { recursive: true });
    const out = openSync(join(request.runDir, "runner.log"), "a");
    try {
      const child = spawn(process.execPath, [cliEntry(), "internal-runner", request.runId], {
        cwd: request.runDir,
        env: request.env,
        detached: true,
        stdio: ["ignore", out, out],
      });
      child.unref();
      if (!child.pid) throw new Error("could not start the runner process");
      return { executor: "local", pid: child.pid, host: hostname() };
    } finally {
      closeSync(out);
    }
  },

  async liveness(handle: RunHandle): Promise<Liveness> {
    if (typeof handle.pid !== "number") return "unknown";
    if (handle.host !== hostname()) return "unknown";
    return processAlive(handle.pid) ? "alive" : "gone";
  },

  async cancel(handle: RunHandle, taskProcessGroups: number[]): Promise<void> {
    // An attached runner lives inside the command that waits for it (not a group of its own): it is
    // asked to stop, and its tasks' groups are stopped here.
    const runner = typeof handle.pid === "number" ? handle.pid : undefined;
    if (runner && handle.attached) signalProcess(runner, "SIGTERM");
    const groups = [...(runner && !handle.attached ? [runner] : []), ...taskProcessGroups];
    // Ask politely first (the runner records the cancellation), then make sure.
    for (const g of groups) signalGroup(g, "SIGTERM");
    // The runner archives what the run produced before it exits; give it time to.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && groups.some((g) => processAlive(g))) await new Promise((r) => setTimeout(r, 50));
    for (const g of groups) killProcessGroup(g);
  },
};

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone already */
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* gone already */
  }
}
