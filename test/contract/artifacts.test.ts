// The --json documents of the artifacts commands (real wheel builds with Debian's python3).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { artifactsProject, dqmPackage } from "../helpers/projects.js";
import { finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

describe("--json contract: artifacts", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox({ ...artifactsProject(), ...dqmPackage("0.9.0") });
    n = new Normaliser(box);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["artifacts build", "artifacts publish", "artifacts list", "artifacts install", "artifacts gc", "artifacts promote"]);
  });

  it("build and publish", () => {
    jsonCase(box, n, "artifacts list", "nothing_published", ["artifacts", "list", "-t", "val"]);
    jsonCase(box, n, "artifacts build", "built", ["artifacts", "build", "dqm"]);
    assert.equal(jsonCase(box, n, "artifacts build", "unknown_artifact", ["artifacts", "build", "nope"]).code, 2);
    jsonCase(box, n, "artifacts publish", "one_target", ["artifacts", "publish", "dqm", "-t", "val"]);
    box.write(dqmPackage("1.0.0"));
    assert.equal(box.run(["artifacts", "build", "dqm"]).code, 0);
    jsonCase(box, n, "artifacts publish", "three_targets", ["artifacts", "publish", "dqm", "-t", "dev", "-t", "val", "-t", "prod"]);
    assert.equal(jsonCase(box, n, "artifacts publish", "not_built", ["artifacts", "publish", "assets"]).code, 2);
    jsonCase(box, n, "artifacts list", "versions", ["artifacts", "list", "dqm", "-t", "val"]);
    jsonCase(box, n, "artifacts list", "overview", ["artifacts", "list", "-t", "val"]);
    jsonCase(box, n, "artifacts promote", "promoted", ["artifacts", "promote", "dqm@0.9.0", "--from", "val", "--to", "prod"]);
    jsonCase(box, n, "artifacts promote", "already_there", ["artifacts", "promote", "dqm@1.0.0", "--from", "val", "--to", "prod"]);
    assert.equal(jsonCase(box, n, "artifacts promote", "unknown_artifact_version", ["artifacts", "promote", "dqm@7.0.0", "--from", "val", "--to", "prod"]).code, 2);
  });

  it("install into a deployed environment; refusals", () => {
    const deployed = box.run(["deploy", "-t", "val"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    jsonCase(box, n, "artifacts install", "unchanged", ["artifacts", "install", "dqm@1.0.0", "--into", "etl-cluster", "-t", "val"]);
    assert.equal(jsonCase(box, n, "artifacts install", "unknown_version", ["artifacts", "install", "dqm@7.0.0", "--into", "etl-cluster", "-t", "val"]).code, 2);
    assert.equal(jsonCase(box, n, "artifacts install", "environment_ephemeral", ["artifacts", "install", "dqm@1.0.0", "--into", "scratch", "-t", "val"]).code, 3);
  });

  it("gc: the plan, then the deletion", () => {
    jsonCase(box, n, "artifacts gc", "dry_run", ["artifacts", "gc", "-t", "val"]);
    jsonCase(box, n, "artifacts gc", "deleted", ["artifacts", "gc", "-t", "val", "--yes"]);
    assert.equal(jsonCase(box, n, "artifacts gc", "invalid_flag", ["artifacts", "gc", "-t", "val", "--keep-last", "0"]).code, 2);
  });
});
