// The schedules loop: starts a run of each deployed schedule's job at each of its due times.
//
// Exactly once per due time: the row (project, target, schedule, due_at) in `schedule_fires` is the
// claim. Whoever inserts it fires; a second server's insert does nothing. The claim names the run id
// before the run starts, so a server that takes over a claim left by a dead one (still `claimed` past
// its expiry) finds the run if it was started, and starts it with that id if not.
//
// Which due times: those after the schedule's cursor (its latest recorded fire, its last deploy, its
// last pause or unpause) up to now. One more than `lateAfterMs` old was missed (no server ran then):
// `catch_up: none` records the latest missed time as skipped, `once` fires it. When the previous run
// still runs, `concurrency` decides: skip this time, queue it (started when the previous ends, oldest
// first), or cancel_previous.
import { iso, type Clock } from "../../clock.js";
import { dueBetween, latestDue, nextDue } from "../../kinds/cron.js";
import type { ScheduleSpec } from "../../kinds/schedule/index.js";
import type { RecordedResource } from "../../resources.js";
import { scheduleId, type FireRow } from "../../store/state/background-store.js";
import type { RunRow } from "../../store/state/run-store.js";
import type { StateStore } from "../../store/state/state-store.js";
import { newId } from "../../util/ids.js";

export type DeployedSchedule = RecordedResource<ScheduleSpec> & { project: string; target: string };

export interface ScheduleLoopOptions {
  state: StateStore;
  clock: Clock;
  /** Who claims (host:pid), recorded on each fire. */
  owner: string;
  log(line: string): void;
  /** Starts the schedule's run with the id the fire claimed (`fire.run_id`); throws when it cannot. */
  start(fire: FireRow, schedule: DeployedSchedule): Promise<void>;
  /** Cancels a previous run (concurrency: cancel_previous). */
  cancel(run: RunRow, schedule: DeployedSchedule): Promise<void>;
  /** Refreshes an active run's status (a run whose runner died is lost, not running). */
  refresh?(run: RunRow): Promise<RunRow>;
  /** A due time older than this when first seen was missed (default 60 s). */
  lateAfterMs?: number;
  /** A claim not started within this long may be taken over (default 5 min). */
  claimTtlMs?: number;
  /** Schedules fired at once (default 16). */
  parallelism?: number;
  /**
   * What fires (default: the deployed schedules). The pipelines' cron triggers reuse this loop with
   * their own source: each is a schedule named `pipeline:NAME` whose fire starts a pipeline run.
   */
  source?: { fingerprint(): Promise<string>; load(): Promise<DeployedSchedule[]> };
  /** Whether a fire row is this loop's (default: a schedule's; their names never hold ":"). */
  owns?(fire: Pick<FireRow, "schedule">): boolean;
  /** Concurrency is decided elsewhere (pipelines decide it per run): fire every due time. */
  noConcurrency?: boolean;
  /** Whether the run a claim names exists (taking over a claim; default: a job run with that id). */
  runExists?(id: string): Promise<boolean>;
  /** What a fire starts, for the log (default: `job NAME`). */
  describe?(schedule: DeployedSchedule): string;
}

export interface TickResult {
  /** Runs started (on time, caught up, or from the queue). */
  started: number;
  skipped: number;
  queued: number;
  failed: number;
  /** Deployed schedules (paused included). */
  schedules: number;
  /** The earliest next due time of an unpaused schedule (epoch ms), if any. */
  next?: number;
  /** Fires waiting in a queue, or claims to take over: tick again soon. */
  pending: boolean;
}

const ACTIVE = ["queued", "running"];

