// The --json documents of run, runs, runs show, runs results, logs, cancel and bundle.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { contractProject } from "./projects.js";
import { finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

const FINISHED = ["succeeded", "failed", "cancelled", "lost"];

describe("--json contract: runs", () => {
  let box: Sandbox;
  let n: Normaliser;
  const statusOf = (id: string) => box.json(["runs", "show", id]).doc.status as string;
  before(() => {
    box = sandbox(contractProject());
    n = new Normaliser(box);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["run", "sweep", "runs", "runs show", "runs results", "logs", "cancel", "bundle", "archives list"]);
  });

  it("run: started, waited for (succeeded and failed), refused", async () => {
    // `run` executes the job deployed to the target: refused until the jobs' phase is deployed.
    const notDeployed = jsonCase(box, n, "run", "job_not_deployed", ["run", "hello"]);
    assert.equal(notDeployed.code, 3);
    assert.equal(notDeployed.doc.error.code, "job_not_deployed");
    const deployed = box.json(["deploy", "--phase", "1"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    // The deploy started the run_on_deploy job: let it finish, so later documents do not depend on timing.
    const onDeploy = deployed.doc.runs[0].run as string;
    await waitFor(() => statusOf(onDeploy) === "succeeded", 15_000, "the run_on_deploy run to finish");
    const started = jsonCase(box, n, "run", "started", ["run", "hello", "--param", "who=contract"]);
    assert.equal(started.code, 0);
    // Later documents list this run: wait until it has finished so they do not depend on timing.
    await waitFor(() => statusOf(started.doc.id) === "succeeded", 15_000, "the first run to finish");
    jsonCase(box, n, "run", "wait_succeeded", ["run", "hello", "--wait"]);
    const failed = jsonCase(box, n, "run", "wait_failed", ["run", "fail", "--wait"]);
    assert.equal(failed.code, 1);
    assert.equal(failed.doc.error.code, "run_failed");
    assert.equal(jsonCase(box, n, "run", "unknown_param", ["run", "hello", "--param", "nope=1"]).code, 2);
  });

  it("runs, runs show, runs results, logs", () => {
    // The three runs above (the run_on_deploy run is the fourth, oldest).
    const list = jsonCase(box, n, "runs", "three", ["runs", "--limit", "3"]).doc.runs;
    const [failedRun, waited, started] = list;
    jsonCase(box, n, "runs show", "succeeded", ["runs", "show", waited.id]);
    jsonCase(box, n, "runs show", "failed", ["runs", "show", failedRun.id]);
    assert.equal(jsonCase(box, n, "runs show", "unknown_run", ["runs", "show", "nope"]).code, 2);
    jsonCase(box, n, "runs results", "succeeded", ["runs", "results", started.id]);
    jsonCase(box, n, "logs", "succeeded", ["logs", started.id]);
    assert.equal(jsonCase(box, n, "logs", "follow_failed", ["logs", failedRun.id, "-f"]).code, 1);
    assert.equal(jsonCase(box, n, "logs", "unknown_task", ["logs", started.id, "--task", "nope"]).code, 2);
  });

  it("cancel, and cancel again", async () => {
    const run = box.json(["run", "slow"]).doc;
    await waitFor(() => statusOf(run.id) === "running", 15_000, "the slow run to start");
    jsonCase(box, n, "cancel", "cancelled", ["cancel", run.id]);
    assert.equal(jsonCase(box, n, "cancel", "run_finished", ["cancel", run.id]).code, 3);
  });

  it("bundle", () => {
    jsonCase(box, n, "bundle", "written", ["bundle", "hello", "-o", "hello.tgz"]);
    assert.equal(jsonCase(box, n, "bundle", "unknown_job", ["bundle", "nope", "-o", "nope.tgz"]).code, 2);
  });

  it("archives list", () => {
    const [latest] = box.json(["runs", "--limit", "1"]).doc.runs;
    jsonCase(box, n, "archives list", "run_logs", ["archives", "list", "stage_logs", "--run", latest.id]);
    assert.equal(jsonCase(box, n, "archives list", "unknown_kind", ["archives", "list", "logs"]).code, 2);
  });

  it("sweep: started, waited for, refused", async () => {
    const started = jsonCase(box, n, "sweep", "started", ["sweep", "hello", "--values", "who=ada,bob"]);
    assert.equal(started.code, 0);
    for (const r of started.doc.runs) await waitFor(() => FINISHED.includes(statusOf(r.id)), 15_000, "the sweep's runs to finish");
    const waited = jsonCase(box, n, "sweep", "wait_succeeded", ["sweep", "hello", "--values", "who=cy,di", "--wait"]);
    assert.deepEqual(waited.doc.runs.map((r: { status: string }) => r.status), ["succeeded", "succeeded"]);
    assert.equal(jsonCase(box, n, "sweep", "unknown_param", ["sweep", "hello", "--values", "nope=1,2"]).code, 2);
    assert.equal(jsonCase(box, n, "sweep", "no_values", ["sweep", "hello"]).code, 2);
  });
});
