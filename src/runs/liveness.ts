// A run whose runner is gone is lost, never "running" forever: checked whenever runs are read.
import { iso, type Clock } from "../clock.js";
import { executorNamed } from "../executors/index.js";
import type { RunHandle } from "../executors/executor.js";
import type { RunRow, RunStore } from "../store/state/run-store.js";
import { killProcessGroup } from "../util/run-script.js";

/** A runner on another host that has not been heard of for this long is lost. */
export const HEARTBEAT_LIMIT_MS = 30_000;

export async function refreshLiveness(runs: RunStore, row: RunRow, clock: Clock): Promise<RunRow> {
  if (row.status !== "queued" && row.status !== "running") return row;
  const handle = JSON.parse(row.handle) as RunHandle;
  const executor = executorNamed(row.executor);
  let gone = false;
  let why = "";
  const liveness = executor && typeof handle.pid === "number" ? await executor.liveness(handle) : "unknown";
  if (liveness === "gone") {
    gone = true;
    why = `its runner (pid ${handle.pid} on ${handle.host}) stopped without finishing`;
  } else if (liveness === "unknown" && row.heartbeat_at !== null && clock.now() - row.heartbeat_at > HEARTBEAT_LIMIT_MS) {
    gone = true;
    why = `its runner has not been heard of since ${iso(row.heartbeat_at)}`;
  }
  if (!gone) return row;
  // Re-read after the check: the runner may have finished in between.
  const fresh = await runs.get(row.id);
  if (!fresh || (fresh.status !== "queued" && fresh.status !== "running")) return fresh ?? row;
  const now = iso(clock.now());
  if (await runs.transition(row.id, ["queued", "running"], { status: "lost", finished_at: now, error: why })) {
    for (const t of await runs.tasks(row.id)) {
      if (t.status !== "running" && t.status !== "pending") continue;
      // Nothing the lost runner started may go on untracked: stop its tasks' process groups here.
      if (t.pid && liveness === "gone") killProcessGroup(t.pid);
      await runs.updateTask(row.id, t.task, { status: "lost", finished_at: now });
    }
  }
  return (await runs.get(row.id))!;
}
