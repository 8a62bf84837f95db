// The --json documents of `slipway export k8s` and `slipway export helm`.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO, sandbox, type Sandbox } from "../helpers/cli.js";
import { finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) if (f.isFile()) out[relative(dir, join(f.parentPath, f.name))] = readFileSync(join(f.parentPath, f.name), "utf8");
  return out;
}

describe("--json contract: export", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox(filesUnder(join(REPO, "test", "fixtures", "k8s", "project")));
    n = new Normaliser(box);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["export k8s", "export helm"]);
  });

  it("k8s and helm: the files written, the Secret's keys, the apply command; refusals", () => {
    const root = dirname(box.dir);
    jsonCase(box, n, "export k8s", "written", ["export", "k8s", "-t", "prod", "--out", join(root, "k8s")]);
    jsonCase(box, n, "export helm", "written", ["export", "helm", "-t", "prod", "--out", join(root, "helm"), "--image", "registry.example/shop:1.2"]);
    assert.equal(jsonCase(box, n, "export k8s", "not_empty", ["export", "k8s", "-t", "prod", "--out", box.dir]).code, 3);
    assert.equal(jsonCase(box, n, "export helm", "unknown_target", ["export", "helm", "-t", "staging", "--out", join(root, "x")]).code, 2);
  });
});
