// Background work in one place: the list of loops the server runs beside serving. Each claims a lease
// per unit of work in the state database (a schedule's fire time, a unit's due time), so two servers
// sharing the state never double it and a dead server's work is taken over. Each logs what it did and
// records its last run, outcome and next run (`slipway server status`).
//
//   schedules   start runs of deployed schedules at their due times (schedules.ts)
//   ttl         destroy endpoints whose target TTL ran out (operations/endpoints.ts), and targets whose
//               target-wide TTL ran out, with their notifications and retries (operations/ttl.ts)
//   lost-runs   mark runs whose runner died as lost; forget old leases and fire records
//   retention/<project>/<target>   `artifacts gc --yes` on the target's `retention.artifacts.every`
//   pipelines   advance pipeline runs; fire pipelines' cron triggers; poll their git branches (pipelines.ts)
import { iso } from "../../clock.js";
import type { RuntimeEnv } from "../../env.js";
import { silentReporter } from "../../engine/reporter.js";
import { collectGarbage } from "../../operations/artifacts.js";
import { reapExpiredEndpoints } from "../../operations/endpoints.js";
import { expireTargets } from "../../operations/ttl.js";
import { cancelRunRow } from "../../operations/runs.js";
import { refreshLiveness } from "../../runs/liveness.js";
import type { Stores } from "../../store/open.js";
import type { FireRow, StatusRow } from "../../store/state/background-store.js";
import { parseDuration } from "../../util/duration.js";
import { runIfDue, type PeriodicUnit } from "./periodic.js";
import { PipelineLoop } from "./pipelines.js";
import { ScheduleLoop, type DeployedSchedule } from "./schedules.js";
import { scheduledRunStarter } from "./start-run.js";

export interface BackgroundOptions {
  log(line: string): void;
  /** Overrides how a fire starts its run (the bench's no-op runs); default: compile and submit. */
  startRun?: (fire: FireRow, schedule: DeployedSchedule) => Promise<void>;
  /** How often the lost-run check runs (default 60 s). */
  lostRunsEveryMs?: number;
  /** The longest a loop sleeps before looking again (new deploys, pauses; default 1 s). */
  lookEveryMs?: number;
  /** Who claims work (default host:pid). */
  owner?: string;
  /** Overrides the pipelines loop's options (tests: shorter notification retries). */
  pipelines?: Partial<Pick<ConstructorParameters<typeof PipelineLoop>[0], "effects" | "retryDelaysMs" | "leaseMs">>;
}

/** One loop or unit as `server status` shows it. */
export type BackgroundStatus = StatusRow;

export interface BackgroundWork {
  /** Whether the server must stay up for it: schedules are deployed, or a target has retention. */
  hasDeployedWork(): Promise<boolean>;
  /** Work in progress (a schedules tick, a unit's run). */
  busy(): boolean;
  /** Each loop's and unit's last run, outcome and next run (shared by every server on this state). */
  status(): Promise<BackgroundStatus[]>;
  /** Stops the loops and waits for work in progress to end. */
  stop(): Promise<void>;
}

