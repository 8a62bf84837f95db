// Release pipelines: compile (cron trigger and stage targets checked, stage jobs are references) and
// the provider (recorded).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compileFiles, compileProblems, kindHarness, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import { pipelineKind, type PipelineSpec } from "./index.js";

const files = (body: string) => ({
  "slipway.yaml": "project: unit\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n  prod: {}\n",
  "modules/ml/module.yaml": `module: ml\nresources:\n  jobs:\n    train: { command: "true" }\n  pipelines:\n${body}`,
});

describe("pipeline: compile", () => {
  it("the block with its module; depends on the jobs its stages run", () => {
    const c = compileFiles(files(`    release:\n      stages:\n        - { name: train, type: run, job: train }\n        - { name: ship, type: deploy, target: prod }\n      triggers: { manual: true, cron: "0 6 * * 1" }\n`));
    const p = resourceAt<PipelineSpec>(c, "pipeline.release");
    assert.deepEqual(p.spec, { module: "ml", stages: [{ name: "train", type: "run", job: "train" }, { name: "ship", type: "deploy", target: "prod" }], triggers: { manual: true, cron: "0 6 * * 1" } });
    assert.deepEqual(p.dependsOn, ["job.train"]);
  });

  it("reports an invalid cron trigger, an unknown target and an unknown job, at their values", () => {
    const problems = compileProblems(files(`    release:\n      stages:\n        - { name: a, type: run, job: trian }\n        - { name: b, type: deploy, target: prd }\n      triggers: { cron: "nope" }\n`));
    assert.deepEqual(
      problems.map((p) => [p.where, p.message, p.hint]),
      [
        ["modules/ml/module.yaml:10:25", 'cron "nope" must have five fields (minute hour day-of-month month day-of-week)', 'for example "0 2 * * *" for 02:00 every day'],
        ["modules/ml/module.yaml:9:44", 'pipeline "release": unknown target "prd"', 'did you mean "prod"?'],
        ["modules/ml/module.yaml:8:38", "pipeline.release refers to unknown job.trian", 'did you mean "train"?'],
      ],
    );
  });

  it("needs at least one stage", () => {
    const problems = compileProblems(files(`    release:\n      stages: []\n`));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.where, "modules/ml/module.yaml:7:15");
  });
});

describe("pipeline: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());

  it("records the pipeline", async () => {
    const p = resourceAt<PipelineSpec>(compileFiles(files(`    release:\n      stages: [{ name: a, type: notify, message: hi }]\n`)), "pipeline.release");
    assert.deepEqual(await pipelineKind.provider.create(h.context(), p), {});
    assert.deepEqual(await pipelineKind.provider.update(h.context(), recordedFrom(p), p), {});
    await pipelineKind.provider.delete(h.context(), recordedFrom(p));
    assert.equal(pipelineKind.changeKind!(recordedFrom(p), { ...p, spec: { ...p.spec, module: "x" } }), "replace");
  });
});
