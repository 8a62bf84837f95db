// Advancing one run in the foreground (the embedded CLI's `pipelines run`): stage after stage in this
// process, polling its job runs, until the run finishes or only approvals and waits are left (or
// another process holds it). The lease is then given back so the server's loop takes the run over at
// once; notifications in flight are awaited before returning.
import type { Clock } from "../clock.js";
import type { PipelineRunRow } from "../store/state/pipeline-store.js";
import { FINISHED_RUN, type PipelineEngine } from "./engine.js";

export async function driveInForeground(engine: PipelineEngine, runId: string, clock: Clock, pollMs = 100): Promise<PipelineRunRow> {
  const store = engine.o.state.pipelines();
  if (await engine.claim(runId)) {
    for (;;) {
      const r = await engine.step(runId);
      if (FINISHED_RUN.has(r.run.status) || r.run.status === "queued") break;
      if (engine.busy(runId)) {
        await engine.settled(runId);
        continue;
      }
      if (r.moved) continue;
      // Job runs are polled; approvals and waits are left to the server.
      if ((await store.stages(runId)).some((s) => s.status === "running")) {
        await clock.sleep(pollMs);
        if (!(await engine.claim(runId))) break;
        continue;
      }
      break;
    }
    await engine.release(runId);
  }
  await engine.drain();
  return (await store.run(runId))!;
}
