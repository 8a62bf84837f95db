// Revisions, history and rollback --to REV.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { threeModules } from "../helpers/projects.js";

describe("history and rollback", () => {
  let box: Sandbox;
  before(() => (box = sandbox(threeModules())));
  after(() => box.cleanup());

  it("numbers each successful deploy that changed something", () => {
    assert.equal(box.run(["deploy", "--phase", "0"]).code, 0);
    assert.equal(box.run(["deploy", "--phase", "0"]).code, 0); // no change: no revision
    assert.equal(box.run(["deploy", "--phase", "2", "--var", "catalog=v2"]).code, 0);
    const h = box.json(["history"]).doc.deployments;
    assert.deepEqual(h.map((d: any) => [d.revision, d.operation, d.status]), [
      [2, "deploy", "succeeded"],
      [1, "deploy", "succeeded"],
    ]);
    assert.equal(h[1].options.phase, 0);
  });

  it("rollback --to 1 plans and applies the difference back to revision 1", () => {
    const r = box.json(["rollback", "--to", "1", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.doc.revision, 3);
    const actions = Object.fromEntries(r.doc.actions.map((a: any) => [a.address, a.action]));
    assert.equal(actions["module.serving"], "delete");
    assert.equal(actions["schedule.nightly-dev"], "delete");
    assert.equal(actions["setting.core.catalog"], "update");
    assert.deepEqual(box.json(["settings", "list"]).doc.settings, [
      { module: "core", key: "catalog", value: "cat_dev" },
      { module: "features", key: "table", value: "cat_dev.features" },
    ]);
    const h = box.json(["history"]).doc.deployments;
    assert.equal(h[0].operation, "rollback");
    assert.equal(h[0].options.rollback_to, 1);
  });

  it("runs the hook scripts recorded in that revision, even after the files changed", () => {
    box.write({ "modules/core/deploy.sh": '#!/usr/bin/env bash\necho "core-deploy-v2" >> "$SLIPWAY_HOME/../events.log"\n' });
    assert.equal(box.run(["deploy", "--phase", "0"]).code, 0);
    assert.equal(box.run(["rollback", "--to", "1", "--yes"]).code, 0);
    const events = readFileSync(join(box.home, "..", "events.log"), "utf8").trim().split("\n");
    assert.deepEqual(events.slice(-2), ["core-deploy-v2", "core-deploy"]);
  });

  it("an unknown revision is invalid input that names the range", () => {
    const r = box.run(["rollback", "--to", "42"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /has no revision 42/);
    assert.match(r.stderr, /revisions go from 1 to \d+/);
  });
});
