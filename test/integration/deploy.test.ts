// Modules, hooks, settings and plans through the real CLI against a real SQLite file.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { threeModules } from "../helpers/projects.js";

const events = (box: Sandbox): string[] => {
  const file = join(box.home, "..", "events.log");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
};

describe("deploy: modules, hooks and settings", () => {
  let box: Sandbox;
  before(() => (box = sandbox(threeModules())));
  after(() => box.cleanup());

  it("deploys core before the modules that depend on it, running hooks in the module folder with the merged environment", () => {
    const r = box.run(["deploy", "--phase", "1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(events(box), ["core-deploy", "features-deploy", "serving-deploy"]);
    // application.env < site env file < module.env; Slipway variables are exported.
    assert.match(r.stdout, /core-deploy ran in core region=site module=core catalog=cat_dev/);
    assert.match(r.stdout, /features-deploy ran in features region=module module=features/);
    assert.match(r.stdout, /Deploy complete: \d+ action\(s\) applied, revision 1/);
  });

  it("never prints a secret variable's value, in the terminal or in the kept log", () => {
    const r = box.run(["history", "--json"]);
    const id = JSON.parse(r.stdout).deployments[0].id;
    const log = readFileSync(join(box.home, "logs", "demo", "dev", id, "output.log"), "utf8");
    assert.match(log, /\[hook\.serving\.route\] token is \*\*\*/);
    assert.doesNotMatch(log, /s3cr3t-value/);
  });

  it("writes module settings to the settings table", () => {
    const { code, doc } = box.json(["settings", "list", "-t", "dev"]);
    assert.equal(code, 0);
    assert.deepEqual(doc.settings, [
      { module: "core", key: "catalog", value: "cat_dev" },
      { module: "features", key: "table", value: "cat_dev.features" },
      { module: "serving", key: "endpoint", value: "ep-dev" },
    ]);
  });

  it("plans nothing and runs no hook when nothing changed", () => {
    const before = events(box).length;
    const plan = box.json(["plan", "--phase", "1"]);
    assert.equal(plan.doc.actions.length, 0);
    assert.equal(plan.doc.summary.create, 0);
    const r = box.run(["deploy", "--phase", "1"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Nothing to deploy/);
    assert.equal(events(box).length, before);
  });

  it("re-runs a changed hook script, and only that one; the plan lists the changed fields", () => {
    box.write({ "modules/features/deploy.sh": readFileSync(join(box.dir, "modules/features/deploy.sh"), "utf8") + "echo changed\n" });
    const plan = box.json(["plan", "--phase", "1"]);
    assert.deepEqual(plan.doc.actions.map((a: any) => [a.action, a.address]), [["update", "hook.features.tables"]]);
    assert.deepEqual(plan.doc.actions[0].changes.map((c: any) => c.path), ["deploy.sha256"]);
    const before = events(box).length;
    assert.equal(box.run(["deploy", "--phase", "1"]).code, 0);
    assert.deepEqual(events(box).slice(before), ["features-deploy"]);
  });

  it("updates a setting when its value changes, shown as an update of `value`", () => {
    const plan = box.json(["plan", "--phase", "1", "--var", "catalog=other"]);
    const setting = plan.doc.actions.find((a: any) => a.address === "setting.core.catalog");
    assert.deepEqual(setting.changes, [{ path: "value", before: "cat_dev", after: "other" }]);
    // The hooks see a different environment, so they run again too.
    assert.ok(plan.doc.actions.some((a: any) => a.address === "hook.core.setup" && a.action === "update"));
  });

  it("plan is exactly what deploy applies", () => {
    box.write({ "modules/core/module.yaml": readFileSync(join(box.dir, "modules/core/module.yaml"), "utf8") + "  extra: yes\n" });
    const plan = box.json(["plan", "--phase", "1"]).doc;
    const deployed = box.json(["deploy", "--phase", "1"]).doc;
    assert.equal(deployed.status, "succeeded");
    assert.deepEqual(deployed.actions, plan.actions);
    assert.deepEqual(deployed.summary, plan.summary);
  });
});

describe("deploy: failing hooks", () => {
  let box: Sandbox;
  before(() => (box = sandbox(threeModules())));
  after(() => box.cleanup());

  it("stops at a failing hook, keeps what succeeded, exits 1, and continues from there next time", () => {
    box.write({ "modules/features/deploy.sh": '#!/usr/bin/env bash\necho "features-attempt" >> "$SLIPWAY_HOME/../events.log"\necho "table creation failed" >&2\nexit 7\n' });
    const r = box.run(["deploy", "--phase", "1"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /hook\.features\.tables: deploy script deploy\.sh exited with code 7/);
    assert.match(r.stderr, /table creation failed/);
    assert.deepEqual(events(box), ["core-deploy", "features-attempt"]);
    const status = box.json(["status"]).doc;
    assert.deepEqual(status.modules.map((m: any) => [m.name, m.deployed]), [["core", true], ["features", false], ["serving", false]]);
    const history = box.json(["history"]).doc.deployments;
    assert.equal(history[0].status, "failed");
    assert.equal(history[0].revision, null);

    box.write(threeModules());
    const again = box.run(["deploy", "--phase", "1"]);
    assert.equal(again.code, 0, again.stderr);
    // core is not redone; features and serving are.
    assert.deepEqual(events(box), ["core-deploy", "features-attempt", "features-deploy", "serving-deploy"]);
    assert.equal(box.json(["history"]).doc.deployments[0].revision, 1);
  });
});

describe("deploy --module", () => {
  let box: Sandbox;
  before(() => (box = sandbox(threeModules())));
  after(() => box.cleanup());

  it("refuses a module whose dependencies are not deployed, naming them (exit 3)", () => {
    const r = box.run(["deploy", "--module", "serving"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /module serving depends on features, which is not deployed to dev/);
    assert.match(r.stderr, /--with-deps/);
    assert.deepEqual(box.json(["status"]).doc.modules.filter((m: any) => m.deployed), []);
  });

  it("--with-deps deploys the dependencies first", () => {
    const r = box.run(["deploy", "--module", "features", "--with-deps"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(events(box), ["core-deploy", "features-deploy"]);
    assert.deepEqual(box.json(["status"]).doc.modules.filter((m: any) => m.deployed).map((m: any) => m.name), ["core", "features"]);
  });

  it("deploys one module once its dependencies are there, touching nothing else", () => {
    const r = box.json(["deploy", "--module", "serving"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.doc.actions.every((a: any) => a.module === "serving"));
    assert.deepEqual(events(box), ["core-deploy", "features-deploy", "serving-deploy"]);
  });

  it("rejects an unknown module with a suggestion (exit 2)", () => {
    const r = box.run(["deploy", "--module", "servng"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--module servng: no such module/);
    assert.match(r.stderr, /did you mean "serving"/);
  });
});

describe("deploy: the kept output", () => {
  it("keeps each deployment's hook output in its own log", () => {
    const box = sandbox(threeModules());
    try {
      assert.equal(box.run(["deploy", "--phase", "0"]).code, 0);
      const dirs = readdirSync(join(box.home, "logs", "demo", "dev"));
      assert.equal(dirs.length, 1);
      const log = readFileSync(join(box.home, "logs", "demo", "dev", dirs[0]!, "output.log"), "utf8");
      assert.match(log, /^\[hook\.core\.setup\] core-deploy ran in core/m);
    } finally {
      box.cleanup();
    }
  });
});
