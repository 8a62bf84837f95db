// The --json documents of validate, plan, deploy, destroy, rollback, status, history and settings list,
// successes and failures, against their schemas and snapshots (test/contract/snapshots/).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { contractProject } from "./projects.js";
import { finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

describe("--json contract: deployments", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox({ ...contractProject(), "broken/slipway.yaml": "project: broken\ntargets:\n  dev:\n    mode: staging\n" });
    n = new Normaliser(box);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["validate", "plan", "deploy", "destroy", "rollback", "status", "history", "settings list"]);
  });

  it("validate and plan, before anything is deployed", () => {
    jsonCase(box, n, "status", "never_deployed", ["status"]);
    jsonCase(box, n, "validate", "valid", ["validate"]);
    assert.equal(jsonCase(box, n, "validate", "invalid_config", ["validate", "--project", "broken"]).code, 2);
    jsonCase(box, n, "plan", "phase_1", ["plan", "--phase", "1"]);
    assert.equal(jsonCase(box, n, "plan", "invalid_usage", ["plan", "--phase", "one"]).code, 2);
    assert.equal(jsonCase(box, n, "plan", "dependencies_not_deployed", ["plan", "--module", "app"]).code, 3);
  });

  it("deploy: a failed hook, success, no changes, a missing model version, a refusal", () => {
    box.write({ "modules/core/deploy.sh": '#!/usr/bin/env bash\necho "setup failed" >&2\nexit 7\n' });
    const failed = jsonCase(box, n, "deploy", "hook_failed", ["deploy", "--phase", "1"]);
    assert.equal(failed.code, 1);
    assert.equal(failed.doc.error.code, "hook_failed");
    box.write({ "modules/core/deploy.sh": '#!/usr/bin/env bash\necho "core-deploy ran"\n' });
    const ok = jsonCase(box, n, "deploy", "succeeded", ["deploy", "--phase", "1"]);
    assert.equal(ok.doc.runs.length, 1, "run_on_deploy started a run");
    jsonCase(box, n, "deploy", "no_changes", ["deploy", "--phase", "1"]);
    const missing = jsonCase(box, n, "deploy", "model_version_missing", ["deploy"]);
    assert.equal(missing.code, 2, "model_version_missing is invalid input: exit 2 from the registry");
    assert.equal(missing.doc.error.code, "model_version_missing");
    assert.equal(jsonCase(box, n, "deploy", "confirmation_required", ["deploy", "--phase", "0"]).code, 3);
  });

  it("settings, status and history of a deployed target", () => {
    jsonCase(box, n, "settings list", "deployed", ["settings", "list"]);
    jsonCase(box, n, "status", "deployed", ["status"]);
    jsonCase(box, n, "history", "after_deploys", ["history"]);
  });

  it("destroy refused, rollback, destroy", () => {
    assert.equal(jsonCase(box, n, "destroy", "dependents_deployed", ["destroy", "--module", "core", "--yes"]).code, 3);
    assert.equal(jsonCase(box, n, "rollback", "unknown_revision", ["rollback", "--to", "99", "--yes"]).code, 2);
    jsonCase(box, n, "rollback", "to_revision_1", ["rollback", "--to", "1", "--yes"]);
    jsonCase(box, n, "destroy", "everything", ["destroy", "--yes"]);
  });
});
