// Schedules: compile (cron checked, the job they run is a reference) and the provider (recorded).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import { scheduleKind, type ScheduleSpec } from "./index.js";

const module = (body: string) => ({ "slipway.yaml": projectYaml(), "modules/ml/module.yaml": `module: ml\nresources:\n  jobs:\n    score: { command: "true" }\n  schedules:\n${body}` });

describe("schedule: compile", () => {
  it("the block with its module; depends on the job it runs; names may be interpolated", () => {
    const c = compileFiles(module(`    nightly-\${target.name}:\n      job: score\n      cron: "0 2 * * *"\n      timezone: Europe/Paris\n      params: { day: today }\n      paused: true\n`));
    const s = resourceAt<ScheduleSpec>(c, "schedule.nightly-dev");
    assert.deepEqual(s.spec, { module: "ml", job: "score", cron: "0 2 * * *", timezone: "Europe/Paris", params: { day: "today" }, paused: true, catch_up: "none", concurrency: "skip" });
    assert.deepEqual(s.dependsOn, ["job.score"]);
  });

  it("applies the defaults: UTC, not paused, catch_up none, concurrency skip; takes the policies as written", () => {
    const c = compileFiles(module(`    a: { job: score, cron: "0 2 * * *" }
    b: { job: score, cron: "0 2 * * *", catch_up: once, concurrency: cancel_previous }
`));
    assert.deepEqual(resourceAt<ScheduleSpec>(c, "schedule.a").spec, { module: "ml", job: "score", cron: "0 2 * * *", timezone: "UTC", paused: false, catch_up: "none", concurrency: "skip" });
    assert.deepEqual(resourceAt<ScheduleSpec>(c, "schedule.b").spec, { module: "ml", job: "score", cron: "0 2 * * *", timezone: "UTC", paused: false, catch_up: "once", concurrency: "cancel_previous" });
  });

  it("reports an unknown policy at its value", () => {
    const problems = compileProblems(module(`    a: { job: score, cron: "0 2 * * *", concurrency: parallel }
`));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.where, "modules/ml/module.yaml:6:54");
    assert.match(problems[0]!.message, /skip|queue|cancel_previous/);
  });

  it("reports a cron with the wrong number of fields, an invalid one, and an unknown job, at their values", () => {
    const problems = compileProblems(module(`    a: { job: score, cron: "0 2 * *" }\n    b: { job: score, cron: "0 25 * * *" }\n    c: { job: scor, cron: "0 2 * * *" }\n`));
    assert.deepEqual(
      problems.map((p) => [p.where, p.message]),
      [
        ["modules/ml/module.yaml:6:28", 'cron "0 2 * *" must have five fields (minute hour day-of-month month day-of-week)'],
        ["modules/ml/module.yaml:7:28", problems[1]!.message],
        ["modules/ml/module.yaml:8:15", "schedule.c refers to unknown job.scor"],
      ],
    );
    // cron-parser's own words follow the value.
    assert.match(problems[1]!.message, /^cron "0 25 \* \* \*" is invalid: /);
    assert.equal(problems[2]!.hint, 'did you mean "score"?');
  });

  it("moving to another module is a replace", () => {
    const s = resourceAt<ScheduleSpec>(compileFiles(module(`    n: { job: score, cron: "0 2 * * *" }\n`)), "schedule.n");
    assert.equal(scheduleKind.changeKind!(recordedFrom(s), { ...s, spec: { ...s.spec, module: "x" } }), "replace");
  });
});

describe("schedule: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());

  it("records the schedule; nothing runs", async () => {
    const s = resourceAt<ScheduleSpec>(compileFiles(module(`    n: { job: score, cron: "* * * * *" }\n`)), "schedule.n");
    assert.deepEqual(await scheduleKind.provider.create(h.context(), s), {});
    assert.deepEqual(await scheduleKind.provider.update(h.context(), recordedFrom(s), s), {});
    await scheduleKind.provider.delete(h.context(), recordedFrom(s));
    assert.deepEqual(await h.stores.state.runs().list({ project: "unit", target: "dev" }), []);
  });
});