export function startBackground(env: RuntimeEnv, stores: Stores, options: BackgroundOptions): BackgroundWork {
  const clock = env.clock;
  const owner = options.owner ?? `${env.host}:${process.pid}`;
  const log = options.log;
  const lookEveryMs = options.lookEveryMs ?? 1000;
  const stopping = new AbortController();
  let working = 0;
  const periodic = { state: stores.state, clock, owner, log };
  /** Counts the unit's run as work in progress (the server does not stop idle meanwhile). */
  const counted = (u: PeriodicUnit): PeriodicUnit => ({
    ...u,
    run: async (signal) => {
      working++;
      try {
        return await u.run(signal);
      } finally {
        working--;
      }
    },
  });

  const schedules = new ScheduleLoop({
    state: stores.state,
    clock,
    owner,
    log,
    start: options.startRun ?? scheduledRunStarter(env, stores, log),
    cancel: async (run) => void (await cancelRunRow(stores, run, env, "cancelled: the schedule's next run started (concurrency: cancel_previous)")),
    refresh: (run) => refreshLiveness(stores.state.runs(), run, clock),
  });

  const pipelines = new PipelineLoop({ env, stores, clock, owner, log, ...options.pipelines });

  const ttl: PeriodicUnit = {
    unit: "ttl",
    everyMs: env.reapEveryMs,
    run: async () => {
      // Each part runs even when the other fails; a failure of either is the unit's outcome.
      const [gone, targets] = await Promise.allSettled([reapExpiredEndpoints(stores, env), expireTargets(stores, env, { log, retryDelaysMs: options.pipelines?.retryDelaysMs })]);
      const parts: string[] = [];
      if (gone.status === "rejected") throw gone.reason;
      parts.push(gone.value.length ? `destroyed expired endpoint(s) ${gone.value.join(", ")}` : "no endpoint expired");
      if (targets.status === "rejected") throw targets.reason;
      if (targets.value.length) parts.push(...targets.value);
      return parts.join("; ");
    },
  };
  const lostRuns: PeriodicUnit = {
    unit: "lost-runs",
    everyMs: options.lostRunsEveryMs ?? 60_000,
    run: async () => {
      const runs = stores.state.runs();
      const lost: string[] = [];
      for (const r of await runs.active()) if ((await refreshLiveness(runs, r, clock)).status === "lost") lost.push(r.id);
      const dayAgo = iso(clock.now() - 86_400_000);
      await stores.state.background().pruneLeases(dayAgo);
      await stores.state.background().pruneFires(iso(clock.now() - 30 * 86_400_000));
      return lost.length ? `marked ${lost.length} run(s) lost: ${lost.join(", ")}` : "no run was lost";
    },
  };

  const loop = async (name: string, body: () => Promise<number>) => {
    while (!stopping.signal.aborted) {
      let next: number;
      try {
        next = await body();
      } catch (e) {
        log(`${name}: ${(e as Error).message}`);
        next = clock.now() + lookEveryMs;
      }
      if (stopping.signal.aborted) break;
      await clock.sleep(Math.max(0, Math.min(next - clock.now(), lookEveryMs)), stopping.signal);
    }
  };

  const loops = [
    loop("schedules", async () => {
      const started = clock.now();
      working++;
      const r = await schedules.tick().finally(() => working--);
      const did = r.started + r.skipped + r.queued + r.failed;
      const previous = did || r.schedules ? await stores.state.background().status("schedules") : undefined;
      const nextAt = r.next === undefined ? null : iso(r.next);
      if (did || (previous && previous.next_at !== nextAt) || (!previous && r.schedules)) {
        const message = did ? `started ${r.started}, skipped ${r.skipped}, queued ${r.queued}, failed ${r.failed}` : previous?.last_message ?? null;
        await stores.state.background().putStatus({
          unit: "schedules",
          owner: did ? owner : previous?.owner ?? null,
          last_started_at: did ? iso(started) : previous?.last_started_at ?? null,
          last_finished_at: did ? iso(clock.now()) : previous?.last_finished_at ?? null,
          last_outcome: did ? (r.failed ? "failed" : "ok") : previous?.last_outcome ?? null,
          last_message: message,
          next_at: nextAt,
        });
      }
      return r.pending ? clock.now() + lookEveryMs : r.next ?? clock.now() + lookEveryMs;
    }),
    loop("ttl", async () => (await runIfDue(counted(ttl), periodic)).next),
    loop("lost-runs", async () => (await runIfDue(counted(lostRuns), periodic)).next),
    loop("pipelines", async () => {
      const started = clock.now();
      working++;
      const r = await pipelines.tick().finally(() => working--);
      if (r.advanced || r.triggered) {
        await stores.state.background().putStatus({
          unit: "pipelines",
          owner,
          last_started_at: iso(started),
          last_finished_at: iso(clock.now()),
          last_outcome: "ok",
          last_message: `${r.open} open run(s); advanced ${r.advanced}, triggered ${r.triggered}`,
          next_at: r.next === undefined ? null : iso(r.next),
        });
      }
      // Runs in progress are looked at every lookEveryMs (job runs, approvals); idle, at the next due time.
      return r.open ? clock.now() + lookEveryMs : r.next ?? clock.now() + lookEveryMs;
    }),
    loop("retention", async () => {
      const targets = (await stores.state.background().targets()).filter((t) => t.retention && JSON.parse(t.retention).artifacts?.every);
      let next = clock.now() + lookEveryMs;
      for (const t of targets) {
        const every = parseDuration(JSON.parse(t.retention!).artifacts.every as string);
        const unit: PeriodicUnit = {
          unit: `retention/${t.project}/${t.target}`,
          everyMs: every,
          run: async () => {
            const gc = await collectGarbage({ dir: t.dir, target: t.target, yes: true }, { env, reporter: silentReporter });
            const what = [`${gc.delete.length} artifact version(s) deleted`, `${gc.keptInUse.length} kept in use`];
            if (gc.staleInstalls.length) what.push(`${gc.staleInstalls.length} stale install(s) removed`);
            if (gc.strandedEnvironments.length) what.push(`${gc.strandedEnvironments.length} stranded environment(s) removed`);
            return `artifacts gc: ${what.join(", ")}, ${gc.freedBytes} bytes freed`;
          },
        };
        next = Math.min(next, (await runIfDue(counted(unit), periodic)).next);
      }
      return next;
    }),
  ];

  return {
    busy: () => working > 0 || pipelines.busy(),
    async hasDeployedWork() {
      if ((await stores.state.resourcesOfKind("schedule")).length) return true;
      if (await pipelines.hasWork()) return true;
      if ((await stores.state.ttl().open()).length) return true;
      return (await stores.state.background().targets()).some((t) => t.retention && JSON.parse(t.retention).artifacts?.every);
    },
    status: () => stores.state.background().statuses(),
    async stop() {
      stopping.abort();
      await Promise.all(loops);
      await pipelines.stop();
    },
  };
}
