// The schedules loop on real state stores (SQLite, and PostgreSQL when npm test runs it), with a
// ManualClock: fires at the due times, catch-up after a server was down, each concurrency policy,
// pause, time zones, takeover of a dead server's claim, and two loops on one state firing each due
// time exactly once. Runs are recorded rows here (start inserts one); integration tests start real ones.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { iso, ManualClock } from "../../clock.js";
import type { ScheduleSpec } from "../../kinds/schedule/index.js";
import type { RecordedResource } from "../../resources.js";
import type { RunRow } from "../../store/state/run-store.js";
import type { StateStore } from "../../store/state/state-store.js";
import { stateBackends } from "../../../test/helpers/state-backends.js";
import { ScheduleLoop, type DeployedSchedule } from "./schedules.js";

const T0 = Date.UTC(2026, 0, 5, 10, 0, 30); // a Monday, 30 s past 10:00 UTC
const MIN = 60_000;

function scheduleResource(name: string, spec: Partial<ScheduleSpec>, deployedAt: number): RecordedResource<ScheduleSpec> {
  return {
    address: `schedule.${name}`,
    kind: "schedule",
    name,
    module: "ml",
    phase: 0,
    spec: { module: "ml", job: "score", cron: "* * * * *", timezone: "UTC", paused: false, catch_up: "none", concurrency: "skip", ...spec },
    specHash: "h",
    dependsOn: ["job.score"],
    outputs: {},
    createdAt: iso(deployedAt),
    updatedAt: iso(deployedAt),
  };
}

function runRow(id: string, project: string, target: string, job: string, schedule: string, at: number): RunRow {
  return {
    id, project, target, job, status: "running", params: "{}", bundle: "b", config_hash: "c", executor: "local", handle: "{}", user: "u", host: "h",
    created_at: iso(at), started_at: iso(at), finished_at: null, heartbeat_at: null, error: null, results: null, metrics: null, provenance: null, options: "{}",
    trigger: "schedule", trigger_ref: schedule,
  };
}

interface Harness {
  loop: ScheduleLoop;
  log: string[];
  cancelled: string[];
}

function harness(state: StateStore, clock: ManualClock, owner = "test:1", failStart?: (s: DeployedSchedule) => boolean): Harness {
  const log: string[] = [];
  const cancelled: string[] = [];
  const loop = new ScheduleLoop({
    state,
    clock,
    owner,
    log: (l) => log.push(l),
    async start(fire, s) {
      if (failStart?.(s)) throw new Error("job is broken");
      await state.runs().create(runRow(fire.run_id!, s.project, s.target, s.spec.job, s.name, clock.now()));
    },
    async cancel(run) {
      cancelled.push(run.id);
      await state.runs().transition(run.id, ["queued", "running"], { status: "cancelled" });
    },
  });
  return { loop, log, cancelled };
}

/** Due times (HH:MM) of the runs a schedule started, oldest first. */
async function firedAt(state: StateStore, project: string, schedule: string): Promise<string[]> {
  const fires = await state.background().fires({ project, target: "dev", schedule, status: ["started"] });
  return fires.map((f) => f.due_at.slice(11, 16)).sort();
}

async function finishAll(state: StateStore, project: string): Promise<void> {
  for (const r of await state.runs().list({ project, target: "dev", limit: 1000 })) await state.runs().transition(r.id, ["queued", "running"], { status: "succeeded" });
}

