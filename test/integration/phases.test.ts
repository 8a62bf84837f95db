// Phases: deploy --phase N, then going back removes the later phases' resources.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { threeModules } from "../helpers/projects.js";

describe("phases", () => {
  let box: Sandbox;
  before(() => (box = sandbox(threeModules())));
  after(() => box.cleanup());
  const deployedAddresses = () => box.json(["plan", "--phase", "99"]).doc; // plan is read-only

  it("--phase 0 deploys only phase-0 resources", () => {
    const r = box.json(["deploy", "--phase", "0"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.doc.actions.length > 0);
    assert.ok(r.doc.actions.every((a: any) => a.phase === 0));
    assert.ok(!r.doc.actions.some((a: any) => a.module === "serving"));
  });

  it("--phase 2 adds the later phases", () => {
    const r = box.json(["deploy", "--phase", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.doc.actions.some((a: any) => a.address === "schedule.nightly-dev" && a.phase === 2));
    assert.equal(deployedAddresses().summary.create, 0);
  });

  it("going back to phase 1 plans the deletion of phase 2 and performs it after confirmation", () => {
    const plan = box.json(["plan", "--phase", "1"]).doc;
    assert.deepEqual(plan.actions.map((a: any) => [a.action, a.address]), [["delete", "schedule.nightly-dev"]]);
    assert.equal(box.run(["deploy", "--phase", "1"]).code, 3);
    const r = box.json(["deploy", "--phase", "1", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(box.json(["plan", "--phase", "1"]).doc.actions.length, 0);
    assert.deepEqual(box.json(["plan", "--phase", "2"]).doc.actions.map((a: any) => a.address), ["schedule.nightly-dev"]);
  });

  it("going back to phase 0 removes serving's module, hooks and settings", () => {
    const r = box.json(["deploy", "--phase", "0", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.doc.actions.some((a: any) => a.address === "module.serving" && a.action === "delete"));
    assert.deepEqual(box.json(["settings", "list"]).doc.settings.map((s: any) => s.module), ["core", "features"]);
  });
});
