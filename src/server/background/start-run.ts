// How a schedule's fire becomes a run: the project is compiled from the folder it was last deployed
// from (recorded by deploy in `background_targets`), for the schedule's target, and the job is
// submitted like `slipway run` does (the job deployed to the target), with the id the fire claimed and `trigger: schedule`.
import type { RuntimeEnv } from "../../env.js";
import type { CompiledProject } from "../../kinds/compile-project.js";
import { compile } from "../../operations/context.js";
import { runSource } from "../../operations/runs.js";
import { submitRun } from "../../runs/submit.js";
import type { Stores } from "../../store/open.js";
import type { FireRow } from "../../store/state/background-store.js";
import type { DeployedSchedule } from "./schedules.js";

/** Compiled projects are reused for this long (a minute's many fires compile once). */
const COMPILED_FOR_MS = 5_000;

export function scheduledRunStarter(env: RuntimeEnv, stores: Stores, log: (line: string) => void): (fire: FireRow, schedule: DeployedSchedule) => Promise<void> {
  const cache = new Map<string, { at: number; compiled: CompiledProject }>();
  return async (fire, schedule) => {
    const key = `${schedule.project}\u0000${schedule.target}`;
    let hit = cache.get(key);
    if (!hit || env.clock.now() - hit.at > COMPILED_FOR_MS) {
      const row = (await stores.state.background().targets()).find((t) => t.project === schedule.project && t.target === schedule.target);
      if (!row) throw new Error(`${schedule.project}/${schedule.target} has no recorded project folder: deploy it again`);
      hit = { at: env.clock.now(), compiled: compile({ dir: row.dir, target: schedule.target }, env) };
      cache.set(key, hit);
    }
    const params = Object.fromEntries(Object.entries(schedule.spec.params ?? {}).map(([k, v]) => [k, String(v)]));
    // The job as deployed to the target (a schedule fires what was deployed, not the folder's edits).
    const source = await runSource(hit.compiled, stores, { job: schedule.spec.job }, (m) => log(`schedule ${schedule.name}: ${m}`));
    await submitRun(hit.compiled, stores, source, { params, runId: fire.run_id!, trigger: { kind: "schedule", ref: schedule.name } }, env);
  };
}