let n = 0;
for (const backend of stateBackends()) {
  describe(`schedules loop (${backend.name})`, { skip: backend.skip }, () => {
    after(() => backend.cleanup());
    const setup = async (schedules: Record<string, Partial<ScheduleSpec>>, deployedAt = T0) => {
      const { state, open } = await backend.create();
      const project = `p${++n}`;
      for (const [name, spec] of Object.entries(schedules)) await state.forTarget(project, "dev").commitPut(scheduleResource(name, spec, deployedAt));
      return { state, open, project, clock: new ManualClock(T0) };
    };

    it("fires at each due time, once, and not before", async () => {
      const { state, project, clock } = await setup({ every: {}, hourly: { cron: "0 * * * *" } });
      const h = harness(state, clock);
      assert.equal((await h.loop.tick()).started, 0, "nothing is due 30 s after deploy");
      assert.equal((await h.loop.tick()).next, T0 + 30_000, "the next due time is the next minute");
      clock.advance(29_999);
      assert.equal((await h.loop.tick()).started, 0, "1 ms before the minute");
      clock.advance(1);
      assert.equal((await h.loop.tick()).started, 1);
      assert.equal((await h.loop.tick()).started, 0, "a second tick at the same time fires nothing more");
      await finishAll(state, project);
      clock.advance(MIN);
      assert.equal((await h.loop.tick()).started, 1);
      await finishAll(state, project);
      clock.advance(58 * MIN);
      const r = await h.loop.tick();
      assert.equal(r.started, 2, "11:00 is due for both");
      assert.deepEqual(await firedAt(state, project, "every"), ["10:01", "10:02", "11:00"], "late by less than a minute still fires; the times between were missed in one jump and skipped");
      assert.deepEqual(await firedAt(state, project, "hourly"), ["11:00"]);
      const runs = await state.runs().list({ project, target: "dev" });
      assert.ok(runs.every((x) => x.trigger === "schedule" && x.job === "score"));
      assert.deepEqual(runs.map((x) => x.trigger_ref).sort(), ["every", "every", "every", "hourly"]);
      await state.close();
    });

    it("catch_up: none skips the times missed while no server ran; once starts one run for them", async () => {
      const { state, project, clock } = await setup({ none: { cron: "*/10 * * * *" }, once: { cron: "*/10 * * * *", catch_up: "once" } });
      const first = harness(state, clock);
      clock.advance(9 * MIN + 30_000); // 10:10:00
      assert.equal((await first.loop.tick()).started, 2);
      await finishAll(state, project);
      // The server is down from 10:10 to 10:45:20: 10:20, 10:30 and 10:40 are missed.
      clock.advance(35 * MIN + 20_000);
      const restarted = harness(state, clock, "test:2");
      const r = await restarted.loop.tick();
      assert.deepEqual([r.started, r.skipped], [1, 1]);
      assert.deepEqual(await firedAt(state, project, "none"), ["10:10"]);
      assert.deepEqual(await firedAt(state, project, "once"), ["10:10", "10:40"], "one run, for the latest missed time");
      const skipped = await state.background().fires({ project, target: "dev", schedule: "none", status: ["skipped"] });
      assert.deepEqual(skipped.map((f) => [f.due_at.slice(11, 16), f.message]), [["10:40", "missed while no server ran (catch_up: none)"]]);
      assert.ok(restarted.log.some((l) => l.includes("skipped 2026-01-05T10:40:00.000Z")));
      await finishAll(state, project);
      clock.advance(4 * MIN + 40_000); // 10:50:00
      assert.equal((await restarted.loop.tick()).started, 2, "on time again");
      await state.close();
    });

    it("concurrency: skip, queue and cancel_previous when the previous run still runs", async () => {
      const { state, project, clock } = await setup({ skip: {}, queue: { concurrency: "queue" }, cancel: { concurrency: "cancel_previous" } });
      const h = harness(state, clock);
      clock.advance(30_000); // 10:01
      assert.equal((await h.loop.tick()).started, 3);
      clock.advance(MIN); // 10:02: every previous run still runs
      const r = await h.loop.tick();
      assert.deepEqual([r.started, r.skipped, r.queued], [1, 1, 1]);
      clock.advance(MIN); // 10:03: a second time queues behind the first
      await h.loop.tick();
      assert.deepEqual(await firedAt(state, project, "skip"), ["10:01"]);
      const skipped = await state.background().fires({ project, target: "dev", schedule: "skip", status: ["skipped"] });
      assert.equal(skipped.length, 2);
      assert.match(skipped[0]!.message!, /^the previous run r\w+ \(running\) still runs \(concurrency: skip\)$/);
      assert.deepEqual(await firedAt(state, project, "cancel"), ["10:01", "10:02", "10:03"]);
      assert.equal(h.cancelled.length, 2, "each new run cancelled the one before");
      const cancelRuns = await state.runs().list({ project, target: "dev", job: "score" });
      assert.deepEqual(cancelRuns.filter((x) => x.trigger_ref === "cancel").map((x) => x.status).sort(), ["cancelled", "cancelled", "running"]);
      const queued = await state.background().fires({ project, target: "dev", schedule: "queue", status: ["queued"] });
      assert.deepEqual(queued.map((f) => f.due_at.slice(11, 16)).sort(), ["10:02", "10:03"]);
      assert.equal((await h.loop.tick()).pending, true, "queued times wait for the previous run");
      // The first queue run ends: the oldest queued time starts (one at a time), then the next.
      const [running] = (await state.runs().list({ project, target: "dev" })).filter((x) => x.trigger_ref === "queue");
      await state.runs().transition(running!.id, ["running"], { status: "succeeded" });
      assert.equal((await h.loop.tick()).started, 1);
      assert.deepEqual(await firedAt(state, project, "queue"), ["10:01", "10:02"]);
      assert.equal((await h.loop.tick()).started, 0, "10:03 waits for 10:02's run");
      await finishAll(state, project);
      assert.equal((await h.loop.tick()).started, 1);
      assert.deepEqual(await firedAt(state, project, "queue"), ["10:01", "10:02", "10:03"]);
      assert.equal((await h.loop.tick()).pending, false);
      await state.close();
    });

    it("pause and unpause: no fire while paused, nothing caught up for the paused times; the config's paused counts too", async () => {
      const { state, project, clock } = await setup({ s: {}, off: { paused: true } });
      const h = harness(state, clock);
      await state.background().setPaused(project, "dev", "s", true, iso(clock.now()), "ann");
      clock.advance(5 * MIN);
      assert.equal((await h.loop.tick()).started, 0);
      await state.background().setPaused(project, "dev", "s", false, iso(clock.now()), "ann"); // 10:05:30
      assert.equal((await h.loop.tick()).started, 0, "10:01-10:05 were paused, not missed");
      clock.advance(30_000);
      assert.equal((await h.loop.tick()).started, 1);
      assert.deepEqual(await firedAt(state, project, "s"), ["10:06"]);
      assert.deepEqual(await firedAt(state, project, "off"), []);
      await state.background().setPaused(project, "dev", "off", false, iso(clock.now()), "ann");
      clock.advance(MIN);
      await finishAll(state, project);
      assert.equal((await h.loop.tick()).started, 2, "unpausing overrides the config's paused: true");
      await state.close();
    });

    it("reads the cron in the schedule's time zone", async () => {
      const { state, project, clock } = await setup({ paris: { cron: "0 2 * * *", timezone: "Europe/Paris" }, utc: { cron: "0 2 * * *" } });
      const h = harness(state, clock);
      const r = await h.loop.tick();
      assert.equal(r.next, Date.UTC(2026, 0, 6, 1, 0, 0), "02:00 in Paris is 01:00 UTC in January");
      clock.advance(Date.UTC(2026, 0, 6, 1, 0, 0) - clock.now());
      assert.equal((await h.loop.tick()).started, 1);
      assert.deepEqual(await firedAt(state, project, "paris"), ["01:00"]);
      clock.advance(HOUR);
      assert.equal((await h.loop.tick()).started, 1);
      assert.deepEqual(await firedAt(state, project, "utc"), ["02:00"]);
      await state.close();
    });

    it("a run that cannot start is recorded as failed, and the next time fires again", async () => {
      const { state, project, clock } = await setup({ broken: {} });
      let broken = true;
      const h = harness(state, clock, "test:1", () => broken);
      clock.advance(30_000);
      assert.equal((await h.loop.tick()).failed, 1);
      const [failed] = await state.background().fires({ project, target: "dev", schedule: "broken" });
      assert.equal(failed!.status, "failed");
      assert.equal(failed!.message, "could not start: job is broken");
      broken = false;
      clock.advance(MIN);
      assert.equal((await h.loop.tick()).started, 1);
      await state.close();
    });

    it("takes over a claim its server left unstarted (and does not start a run that exists)", async () => {
      const { state, project, clock } = await setup({ a: {}, b: {} });
      clock.advance(30_000); // 10:01
      const expires = clock.now() + 1000;
      const claim = (schedule: string, run: string) => ({ project, target: "dev", schedule, due_at: iso(clock.now()), status: "claimed", run_id: run, owner: "dead:9", claimed_at: iso(clock.now()), expires_at: expires, message: null });
      await state.background().claimFires([claim("a", "r-dead-a"), claim("b", "r-dead-b")]);
      await state.runs().create(runRow("r-dead-b", project, "dev", "score", "b", clock.now())); // b's run did start
      const h = harness(state, clock);
      assert.equal((await h.loop.tick()).started, 0, "a live claim is left alone");
      clock.advance(1000);
      const r = await h.loop.tick();
      assert.equal(r.started, 1);
      const runs = await state.runs().list({ project, target: "dev" });
      assert.deepEqual(runs.map((x) => x.id).sort(), ["r-dead-a", "r-dead-b"], "a started with the id its claim named; b not again");
      assert.ok(h.log.some((l) => l.includes("took over 2026-01-05T10:01:00.000Z from dead:9")));
      const fires = await state.background().fires({ project, target: "dev" });
      assert.deepEqual(fires.map((f) => f.status), ["started", "started"]);
      await state.close();
    });

    it("two loops on one state fire each due time of each schedule exactly once", async () => {
      const names = Array.from({ length: 20 }, (_, i) => `s${i}`);
      const { state, open, project, clock } = await setup(Object.fromEntries(names.map((s, i) => [s, { concurrency: i % 2 ? "queue" : "skip", catch_up: "once" }])));
      const other = await open();
      const a = harness(state, clock, "server-a:1");
      const b = harness(other, clock, "server-b:2");
      for (let minute = 0; minute < 5; minute++) {
        clock.advance(minute === 0 ? 30_000 : MIN);
        await Promise.all([a.loop.tick(), b.loop.tick(), a.loop.tick(), b.loop.tick()]);
        await finishAll(state, project);
      }
      const runs = await state.runs().list({ project, target: "dev", limit: 1000 });
      const fires = (await state.background().fires({ project, target: "dev", limit: 1000 })).filter((f) => f.status === "started");
      assert.equal(fires.length, 100, "20 schedules x 5 minutes");
      assert.equal(runs.length, 100, "one run per due time, none twice");
      assert.equal(new Set(fires.map((f) => f.run_id)).size, 100);
      const owners = new Set(fires.map((f) => f.owner));
      assert.ok(owners.size >= 1);
      await other.close();
      await state.close();
    });
  });
}

const HOUR = 60 * MIN;