export class ScheduleLoop {
  private readonly lateAfterMs: number;
  private readonly claimTtlMs: number;
  /** Each schedule's first due time after its cursor, kept while cron, zone and cursor stay the same (a tick with nothing due parses no cron). */
  private readonly firstAfter = new Map<string, { key: string; at: number }>();
  /** This tick's view of the runs schedules started that still run, by schedule; loaded when first needed. */
  private activeRuns?: Map<string, RunRow[]>;
  /** Started this tick, written as `started` in one statement per note at the end of the step. */
  private started = new Map<string | null, string[]>();
  /** The deployed schedules, reloaded only when their count or latest change moved. */
  private deployed?: { fingerprint: string; schedules: DeployedSchedule[] };
  /** Cron answers of this tick by (question, cron, zone, time): schedules with the same cron and cursor (a minute's many) parse once. */
  private readonly memo = new Map<string, unknown>();
  /** Runs started this tick, by schedule: read only if the schedule fires again in the same tick. */
  private justStarted = new Map<string, string[]>();

  constructor(private readonly o: ScheduleLoopOptions) {
    this.lateAfterMs = o.lateAfterMs ?? 60_000;
    this.claimTtlMs = o.claimTtlMs ?? 300_000;
  }

  async tick(): Promise<TickResult> {
    const now = this.o.clock.now();
    const bg = this.o.state.background();
    const result: TickResult = { started: 0, skipped: 0, queued: 0, failed: 0, schedules: 0, pending: false };
    const source = this.o.source ?? { fingerprint: () => this.o.state.kindFingerprint("schedule"), load: async () => (await this.o.state.resourcesOfKind("schedule")) as DeployedSchedule[] };
    const fingerprint = await source.fingerprint();
    if (this.deployed?.fingerprint !== fingerprint) this.deployed = { fingerprint, schedules: await source.load() };
    const schedules = this.deployed.schedules;
    result.schedules = schedules.length;
    const byId = new Map(schedules.map((s) => [scheduleId({ project: s.project, target: s.target, schedule: s.name }), s]));
    const states = await bg.scheduleStates();
    const latest = await bg.latestFires();
    this.activeRuns = undefined;
    this.justStarted.clear();
    this.memo.clear();

    // 1. New due times, claimed in one go.
    const candidates: FireRow[] = [];
    for (const [id, s] of byId) {
      const override = states.get(id);
      const paused = override ? override.paused === 1 : s.spec.paused;
      if (paused) continue;
      const tz = s.spec.timezone ?? "UTC";
      const cursor = Math.max(Date.parse(latest.get(id) ?? "") || -Infinity, Date.parse(s.updatedAt), override ? Date.parse(override.updated_at) : -Infinity);
      const key = `${s.spec.cron}|${tz}|${cursor}`;
      let first = this.firstAfter.get(id);
      if (!first || first.key !== key) this.firstAfter.set(id, (first = { key, at: this.cron("next", s.spec.cron, tz, cursor, () => nextDue(s.spec.cron, tz, cursor)) }));
      if (first.at > now) {
        // Nothing is due since the cursor: the next due time is the first after it.
        result.next = result.next === undefined ? first.at : Math.min(result.next, first.at);
        continue;
      }
      const onTimeFrom = Math.max(cursor, now - this.lateAfterMs);
      const missed = cursor < onTimeFrom ? this.cron("latest", s.spec.cron, tz, onTimeFrom, () => latestDue(s.spec.cron, tz, onTimeFrom)) : undefined;
      if (missed !== undefined && missed > cursor) {
        const once = s.spec.catch_up === "once";
        candidates.push(this.fireRow(s, missed, now, once ? "claimed" : "skipped", once ? "caught up: missed while no server ran (catch_up: once)" : "missed while no server ran (catch_up: none)"));
      }
      for (const due of this.cron("between", s.spec.cron, tz, onTimeFrom, () => dueBetween(s.spec.cron, tz, onTimeFrom, now, 10))) candidates.push(this.fireRow(s, due, now, "claimed", null));
      const next = this.cron("next", s.spec.cron, tz, now, () => nextDue(s.spec.cron, tz, now));
      result.next = result.next === undefined ? next : Math.min(result.next, next);
    }
    const won = await bg.claimFires(candidates);
    const perSchedule = new Map<string, FireRow[]>();
    for (const f of won) perSchedule.set(scheduleId(f), [...(perSchedule.get(scheduleId(f)) ?? []), f]);

    // 2. Fire what this server claimed: schedules side by side, each one's times in order.
    await this.each([...perSchedule.entries()], async ([id, fires]) => {
      const s = byId.get(id)!;
      for (const f of fires.sort((a, b) => a.due_at.localeCompare(b.due_at))) {
        if (f.status === "skipped") {
          result.skipped++;
          this.o.log(`schedule ${s.project}/${s.target}/${s.name}: skipped ${f.due_at}: ${f.message}`);
          continue;
        }
        const outcome = await this.fire(f, s, now);
        result[outcome]++;
      }
    });
    await this.flushStarted();

    // 3. Queued fires whose previous run has ended, and claims a dead server left.
    const owns = this.o.owns ?? ((f: Pick<FireRow, "schedule">) => !f.schedule.includes(":"));
    const waiting = (await bg.firesWithStatus(["queued", "claimed"])).filter(owns);
    const queueHeads = new Map<string, FireRow>();
    const stale: FireRow[] = [];
    for (const f of waiting) {
      if (f.status === "queued" && !queueHeads.has(scheduleId(f))) queueHeads.set(scheduleId(f), f);
      if (f.status === "claimed" && f.expires_at <= now) stale.push(f);
    }
    await this.each([...queueHeads.values()], async (f) => {
      const s = byId.get(scheduleId(f));
      if (!s) {
        await bg.updateFire(f, { status: "skipped", message: "the schedule is no longer deployed" });
        return;
      }
      if ((await this.active(s)).length) return void (result.pending = true);
      if (!(await bg.transitionFire(f, { status: "queued" }, { status: "claimed", owner: this.o.owner, expires_at: now + this.claimTtlMs }))) return;
      const outcome = await this.start({ ...f, status: "claimed", owner: this.o.owner }, s, `started from the queue (its previous run ended)`);
      result[outcome]++;
      if (queueHeads.size) result.pending = true;
    });
    await this.flushStarted();
    for (const f of stale) {
      const s = byId.get(scheduleId(f));
      if (!(await bg.transitionFire(f, { status: "claimed", owner: f.owner, expires_at: f.expires_at }, { owner: this.o.owner, expires_at: now + this.claimTtlMs }))) continue;
      this.o.log(`schedule ${f.project}/${f.target}/${f.schedule}: took over ${f.due_at} from ${f.owner}, which did not finish starting it`);
      if (f.run_id && (this.o.runExists ? await this.o.runExists(f.run_id) : !!(await this.o.state.runs().get(f.run_id)))) {
        await bg.updateFire(f, { status: "started", message: `started by ${f.owner}` });
        continue;
      }
      if (!s) {
        await bg.updateFire(f, { status: "skipped", message: "the schedule is no longer deployed" });
        continue;
      }
      result[await this.fire({ ...f, owner: this.o.owner }, s, now)]++;
    }
    await this.flushStarted();
    if (waiting.some((f) => f.status === "queued")) result.pending = true;
    return result;
  }

