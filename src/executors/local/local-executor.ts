// The local executor: a detached runner process per run on this machine (its own process group, so
// it outlives the CLI and can be stopped as a whole), with its output in the run folder.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { hostIdentity } from "../../env.js";
import { join } from "node:path";
import { killProcessGroup, processAlive } from "../../util/run-script.js";
import { cliEntry } from "../../util/package-root.js";
import type { Clock } from "../../clock.js";
import type { Executor, ExecutorStatus, RunHandle, SubmitRequest } from "../executor.js";

/** How long a cancelled runner has to archive what its run produced before it is killed. */
export const CANCEL_GRACE_MS = 15_000;

export const localExecutor: Executor = {
  name: "local",
  capabilities: { gpus: false, cancel: true, logsFollow: true, attach: true, arrays: false },

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
      return { executor: "local", pid: child.pid, host: hostIdentity(request.env) };
    } finally {
      closeSync(out);
    }
  },

  async status(handle: RunHandle): Promise<ExecutorStatus> {
    if (typeof handle.pid !== "number" || handle.host !== hostIdentity()) return { liveness: "unknown" };
    if (processAlive(handle.pid)) return { liveness: "alive" };
    return { liveness: "gone", reason: `its runner (pid ${handle.pid} on ${String(handle.host)}) stopped without finishing` };
  },

  async cancel(handle: RunHandle, taskProcessGroups: number[], clock: Clock): Promise<void> {
    // An attached runner lives inside the command that waits for it (not a group of its own); a
    // detached one is a group of its own. Either stops its tasks itself when asked, so it learns of
    // the cancellation before any task dies and records the run as cancelled (signalling the tasks at
    // the same time let a task's exit win the race: the run was recorded as failed). The task groups
    // are signalled here only when the runner is gone.
    const runner = typeof handle.pid === "number" ? handle.pid : undefined;
    if (runner !== undefined && processAlive(runner)) {
      if (handle.attached) signalProcess(runner, "SIGTERM");
      else signalGroup(runner, "SIGTERM");
    } else {
      for (const g of taskProcessGroups) signalGroup(g, "SIGTERM");
    }
    const groups = [...(runner && !handle.attached ? [runner] : []), ...taskProcessGroups];
    // Asked politely first (the runner records the cancellation); made sure below.
    // The runner archives what the run produced before it exits; give it time to.
    const deadline = clock.now() + CANCEL_GRACE_MS;
    while (clock.now() < deadline && groups.some((g) => processAlive(g))) await clock.sleep(50);
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
