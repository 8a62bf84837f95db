// Destroy order, refusal while dependents are deployed, confirmation, protection in state and config.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { threeModules } from "../helpers/projects.js";

const events = (box: Sandbox): string[] => {
  const file = join(box.home, "..", "events.log");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
};

describe("destroy", () => {
  let box: Sandbox;
  before(() => {
    box = sandbox(threeModules());
    assert.equal(box.run(["deploy"]).code, 0);
  });
  after(() => box.cleanup());

  it("refuses to destroy core while modules that depend on it are deployed (exit 3), naming them", () => {
    const r = box.run(["destroy", "--module", "core", "--yes"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot destroy core: deployed module\(s\) features depend on it/);
    assert.equal(box.json(["settings", "list"]).doc.settings.length, 3);
  });

  it("needs --yes without a terminal, and changes nothing without it", () => {
    const r = box.run(["destroy", "--module", "serving"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /This will destroy \d+ resource\(s\) of module\(s\) serving/);
    assert.match(r.stderr, /--yes/);
    assert.ok(box.json(["status"]).doc.modules.find((m: any) => m.name === "serving").deployed);
  });

  it("destroys one module: its destroy hooks first, then its settings, and its deployed marker last", () => {
    const before = events(box).length;
    const r = box.json(["destroy", "--module", "serving", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    const order = r.doc.actions.map((a: any) => a.address);
    assert.ok(order.indexOf("hook.serving.route") < order.indexOf("setting.serving.endpoint"));
    assert.equal(order.at(-1), "module.serving", `the marker goes last: ${order.join(", ")}`);
    assert.ok(order.indexOf("schedule.nightly-dev") < order.indexOf("job.score"));
    assert.deepEqual(events(box).slice(before), ["serving-destroy"]);
    assert.deepEqual(box.json(["settings", "list"]).doc.settings.map((s: any) => s.module), ["core", "features"]);
  });

  it("destroys everything in reverse dependency order", () => {
    const before = events(box).length;
    const r = box.run(["destroy", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(events(box).slice(before), ["features-destroy", "core-destroy"]);
    const status = box.json(["status"]).doc;
    assert.deepEqual(status.resources, {});
    assert.deepEqual(box.json(["settings", "list"]).doc.settings, []);
  });
});

describe("a destroy whose destroy script fails", () => {
  it("leaves the module deployed with its settings, and can be run again", () => {
    const box = sandbox({
      "slipway.yaml": "project: halfway\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
      "modules/core/module.yaml": "module: core\nhooks:\n  - { name: setup, deploy: deploy.sh, destroy: destroy.sh }\nsettings:\n  catalog: main\n",
      "modules/core/deploy.sh": '#!/usr/bin/env bash\necho deployed >> "$SLIPWAY_HOME/../events.log"\n',
      // Fails while fail-destroy exists, having removed half of what it manages.
      "modules/core/destroy.sh": '#!/usr/bin/env bash\nset -eu\nd="$SLIPWAY_HOME/.."\necho half-removed >> "$d/events.log"\nif [ -e "$d/fail-destroy" ]; then exit 4; fi\necho destroyed >> "$d/events.log"\n',
    });
    try {
      assert.equal(box.run(["deploy"]).code, 0);
      writeFileSync(join(box.home, "..", "fail-destroy"), "");
      const failed = box.run(["destroy", "--yes"]);
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stderr, /hook\.core\.setup: destroy script destroy\.sh exited with code 4/);
      // Still deployed, settings still there, nothing but the failed hook's attempt happened.
      const status = box.json(["status"]).doc;
      assert.deepEqual(status.modules.map((m: any) => [m.name, m.deployed]), [["core", true]]);
      assert.deepEqual(status.resources, { module: 1, hook: 1, setting: 1 });
      assert.deepEqual(box.json(["settings", "list"]).doc.settings.map((s: any) => s.key), ["catalog"]);
      assert.match(box.run(["status"]).stdout, /^  deployed +core /m);
      // Fixed: the destroy runs again and removes everything, the marker last.
      rmSync(join(box.home, "..", "fail-destroy"));
      const done = box.json(["destroy", "--yes"]);
      assert.equal(done.code, 0, done.stderr);
      assert.deepEqual(done.doc.actions.map((a: any) => a.address), ["hook.core.setup", "setting.core.catalog", "module.core"]);
      assert.deepEqual(events(box), ["deployed", "half-removed", "half-removed", "destroyed"]);
      assert.deepEqual(box.json(["status"]).doc.resources, {});
      assert.deepEqual(box.json(["settings", "list"]).doc.settings, []);
    } finally {
      box.cleanup();
    }
  });
});

describe("protection", () => {
  it("a protected target needs --force as well as --yes", () => {
    const box = sandbox(threeModules());
    try {
      assert.equal(box.run(["deploy", "-t", "prod", "--phase", "0"]).code, 0);
      const refused = box.run(["destroy", "-t", "prod", "--yes"]);
      assert.equal(refused.code, 3);
      assert.match(refused.stderr, /demo\/prod is protected: destroy needs --force/);
      assert.equal(box.json(["status", "-t", "prod"]).doc.modules.filter((m: any) => m.deployed).length, 2);
      const done = box.run(["destroy", "-t", "prod", "--yes", "--force"]);
      assert.equal(done.code, 0, done.stderr);
    } finally {
      box.cleanup();
    }
  });

  it("deleting a module's block from the config does not destroy it silently: the plan shows the delete and needs confirmation", () => {
    const box = sandbox(threeModules());
    try {
      assert.equal(box.run(["deploy", "--phase", "1"]).code, 0);
      rmSync(join(box.dir, "modules/serving"), { recursive: true });
      const plan = box.json(["plan"]).doc;
      assert.ok(plan.actions.every((a: any) => a.action === "delete" && a.module === "serving"));
      assert.ok(plan.actions.some((a: any) => a.address === "module.serving"));
      const refused = box.run(["deploy"]);
      assert.equal(refused.code, 3);
      assert.match(refused.stderr, /including the deployed module\(s\) serving/);
      assert.ok(box.json(["status"]).doc.modules.find((m: any) => m.name === "serving").deployed);
      // The destroy script comes from the blob store: the file is gone from disk.
      const before = events(box).length;
      const done = box.run(["deploy", "--yes"]);
      assert.equal(done.code, 0, done.stderr);
      assert.deepEqual(events(box).slice(before), ["serving-destroy"]);
    } finally {
      box.cleanup();
    }
  });
});