  private cron<T>(question: string, cron: string, tz: string, at: number, answer: () => T): T {
    const key = `${question}|${cron}|${tz}|${at}`;
    if (!this.memo.has(key)) this.memo.set(key, answer());
    return this.memo.get(key) as T;
  }

  private fireRow(s: DeployedSchedule, due: number, now: number, status: string, message: string | null): FireRow {
    return {
      project: s.project,
      target: s.target,
      schedule: s.name,
      due_at: iso(due),
      status,
      run_id: status === "claimed" ? newId("r", now) : null,
      owner: this.o.owner,
      claimed_at: iso(now),
      expires_at: now + this.claimTtlMs,
      message,
    };
  }

  /** Applies the concurrency policy to a claimed fire, then starts it (or skips or queues it). */
  private async fire(f: FireRow, s: DeployedSchedule, now: number): Promise<"started" | "skipped" | "queued" | "failed"> {
    const bg = this.o.state.background();
    const name = `${s.project}/${s.target}/${s.name}`;
    if (this.o.noConcurrency) return this.start(f, s, f.message);
    const queuedBefore = s.spec.concurrency === "queue" ? (await bg.fires({ project: s.project, target: s.target, schedule: s.name, status: ["queued"] })).filter((q) => q.due_at < f.due_at) : [];
    const active = await this.active(s);
    if (active.length || queuedBefore.length) {
      const previous = active.map((r) => `${r.id} (${r.status})`).join(", ");
      if (s.spec.concurrency === "skip") {
        const message = `the previous run ${previous} still runs (concurrency: skip)`;
        await bg.updateFire(f, { status: "skipped", run_id: null, message });
        this.o.log(`schedule ${name}: skipped ${f.due_at}: ${message}`);
        return "skipped";
      }
      if (s.spec.concurrency === "queue") {
        const message = active.length ? `waiting for ${previous} (concurrency: queue)` : "waiting behind earlier queued times (concurrency: queue)";
        await bg.updateFire(f, { status: "queued", message });
        this.o.log(`schedule ${name}: queued ${f.due_at}: ${message}`);
        return "queued";
      }
      for (const r of active) {
        try {
          await this.o.cancel(r, s);
          this.o.log(`schedule ${name}: cancelled the previous run ${r.id} (concurrency: cancel_previous)`);
        } catch (e) {
          this.o.log(`schedule ${name}: could not cancel the previous run ${r.id}: ${(e as Error).message}`);
        }
      }
      this.activeRuns?.set(scheduleId(f), []);
      return this.start(f, s, `cancelled the previous run ${previous} (concurrency: cancel_previous)`);
    }
    void now;
    return this.start(f, s, f.message);
  }

