// Drift between installed libraries and the config (issue 9, point 20): a version installed by hand
// while the config pins another shows in `status` and `plan`; `deploy` keeps it (and says so);
// `deploy --reconcile` installs the config's pin again.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Slipway } from "../../src/index.js";
import { documentSchema } from "../../src/views/documents.js";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { artifactsProject, dqmPackage } from "../helpers/projects.js";

const importInEnv = (box: Sandbox) =>
  execFileSync(join(box.home, "envs", "libs", "val", "etl-cluster", "bin", "python"), ["-c", "import dqm; print(dqm.check('direct'))"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

describe("drift between installed libraries and the config", () => {
  let box: Sandbox;
  before(() => {
    box = sandbox(artifactsProject());
    for (const version of ["1.0.1", "1.0.0"]) {
      box.write(dqmPackage(version));
      assert.equal(box.run(["artifacts", "build", "dqm"]).code, 0);
      assert.equal(box.run(["artifacts", "publish", "dqm", "-t", "val"]).code, 0);
    }
    assert.equal(box.run(["deploy", "-t", "val"]).code, 0);
    const installed = box.run(["artifacts", "install", "dqm@1.0.1", "--into", "etl-cluster", "-t", "val"]);
    assert.equal(installed.code, 0, installed.stderr);
  });
  after(() => box.cleanup());

  it("status shows a version installed by hand that the config does not pin", () => {
    const doc = box.json(["status", "-t", "val"]).doc;
    documentSchema("status").parse(doc);
    assert.equal(doc.drift.length, 1);
    const d = doc.drift[0];
    assert.deepEqual({ resource: d.resource, environment: d.environment, artifact: d.artifact, installed: d.installed, config: d.config, installed_by: d.installed_by }, {
      resource: "compute.etl-cluster",
      environment: "etl-cluster",
      artifact: "dqm",
      installed: "1.0.1",
      config: "1.0.0",
      installed_by: "tester",
    });
    const text = box.run(["status", "-t", "val"]).stdout;
    assert.match(text, /drift: compute\.etl-cluster: dqm 1\.0\.1 is installed \(installed by tester at \S+\); the config pins 1\.0\.0/);
    assert.match(text, /not in sync: 1 installed library differs from the config/);
    assert.doesNotMatch(text, /in sync with the configuration/);
  });

  it("plan shows it; deploy keeps it and says so", () => {
    const plan = box.json(["plan", "-t", "val"]).doc;
    documentSchema("plan").parse(plan);
    assert.deepEqual(plan.actions, []);
    assert.equal(plan.drift[0].installed, "1.0.1");
    assert.match(box.run(["plan", "-t", "val"]).stdout, /Drift: installed libraries that differ from the config \(deploy keeps them; plan or deploy with --reconcile to undo\):\n  compute\.etl-cluster: dqm 1\.0\.1 is installed/);
    const deploy = box.run(["deploy", "-t", "val"]);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.match(deploy.stdout, /Nothing to deploy/);
    assert.match(deploy.stderr, /compute\.etl-cluster: dqm 1\.0\.1 is installed .*; the config pins 1\.0\.0: kept \(deploy --reconcile installs what the config pins\)/);
    assert.equal(importInEnv(box), "dqm 1.0.1 checked direct");
  });

  it("--reconcile plans an update back to the pin, and deploy --reconcile installs it", async () => {
    const plan = box.json(["plan", "-t", "val", "--reconcile"]).doc;
    assert.deepEqual(plan.actions.map((a: any) => [a.action, a.address]), [["update", "compute.etl-cluster"]]);
    assert.deepEqual(plan.actions[0].changes, [{ path: "libraries.0", before: "dqm@1.0.1", after: "dqm@1.0.0" }]);
    const r = box.run(["deploy", "-t", "val", "--reconcile"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /installing dqm 1\.0\.0 .* into etl-cluster/);
    assert.equal(importInEnv(box), "dqm 1.0.0 checked direct");
    const status = box.json(["status", "-t", "val"]).doc;
    assert.deepEqual(status.drift, []);
    assert.match(box.run(["status", "-t", "val"]).stdout, /in sync with the configuration/);
    // The SDK sees the same.
    assert.deepEqual((await new Slipway({ project: box.dir, home: box.home, target: "val" }).status()).drift, []);
  });
});
