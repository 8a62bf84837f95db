// Jobs: compile (the block as the spec, checks of source folder and task graph, references to the
// model it registers and the compute environment it runs in); the provider records them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import { jobKind, type JobSpec } from "./index.js";

const module = (body: string) => ({ "slipway.yaml": projectYaml(), "modules/ml/module.yaml": `module: ml\nresources:\n${body}` });

describe("job: compile", () => {
  it("the block minus phase and permissions, with its module; names keep dots, dashes and case", () => {
    const c = compileFiles({
      ...module(`  jobs:
    Train.v2-final:
      description: trains
      source: src
      command: python3 train.py
      params: { lr: "0.1" }
      env: { A: 1 }
      retries: 2
      compute: { timeout: 10m, cpus: 2 }
      phase: 0
      permissions: [{ level: CAN_RUN, user: bob }]
`),
      "modules/ml/src/train.py": "print(1)\n",
    });
    const job = resourceAt<JobSpec>(c, "job.Train.v2-final");
    assert.deepEqual(job.spec, { module: "ml", description: "trains", source: "src", command: "python3 train.py", params: { lr: "0.1" }, env: { A: 1 }, retries: 2, compute: { timeout: "10m", cpus: 2 } });
    assert.equal(job.location?.line, 4);
  });

  it("depends on the model it registers and the compute environment it runs in", () => {
    const c = compileFiles(
      module(`  models:
    clf: {}
  compute:
    cpu: { python: /usr/bin/python3 }
  jobs:
    train:
      command: "true"
      registers: { model: clf, path: model }
      compute: { environment: cpu }
`),
    );
    assert.deepEqual(new Set(resourceAt(c, "job.train").dependsOn), new Set(["model.clf", "compute.cpu"]));
  });

  it("reports a missing source folder, unknown task dependencies and task cycles where they are written", () => {
    const problems = compileProblems(
      module(`  jobs:
    train:
      source: nope
      command: x
    dag:
      tasks:
        a: { command: x, depends_on: [b] }
        b: { command: y, depends_on: [a] }
        c: { command: y, depends_on: [bb] }
`),
    );
    assert.deepEqual(
      problems.map((p) => [p.where, p.message, p.hint]),
      [
        ["modules/ml/module.yaml:5:15", 'job "train": source folder "nope" does not exist', "the path is relative to module.yaml"],
        ["modules/ml/module.yaml:11:39", 'task "c" of job "dag" depends on unknown task "bb"', 'did you mean "b"?'],
        ["modules/ml/module.yaml:9:9", 'tasks of job "dag" depend on each other in a cycle: a -> b -> a', "remove one of these depends_on entries"],
      ],
    );
  });

  it("reports references to an unknown model or compute environment, with the nearest name", () => {
    const problems = compileProblems(
      module(`  models:
    classifier: {}
  jobs:
    train:
      command: "true"
      registers: { model: clasifier, path: model }
      compute: { environment: gpu }
`),
    );
    assert.deepEqual(
      problems.map((p) => [p.where, p.message, p.hint]),
      [
        ["modules/ml/module.yaml:8:27", "job.train refers to unknown model.clasifier", 'did you mean "classifier"?'],
        ["modules/ml/module.yaml:9:31", "job.train refers to unknown compute.gpu", "declare it under resources.compute"],
      ],
    );
  });

  it("refuses a job with both command and tasks, or neither", () => {
    const problems = compileProblems(module(`  jobs:\n    both:\n      command: x\n      tasks: { a: { command: y } }\n    neither:\n      env: { A: 1 }\n`));
    assert.equal(problems.length, 2);
    for (const p of problems) assert.match(p.message, /either `command` or `tasks`/);
    // Located at each job's block (the line after its key).
    assert.deepEqual(problems.map((p) => p.where), ["modules/ml/module.yaml:5:7", "modules/ml/module.yaml:8:7"]);
  });

  it("refuses a task named environment in a job that runs in a compute environment (its log has that name)", () => {
    const jobs = `  jobs:\n    inenv:\n      compute: { environment: etl }\n      tasks:\n        environment: { command: x }\n    plain:\n      tasks:\n        environment: { command: x }\n`;
    const problems = compileProblems(module(jobs)).filter((p) => /task named "environment"/.test(p.message));
    assert.equal(problems.length, 1, "only the job that uses an environment");
    assert.match(problems[0]!.message, /rename the task/);
    assert.match(problems[0]!.where ?? "", /^modules\/ml\/module\.yaml:7:/);
  });

  it("moving to another module is a replace", () => {
    const a = resourceAt<JobSpec>(compileFiles(module(`  jobs:\n    train: { command: x }\n`)), "job.train");
    const moved = { ...a, module: "other", spec: { ...a.spec, module: "other" } };
    assert.equal(jobKind.changeKind!(recordedFrom(a), moved), "replace");
    assert.equal(jobKind.changeKind!(recordedFrom(a), { ...a, spec: { ...a.spec, command: "y" } }), "update");
  });
});

describe("job: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());

  it("records the job: nothing runs on create, update or delete", async () => {
    const job = resourceAt<JobSpec>(compileFiles(module(`  jobs:\n    train: { command: "exit 1" }\n`)), "job.train");
    assert.deepEqual(await jobKind.provider.create(h.context(), job), {});
    assert.deepEqual(await jobKind.provider.update(h.context(), recordedFrom(job), job), {});
    await jobKind.provider.delete(h.context(), recordedFrom(job));
    assert.deepEqual(await h.stores.state.runs().list({ project: "unit", target: "dev" }), []);
  });
});