  private async start(f: FireRow, s: DeployedSchedule, note: string | null): Promise<"started" | "failed"> {
    const bg = this.o.state.background();
    const name = `${s.project}/${s.target}/${s.name}`;
    try {
      await this.o.start(f, s);
      this.started.set(note, [...(this.started.get(note) ?? []), f.run_id!]);
      this.justStarted.set(scheduleId(f), [...(this.justStarted.get(scheduleId(f)) ?? []), f.run_id!]);
      this.o.log(`schedule ${name}: started run ${f.run_id} of ${this.o.describe ? this.o.describe(s) : `job ${s.spec.job}`} for ${f.due_at}${note ? ` (${note})` : ""}`);
      return "started";
    } catch (e) {
      const message = `could not start: ${(e as Error).message}`;
      await bg.updateFire(f, { status: "failed", message });
      this.o.log(`schedule ${name}: ${f.due_at}: ${message}`);
      return "failed";
    }
  }

  private async active(s: DeployedSchedule): Promise<RunRow[]> {
    if (!this.activeRuns) {
      const loaded = new Map<string, RunRow[]>();
      for (const r of await this.o.state.runs().activeByTrigger("schedule")) {
        const id = scheduleId({ project: r.project, target: r.target, schedule: r.trigger_ref ?? "" });
        loaded.set(id, [...(loaded.get(id) ?? []), r]);
      }
      this.activeRuns ??= loaded;
    }
    const id = scheduleId({ project: s.project, target: s.target, schedule: s.name });
    const mine = this.justStarted.get(id) ?? [];
    this.justStarted.delete(id);
    const rows = [...(this.activeRuns.get(id) ?? []), ...(await Promise.all(mine.map((r) => this.o.state.runs().get(r)))).filter((r): r is RunRow => !!r)];
    const fresh = this.o.refresh ? await Promise.all(rows.map((r) => this.o.refresh!(r))) : rows;
    const still = fresh.filter((r) => ACTIVE.includes(r.status));
    this.activeRuns.set(id, still);
    return still;
  }

  private async flushStarted(): Promise<void> {
    const started = this.started;
    this.started = new Map();
    for (const [note, ids] of started) await this.o.state.background().markStarted(ids, note);
  }

  private async each<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
    let i = 0;
    const worker = async () => {
      while (i < items.length) await fn(items[i++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.o.parallelism ?? 16, items.length) }, worker));
  }
}
