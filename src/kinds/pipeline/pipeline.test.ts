// Release pipelines: compile (defaults, dependencies, per-type keys, conditions, triggers, approvals,
// notifications; every problem located) and the provider (recorded). Conditions are also evaluated here.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compileFiles, compileProblems, kindHarness, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import { evaluateCondition, parseCondition } from "./condition.js";
import { pipelineKind, type PipelineSpec } from "./index.js";

const files = (body: string, targets = "  dev: { default: true }\n  prod: {}\n") => ({
  "slipway.yaml": `project: unit\ninclude: [modules/*/module.yaml]\ntargets:\n${targets}`,
  "modules/ml/module.yaml": `module: ml\nresources:\n  jobs:\n    train: { command: "true" }\n  pipelines:\n${body}`,
});

describe("pipeline: compile", () => {
  it("applies the defaults: each stage after the one before it, targets, approvals, triggers", () => {
    const c = compileFiles(
      files(`    release:
      params: { candidate: latest }
      stages:
        - { name: train, type: run, job: train }
        - { name: dev, type: deploy, when: "stages.train.registered == true" }
        - { name: ok, type: approval, approvers: [user:ann, "group:release"] }
        - { name: prod, type: deploy, target: prod }
        - { name: side, type: notify, message: hi, depends_on: [] }
      triggers: { cron: "0 6 * * 1", timezone: Europe/Paris }
`),
    );
    const p = resourceAt<PipelineSpec>(c, "pipeline.release");
    assert.deepEqual(p.spec, {
      module: "ml",
      params: { candidate: "latest" },
      concurrency: "queue",
      triggers: { manual: true, cron: "0 6 * * 1", timezone: "Europe/Paris", catch_up: "none" },
      notifications: [],
      stages: [
        { name: "train", type: "run", job: "train", depends_on: [], target: "dev" },
        { name: "dev", type: "deploy", when: "stages.train.registered == true", depends_on: ["train"], target: "dev", mode: "create_or_update" },
        { name: "ok", type: "approval", approvers: ["user:ann", "group:release"], depends_on: ["dev"], target: "prod", required: 1, prevent_self_review: true, timeout: "72h" },
        { name: "prod", type: "deploy", target: "prod", depends_on: ["ok"], mode: "create_or_update" },
        { name: "side", type: "notify", message: "hi", depends_on: [] },
      ],
    });
    assert.deepEqual(p.dependsOn, ["job.train"]);
  });

  it("an approval without approvers takes the gated target's approval rules", () => {
    const c = compileFiles(
      files(`    release:\n      stages:\n        - { name: ok, type: approval }\n        - { name: prod, type: deploy, target: prod }\n`, "  dev: { default: true }\n  prod: { approval: { approvers: [group:release-managers], required: 2 } }\n"),
    );
    const ok = resourceAt<PipelineSpec>(c, "pipeline.release").spec.stages[0]!;
    assert.deepEqual([ok.target, ok.approvers, ok.required], ["prod", ["group:release-managers"], 2]);
  });

  it("reports a run without job, an unknown dependency, a duplicate name and a wait without duration, each at file:line:column", () => {
    const problems = compileProblems(
      files(`    release:
      stages:
        - { name: a, type: run }
        - { name: b, type: deploy, depends_on: [nope] }
        - { name: a, type: notify, message: hi }
        - { name: w, type: wait }
`),
    );
    assert.deepEqual(
      problems.map((p) => [p.where, p.message]),
      [
        ["modules/ml/module.yaml:10:19", 'pipeline "release": stage "a" is declared twice (also at line 8)'],
        ["modules/ml/module.yaml:9:49", 'pipeline "release": stage "b" depends on unknown stage "nope"'],
        ["modules/ml/module.yaml:8:11", 'pipeline "release": stage "a" (run) needs `job`'],
        ["modules/ml/module.yaml:11:11", 'pipeline "release": stage "w" (wait) needs `duration`'],
      ],
    );
  });

  it("promote and rollout: defaults, and their problems located (one of model or artifact, targets, rising steps, an empty gate, keys of other types)", () => {
    const c = compileFiles(
      files(`    release:
      stages:
        - { name: up, type: promote, model: m@champion, from: dev, to: prod, alias: champion }
        - { name: ok, type: approval, approvers: [user:ann] }
        - { name: roll, type: rollout, endpoint: ep, model: m@challenger, target: prod }
`),
    );
    const stages = resourceAt<PipelineSpec>(c, "pipeline.release").spec.stages;
    assert.deepEqual(stages[0], { name: "up", type: "promote", model: "m@champion", from: "dev", to: "prod", alias: "champion", depends_on: [] });
    assert.equal(stages[1]!.target, "prod", "an approval before a rollout gates the rollout's target");
    assert.deepEqual(stages[2], { name: "roll", type: "rollout", endpoint: "ep", model: "m@challenger", target: "prod", depends_on: ["ok"], steps: [10, 50, 100], bake: "5m", min_requests: 0, max_error_rate: 0.05 });
    const problems = compileProblems(
      files(`    release:
      stages:
        - { name: a, type: promote, from: dev, to: dev }
        - { name: b, type: promote, artifact: lib@1.0, from: dev, to: prd, alias: x }
        - { name: c, type: rollout, endpoint: ep, model: m, steps: [50, 10], gate: { metric: auc }, job: train }
        - { name: d, type: rollout }
`),
    );
    assert.deepEqual(
      problems.map((p) => [p.where, p.message]),
      [
        ["modules/ml/module.yaml:8:11", 'pipeline "release": stage "a" (promote) needs exactly one of `model` or `artifact`'],
        ["modules/ml/module.yaml:8:52", 'pipeline "release": stage "a" (promote) promotes from dev to itself'],
        ["modules/ml/module.yaml:9:71", 'pipeline "release": stage "b" (promote): unknown target "prd"'],
        ["modules/ml/module.yaml:9:76", 'pipeline "release": stage "b" (promote): `alias` applies to a model, not an artifact'],
        ["modules/ml/module.yaml:10:101", 'pipeline "release": stage "c" (rollout) does not take `job`'],
        ["modules/ml/module.yaml:10:73", 'pipeline "release": stage "c" (rollout): steps must rise (50, 10)'],
        ["modules/ml/module.yaml:10:78", 'pipeline "release": stage "c" (rollout): gate compares nothing'],
        ["modules/ml/module.yaml:11:11", 'pipeline "release": stage "d" (rollout) needs `endpoint`'],
        ["modules/ml/module.yaml:11:11", 'pipeline "release": stage "d" (rollout) needs `model`'],
      ],
    );
  });

  it("reports cycles, keys a stage type does not take, unknown targets and modules", () => {
    const problems = compileProblems(
      files(`    release:
      stages:
        - { name: a, type: deploy, depends_on: [b], job: train }
        - { name: b, type: destroy, depends_on: [a], target: prd, modules: [m] }
`),
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'pipeline "release": stages depend on each other in a cycle: a -> b -> a',
        'pipeline "release": stage "a" (deploy) does not take `job`',
        'pipeline "release": stage "b" (destroy): unknown target "prd"',
        'pipeline "release": stage "b" (destroy): unknown module "m"',
      ],
    );
    assert.equal(problems[1]!.hint, "job belongs to run stages; a deploy stage takes target, phase, modules, mode, force");
    assert.equal(problems[2]!.hint, 'did you mean "prod"?');
  });

  it("checks conditions: syntax, stages that do not run before, unknown fields and parameters", () => {
    const problems = compileProblems(
      files(`    release:
      params: { force: "no" }
      stages:
        - { name: train, type: run, job: train }
        - { name: a, type: deploy, when: "stages.train.registred == true" }
        - { name: b, type: deploy, when: "stages.c.status == 'succeeded'" }
        - { name: c, type: deploy, when: "params.forse == 'yes' || stages.trian.status" }
        - { name: d, type: deploy, when: "stages.train.registered = true" }
        - { name: e, type: deploy, when: "upstream.outcome == 'succeeded' || foo(1)" }
`),
    );
    assert.deepEqual(
      problems.map((p) => [p.where.replace(/:\d+$/, ""), p.message, p.hint]),
      [
        ["modules/ml/module.yaml:10", 'pipeline "release": stage "a" (deploy): condition "stages.train.registred == true" reads unknown field "registred" of stage "train" (run)', 'did you mean "registered"?'],
        ["modules/ml/module.yaml:11", 'pipeline "release": stage "b" (deploy): condition "stages.c.status == \'succeeded\'" reads stage "c", which does not run before this one', 'add "c" to depends_on (directly or through another stage) so its results exist when this condition is read'],
        ["modules/ml/module.yaml:12", 'pipeline "release": stage "c" (deploy): condition "params.forse == \'yes\' || stages.trian.status" reads undeclared parameter "forse"', 'did you mean "force"?'],
        ["modules/ml/module.yaml:12", 'pipeline "release": stage "c" (deploy): condition "params.forse == \'yes\' || stages.trian.status" names unknown stage "trian"', 'did you mean "train"?'],
        ["modules/ml/module.yaml:13", problems[4]!.message, problems[4]!.hint],
        ["modules/ml/module.yaml:14", problems[5]!.message, problems[5]!.hint],
      ],
    );
    assert.match(problems[4]!.message, /condition "stages\.train\.registered = true" is not valid: .* at character \d+/);
    assert.match(problems[5]!.message, /function calls are not allowed|reads upstream/);
  });

  it("checks triggers, approvals and notifications", () => {
    const problems = compileProblems(
      files(`    release:
      stages:
        - { name: ok, type: approval, approvers: ["user:ann", "team:x"], required: 3 }
        - { name: go, type: deploy }
      triggers: { cron: "nope", after: { pipeline: relese } }
      notifications:
        - { events: [failed] }
    other:
      stages:
        - { name: ok, type: approval }
      triggers: { timezone: UTC }
`),
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'cron "nope" must have five fields (minute hour day-of-month month day-of-week)',
        'pipeline "release": stage "ok" (approval): approver "team:x" must be "user:NAME" or "group:NAME"',
        'pipeline "release": stage "ok" (approval) requires 3 approval(s) but names only 2 approver(s)',
        'pipeline "release": notification 1 needs exactly one of webhook or email',
        'pipeline "other": triggers.timezone applies to a cron trigger, and there is none',
        'pipeline "other": stage "ok" (approval) names no approvers, and target "dev" has no approval.approvers',
        'pipeline "release" runs after unknown pipeline "relese"',
      ],
    );
    assert.ok(problems.every((p) => /^modules\/ml\/module\.yaml:\d+:\d+$/.test(p.where)), problems.map((p) => p.where).join(" "));
  });

  it("an unknown job is still a reference error", () => {
    const problems = compileProblems(files(`    release:\n      stages:\n        - { name: a, type: run, job: trian }\n`));
    assert.deepEqual(problems.map((p) => [p.where, p.message, p.hint]), [["modules/ml/module.yaml:8:38", "pipeline.release refers to unknown job.trian", 'did you mean "train"?']]);
  });
});

describe("pipeline: conditions", () => {
  const scope = { stages: { train: { status: "succeeded", registered: true, version: 3, results: { accuracy: 0.93 } } }, params: { force: "no" }, trigger: { kind: "manual" } };
  const is = (text: string) => evaluateCondition(parseCondition(text), scope);
  it("compares, combines, negates; a missing path is null", () => {
    assert.equal(is("stages.train.registered == true"), true);
    assert.equal(is("stages.train.results.accuracy >= 0.9 && params.force != 'yes'"), true);
    assert.equal(is("!(stages.train.version > 3) || false"), true);
    assert.equal(is("stages.train.results.missing == null"), true);
    assert.equal(is('stages["train"].status === "succeeded"'), true);
    assert.equal(is("stages.train.version < 'x'"), false, "ordering across types is false");
    assert.equal(is("stages.train.__proto__ == null"), true, "prototypes are not read");
  });
  it("refuses what is not a condition", () => {
    for (const bad of ["a = 1", "f(1)", "a; b", "a + 1", "[1]", "a ? b : c", "x.y(1)"]) assert.throws(() => parseCondition(bad), /not allowed|not valid|one expression|Expected|Unexpected|assign/i, bad);
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
