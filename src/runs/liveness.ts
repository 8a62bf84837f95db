// A run whose runner is gone is lost (or failed, or cancelled, when its executor knows how it ended),
// never "running" forever: checked whenever runs are read. A queued run shows why it waits.
import { hostIdentity } from "../env.js";
import { iso, type Clock } from "../clock.js";
import { executorNamed } from "../executors/index.js";
import type { ExecutorStatus, RunHandle } from "../executors/executor.js";
import type { RunRow, RunStore } from "../store/state/run-store.js";
import { killProcessGroup } from "../util/run-script.js";

/** A runner on another host that has not been heard of for this long is lost. */
export const HEARTBEAT_LIMIT_MS = 30_000;

export async function refreshLiveness(runs: RunStore, row: RunRow, clock: Clock): Promise<RunRow> {
  if (row.status !== "queued" && row.status !== "running") return row;
  const handle = JSON.parse(row.handle) as RunHandle;
  const executor = executorNamed(row.executor);
  // A run recorded but not handed over yet has a handle without a way to find it.
  const status: ExecutorStatus = executor && Object.keys(handle).length > 1 ? await executor.status(handle).catch(() => ({ liveness: "unknown" as const })) : { liveness: "unknown" };
  let ending: { status: "failed" | "cancelled" | "lost"; why: string } | undefined;
  if (status.liveness === "gone") {
    ending = { status: status.outcome ?? "lost", why: status.reason ?? "its runner stopped without finishing" };
  } else if (status.liveness === "unknown" && row.heartbeat_at !== null && clock.now() - row.heartbeat_at > HEARTBEAT_LIMIT_MS) {
    ending = { status: "lost", why: `its runner has not been heard of since ${iso(row.heartbeat_at)}` };
  }
  if (!ending) {
    // Why a queued run waits (a scheduler's reason), shown as its reason until the runner starts.
    if (row.status === "queued" && status.reason && status.reason !== row.error) {
      await runs.transition(row.id, ["queued"], { error: status.reason });
      return (await runs.get(row.id)) ?? row;
    }
    return row;
  }
  // Re-read after the check: the runner may have finished in between.
  const fresh = await runs.get(row.id);
  if (!fresh || (fresh.status !== "queued" && fresh.status !== "running")) return fresh ?? row;
  const now = iso(clock.now());
  if (await runs.transition(row.id, ["queued", "running"], { status: ending.status, finished_at: now, error: ending.why })) {
    // Task processes on this machine (the local executor's) are stopped here: nothing the lost runner
    // started may go on untracked. A remote executor's tasks end with their job.
    const local = status.liveness === "gone" && handle.host === hostIdentity();
    for (const t of await runs.tasks(row.id)) {
      if (t.status !== "running" && t.status !== "pending") continue;
      if (t.pid && local) killProcessGroup(t.pid);
      await runs.updateTask(row.id, t.task, { status: ending.status, finished_at: now, ...(ending.status === "failed" ? { error: ending.why } : {}) });
    }
  }
  return (await runs.get(row.id))!;
}
