// Schedules as deployed to a target: their next fire times and last fires (`schedules list`), and
// pausing or unpausing one (`schedules pause|unpause NAME`, which overrides the config's `paused`
// until the other command is given).
import { servedByHomeServer } from "./background.js";
import { iso } from "../clock.js";
import { InvalidInputError } from "../errors.js";
import { nextDue } from "../kinds/cron.js";
import { specOf } from "../kinds/index.js";
import type { ScheduleSpec } from "../kinds/schedule/index.js";
import { ensureServer, runningServer } from "../serving/control.js";
import type { Stores } from "../store/open.js";
import type { FireRow } from "../store/state/background-store.js";
import { didYouMean } from "../util/suggest.js";
import { authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";

export interface ScheduleInfo {
  name: string;
  job: string;
  cron: string;
  timezone: string;
  catchUp: ScheduleSpec["catch_up"];
  concurrency: ScheduleSpec["concurrency"];
  paused: boolean;
  /** Who paused it: the config (`paused: true`), or `schedules pause` (by whom, when). */
  pausedBy: string | null;
  /** The next due time, unless paused. */
  nextAt: string | null;
  last: { dueAt: string; status: string; runId: string | null; message: string | null } | null;
}

export interface SchedulesResult {
  project: string;
  target: string;
  /** Schedules fire only while the server of this SLIPWAY_HOME runs (deploy starts it). */
  serverRunning: boolean;
  schedules: ScheduleInfo[];
}

export async function listSchedules(options: ProjectOptions, ctx: OperationContext): Promise<SchedulesResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "schedules list");
  const { project } = compiled;
  return withStores(compiled, ctx.env, async (stores) => ({
    project: project.name,
    target: project.target.name,
    serverRunning: !!(await runningServer(ctx.env)),
    schedules: await schedulesOf(stores, project.name, project.target.name, ctx.env.clock.now()),
  }));
}

async function schedulesOf(stores: Stores, project: string, target: string, now: number): Promise<ScheduleInfo[]> {
  const recorded = (await stores.state.forTarget(project, target).listResources()).filter((r) => r.kind === "schedule");
  const states = await stores.state.background().scheduleStates();
  const out: ScheduleInfo[] = [];
  for (const r of recorded) {
    const spec = specOf(r, "schedule");
    const state = states.get(`${project}\u0000${target}\u0000${r.name}`);
    const paused = state ? state.paused === 1 : spec.paused;
    const [last] = await stores.state.background().fires({ project, target, schedule: r.name, limit: 1 });
    out.push({
      name: r.name,
      job: spec.job,
      cron: spec.cron,
      timezone: spec.timezone,
      catchUp: spec.catch_up,
      concurrency: spec.concurrency,
      paused,
      pausedBy: !paused ? null : state ? `schedules pause by ${state.updated_by} at ${state.updated_at}` : "config (paused: true)",
      nextAt: paused ? null : iso(nextDue(spec.cron, spec.timezone, now)),
      last: last ? lastFire(last) : null,
    });
  }
  return out;
}

function lastFire(f: FireRow): ScheduleInfo["last"] {
  return { dueAt: f.due_at, status: f.status, runId: f.status === "started" ? f.run_id : null, message: f.message };
}

/** Pauses or unpauses a deployed schedule; unpausing makes sure the server that fires it runs. */
export async function setSchedulePaused(options: ProjectOptions & { name: string; paused: boolean }, ctx: OperationContext): Promise<{ project: string; target: string; schedule: ScheduleInfo }> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", options.paused ? "schedules pause" : "schedules unpause", `schedule.${options.name}`);
  const { project } = compiled;
  return withStores(compiled, ctx.env, async (stores) => {
    const names = (await stores.state.forTarget(project.name, project.target.name).listResources()).filter((r) => r.kind === "schedule").map((r) => r.name);
    if (!names.includes(options.name)) {
      throw new InvalidInputError([{ message: `no schedule ${options.name} is deployed to ${project.name}/${project.target.name}`, hint: didYouMean(options.name, names) ?? (names.length ? `schedules: ${names.join(", ")}` : "deploy one first") }], "unknown_schedule");
    }
    await stores.state.background().setPaused(project.name, project.target.name, options.name, options.paused, iso(ctx.env.clock.now()), ctx.env.user);
    if (!options.paused && servedByHomeServer(compiled, ctx) && !(await runningServer(ctx.env))) {
      const server = await ensureServer(ctx.env);
      ctx.reporter.info(`started the Slipway server at ${server.url}: it fires the schedule`);
    }
    const schedule = (await schedulesOf(stores, project.name, project.target.name, ctx.env.clock.now())).find((s) => s.name === options.name)!;
    return { project: project.name, target: project.target.name, schedule };
  });
}
