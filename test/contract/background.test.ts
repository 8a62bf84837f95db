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
    finishSnapshots(["jobs list", "schedules list", "schedules pause", "schedules unpause", "schedules wait"]);
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

  // A fire is shown by the quickstart (docs/getting-started.md, checked by its docs test).
  it("schedules wait: an unknown schedule, one that does not fire in time", () => {
    assert.equal(jsonCase(box, n, "schedules wait", "unknown_schedule", ["schedules", "wait", "nope"]).code, 2);
    assert.equal(jsonCase(box, n, "schedules wait", "schedule_wait_timeout", ["schedules", "wait", "yearly", "--timeout", "1s"]).code, 1);
    assert.equal(jsonCase(box, n, "schedules wait", "invalid_flag", ["schedules", "wait", "yearly", "--timeout", "soon"]).code, 2);
  });
});
