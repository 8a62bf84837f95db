// Schedules through the real CLI and the background server deploy starts, with the time moved by
// SLIPWAY_CLOCK_OFFSET_MS (shared by the deploy, the server it starts and the runs it starts): a
// `* * * * *` schedule starts runs recorded with trigger schedule, the server does not stop idle
// while schedules are deployed, a restarted server catches up (catch_up: once) or skips (none) the
// times it missed, and destroy stops the server once nothing is left.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { exited, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";

const files = {
  "slipway.yaml": `project: cron\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n`,
  "modules/m/module.yaml": `module: m
resources:
  jobs:
    tick:
      title: "[dev] Tick"
      command: 'echo "tick $SLIPWAY_PARAM_who"'
      params: { who: nobody }
  schedules:
    every:
      job: tick
      cron: "* * * * *"
      params: { who: cron }
    caught:
      job: tick
      cron: "* * * * *"
      catch_up: once
`,
};

/** An offset that puts the clock `before` ms ahead of the next minute boundary. */
function offsetBefore(boundaryInMs: number): number {
  const now = Date.now();
  return (60_000 - (now % 60_000) - boundaryInMs + 120_000) % 60_000;
}

describe("schedules with the background server", () => {
  let box: Sandbox;
  const offset = offsetBefore(15_000);
  const clock = { SLIPWAY_CLOCK_OFFSET_MS: String(offset), SLIPWAY_SERVER_IDLE_MS: "1000" };
  const scheduledRuns = () => (box.json(["runs", "--limit", "100"], clock).doc.runs as Array<{ id: string; status: string; trigger: string; schedule: string | null; params: Record<string, string> }>).filter((r) => r.trigger === "schedule");
  before(() => (box = sandbox(files)));
  after(() => box.cleanup());

  it("deploy starts the server; each schedule starts a run at the minute; the server stays up while schedules are deployed", async () => {
    const deployed = box.run(["deploy"], clock);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stderr + deployed.stdout, /started the Slipway server at .* for the background work of cron\/dev \(2 schedule\(s\)\)/);
    // The server's idle timeout is 1 s; the fire comes seconds later, from the same server.
    const pid = box.json(["server", "status"], clock).doc.pid;
    await waitFor(() => scheduledRuns().filter((r) => r.status === "succeeded").length === 2, { timeoutMs: 90_000, what: "a run of each schedule" });
    const runs = scheduledRuns();
    assert.deepEqual(runs.map((r) => r.schedule).sort(), ["caught", "every"]);
    assert.deepEqual(runs.find((r) => r.schedule === "every")!.params, { who: "cron" });
    const status = box.json(["server", "status"], clock).doc;
    assert.equal(status.pid, pid, "the server deploy started is still the one running");
    const loop = status.background.find((b: { unit: string }) => b.unit === "schedules");
    assert.equal(loop.last_outcome, "ok");
    assert.match(loop.last_message, /^started [12], skipped 0, queued 0, failed 0$/);
    const list = box.json(["schedules", "list"], clock).doc;
    for (const s of list.schedules) assert.equal(s.last.status, "started");
    const logs = box.run(["logs", runs.find((r) => r.schedule === "every")!.id], clock);
    assert.match(logs.stdout, /tick cron/);
    const jobs = box.json(["jobs", "list"], clock).doc.jobs;
    assert.deepEqual(jobs.map((j: { name: string; title: string; schedules: string[] }) => [j.name, j.title, j.schedules]), [["tick", "[dev] Tick", ["caught", "every"]]]);
  });

  it("a server restarted after missing times: catch_up once starts one run for them, none skips them", async () => {
    const stopped = box.run(["server", "stop"], clock);
    assert.equal(stopped.code, 0, stopped.stderr);
    const before = new Set(scheduledRuns().map((r) => r.id));
    // Three minutes later, by the clock of everything that follows.
    const later = { ...clock, SLIPWAY_CLOCK_OFFSET_MS: String(offset + 180_000) };
    const server = box.start(["server", "--idle-exit", "0"], later);
    let serverLog = "";
    server.stdout!.on("data", (d) => (serverLog += d));
    const done = exited(server);
    try {
      // Its log says which run caught up; an on-time run of the current minute may follow it.
      await waitFor(() => /schedule cron\/dev\/caught: started run \w+ of job tick for \S+ \(caught up: missed while no server ran \(catch_up: once\)\)/.test(serverLog), { timeoutMs: 60_000, what: "the caught-up fire" });
      const fresh = scheduledRuns().filter((r) => !before.has(r.id));
      assert.ok(fresh.some((r) => r.schedule === "caught"), "caught started a run for the missed times");
      // `every` skipped the times it missed: recorded, with the reason, in the server log.
      await waitFor(() => /schedule cron\/dev\/every: skipped .*: missed while no server ran \(catch_up: none\)/.test(serverLog), { timeoutMs: 30_000, what: "every's skip in the server log" });
    } finally {
      assert.equal(box.run(["server", "stop"], later).code, 0);
      await done;
    }
  });

  it("destroy removes the schedules; the server deploy starts then stops when nothing is left", async () => {
    assert.equal(box.run(["deploy"], clock).code, 0);
    const destroyed = box.run(["destroy", "--yes"], clock);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    // The server stops: asked by destroy, which says so, or by itself a moment before, its idle check
    // (1 s here) having seen the schedules go while destroy was still finishing (a slower state
    // database, e.g. PostgreSQL under the backend matrix, widens that window).
    if (!/stopped the local Slipway server/.test(destroyed.stderr + destroyed.stdout)) {
      await waitFor(() => box.json(["server", "status"], clock).doc.running === false, { timeoutMs: 30_000, what: "the server to stop by itself" });
    }
    assert.equal(box.json(["schedules", "list"], clock).doc.schedules.length, 0);
  });
});

