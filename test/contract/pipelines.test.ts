// The --json documents of `pipelines list | run | runs | status | approve | reject | logs`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

function project(): Record<string, string> {
  return {
    "slipway.yaml": `project: pipe\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n  prod: {}\n`,
    "modules/m/module.yaml": `module: m
resources:
  jobs:
    hello: { command: 'echo hi' }
  pipelines:
    release:
      description: run, deploy dev, note
      params: { who: world }
      concurrency: skip
      stages:
        - { name: hello, type: run, job: hello }
        - { name: dev, type: deploy, when: "stages.hello.status == 'succeeded'" }
        - { name: note, type: notify, message: released }
    gate:
      stages:
        - { name: ok, type: approval, approvers: [user:bob, user:tester], timeout: 1h, message: "ship it?" }
        - { name: prod, type: deploy, target: prod }
`,
  };
}

describe("--json contract: pipelines", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox(project());
    n = new Normaliser(box);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["pipelines list", "pipelines run", "pipelines runs", "pipelines status", "pipelines approve", "pipelines reject", "pipelines logs"]);
  });

  it("list, run in the foreground, runs, status, logs", () => {
    jsonCase(box, n, "pipelines list", "none_deployed", ["pipelines", "list"]);
    assert.equal(box.run(["deploy"]).code, 0);
    jsonCase(box, n, "pipelines list", "deployed", ["pipelines", "list"]);
    const run = jsonCase(box, n, "pipelines run", "foreground", ["pipelines", "run", "release", "--param", "who=you"]);
    assert.equal(run.doc.status, "succeeded", run.stderr);
    assert.equal(jsonCase(box, n, "pipelines run", "unknown_pipeline", ["pipelines", "run", "relase"]).code, 2);
    assert.equal(jsonCase(box, n, "pipelines run", "unknown_param", ["pipelines", "run", "release", "--param", "whom=x"]).code, 2);
    jsonCase(box, n, "pipelines runs", "release", ["pipelines", "runs", "release"]);
    jsonCase(box, n, "pipelines status", "succeeded", ["pipelines", "status", run.doc.id]);
    assert.equal(jsonCase(box, n, "pipelines status", "unknown_run", ["pipelines", "status", "pnope"]).code, 2);
    jsonCase(box, n, "pipelines logs", "run_stage", ["pipelines", "logs", run.doc.id, "--stage", "hello"]);
    jsonCase(box, n, "pipelines logs", "deploy_stage", ["pipelines", "logs", run.doc.id, "--stage", "dev"]);
    assert.equal(jsonCase(box, n, "pipelines logs", "unknown_stage", ["pipelines", "logs", run.doc.id, "--stage", "hallo"]).code, 2);
  });

  it("an approval: waiting, refused to the one who triggered it, approved, and a later run rejected", async () => {
    const waiting = jsonCase(box, n, "pipelines run", "waiting_for_approval", ["pipelines", "run", "gate"]);
    assert.equal(waiting.doc.status, "waiting", waiting.stderr);
    // Nothing moves the run while the documents are taken: the server is stopped (approve starts it again).
    assert.equal(box.run(["server", "stop"]).code, 0);
    jsonCase(box, n, "pipelines status", "waiting", ["pipelines", "status", waiting.doc.id]);
    assert.equal(jsonCase(box, n, "pipelines approve", "approved", ["pipelines", "approve", waiting.doc.id, "--stage", "ok", "--comment", "ship it"], { SLIPWAY_USER: "bob" }).code, 0);
    const status = () => box.json(["pipelines", "status", waiting.doc.id]).doc.status;
    await waitFor(() => status() === "succeeded", { what: "the server to deploy prod", timeoutMs: 30_000 });

    const next = box.json(["pipelines", "run", "gate"]);
    assert.equal(next.doc.status, "waiting", next.stderr);
    assert.equal(box.run(["server", "stop"]).code, 0);
    assert.equal(jsonCase(box, n, "pipelines approve", "self_review", ["pipelines", "approve", next.doc.id, "--stage", "ok"]).code, 3);
    jsonCase(box, n, "pipelines reject", "rejected", ["pipelines", "reject", next.doc.id, "--stage", "ok", "--comment", "not now"], { SLIPWAY_USER: "bob" });
    assert.equal(jsonCase(box, n, "pipelines reject", "not_waiting", ["pipelines", "reject", waiting.doc.id, "--stage", "ok"], { SLIPWAY_USER: "bob" }).code, 3);
  });
});
