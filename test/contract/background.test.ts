// The --json documents of `jobs list`, `schedules list`, `schedules pause`, `schedules unpause` and `schedules wait`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

/** A job with a title and a schedule whose next due time is far away (no fire while the test runs). */
function scheduledProject(): Record<string, string> {
  return {
    "slipway.yaml": `project: sched\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n`,
    "modules/m/module.yaml": `module: m
resources:
  jobs:
    setup:
      title: "[dev] Entity Matching - Setup"
      command: 'echo set up'
    match:
      command: 'echo matched'
  schedules:
    yearly:
      job: match
      cron: "0 0 1 1 *"
      timezone: Europe/Paris
      concurrency: queue
      catch_up: once
`,
  };
}

describe("--json contract: jobs and schedules", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox(scheduledProject());
    n = new Normaliser(box);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["jobs list", "schedules list", "schedules pause", "schedules unpause"]);
  });

  it("before and after a deploy; a run by title", async () => {
    jsonCase(box, n, "jobs list", "none_deployed", ["jobs", "list"]);
    jsonCase(box, n, "schedules list", "none_deployed", ["schedules", "list"]);
    const deployed = box.run(["deploy"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stderr + deployed.stdout, /started the Slipway server at http:\/\/127\.0\.0\.1:\d+ for the background work of sched\/dev \(1 schedule\(s\)\)/);
    jsonCase(box, n, "schedules list", "deployed", ["schedules", "list"]);
    const run = box.json(["run", "[dev] Entity Matching - Setup", "--wait"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.doc.job, "setup");
    assert.equal(run.doc.trigger, "manual");
    jsonCase(box, n, "jobs list", "deployed", ["jobs", "list"]);
  });

  it("pause, unpause, an unknown schedule", () => {
    jsonCase(box, n, "schedules pause", "paused", ["schedules", "pause", "yearly"]);
    jsonCase(box, n, "schedules list", "paused", ["schedules", "list"]);
    jsonCase(box, n, "schedules unpause", "unpaused", ["schedules", "unpause", "yearly"]);
    assert.equal(jsonCase(box, n, "schedules pause", "unknown_schedule", ["schedules", "pause", "yearl"]).code, 2);
    assert.equal(jsonCase(box, n, "schedules unpause", "unknown_schedule", ["schedules", "unpause", "nope"]).code, 2);
  });

  it("schedules wait: an unknown schedule, one that does not fire in time", () => {
    assert.equal(jsonCase(box, n, "schedules wait", "unknown_schedule", ["schedules", "wait", "nope"]).code, 2);
    assert.equal(jsonCase(box, n, "schedules wait", "schedule_wait_timeout", ["schedules", "wait", "yearly", "--timeout", "1s"]).code, 1);
    assert.equal(jsonCase(box, n, "schedules wait", "invalid_flag", ["schedules", "wait", "yearly", "--timeout", "soon"]).code, 2);
  });
});

describe("--json contract: schedules wait for a fire", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox({
      "slipway.yaml": `project: sched\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n`,
      "modules/m/module.yaml": `module: m\nresources:\n  jobs:\n    tick:\n      command: 'echo tick'\n  schedules:\n    minutely:\n      job: tick\n      cron: "* * * * *"\n      timezone: UTC\n`,
    });
    n = new Normaliser(box);
    // Slipway's clock (this CLI's, and the server's that deploy starts) 3 s before a minute starts: the
    // schedule is due 3 s from now instead of up to a minute.
    const toNextMinute = 60_000 - (Date.now() % 60_000);
    box.env.SLIPWAY_CLOCK_OFFSET_MS = String(toNextMinute > 3000 ? toNextMinute - 3000 : toNextMinute + 57_000);
  });
  after(() => {
    box.cleanup();
    // With the error cases of the describe above.
    finishSnapshots(["schedules wait"]);
  });

  it("waits until the server fires the schedule, then shows the run it started", () => {
    const deployed = box.run(["deploy"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const r = jsonCase(box, n, "schedules wait", "fired", ["schedules", "wait", "minutely", "--timeout", "60s"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.doc.schedule.last.status, "started");
    assert.match(r.doc.schedule.last.run, /^r/);
  });
});
