// The --json documents of init, doctor and completion.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { expectDocument, finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

describe("--json contract: init, doctor, completion", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox({});
    n = new Normaliser(box);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["init", "doctor", "completion"]);
  });

  it("init: written, refused (files exist), unknown template", () => {
    jsonCase(box, n, "init", "minimal", ["init", "app", "--name", "app"]);
    const refused = jsonCase(box, n, "init", "files_exist", ["init", "app"]);
    assert.equal(refused.code, 3);
    assert.equal(jsonCase(box, n, "init", "unknown_template", ["init", "other", "--template", "mll"]).code, 2);
  });

  it("doctor: ready, and a project with a problem (exit 1, the checks in the document)", () => {
    // What depends on the machine is replaced: the Node.js version (the rest is fixed by the sandbox:
    // SLIPWAY_SERVER_PORT=0, a home not made yet, a project without Python).
    const doctor = (name: string, args: string[]) => {
      const r = box.json(["doctor", ...args]);
      assert.equal(r.doc.ok, r.code === 0, r.stderr);
      const doc = { ...r.doc, checks: r.doc.checks.map((c: { name: string; message: string }) => (c.name === "node" ? { ...c, message: c.message.replace(/Node\.js \d+\.\d+\.\d+/, "Node.js <version>") } : c)) };
      expectDocument("doctor", name, doc, n);
      return r;
    };
    assert.equal(doctor("ready", ["--project", "app"]).code, 0);
    box.write({ "broken/slipway.yaml": "project: broken\ntargets:\n  dev:\n" });
    const broken = doctor("project_invalid", ["--project", "broken"]);
    assert.equal(broken.code, 1);
    assert.equal(broken.doc.error.code, "checks_failed");
  });

  it("completion: the script in the document; an unknown shell", () => {
    // The script follows every command and option of the program: its text is the integration tests' (first-hour.test.ts).
    const r = box.json(["completion", "bash"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.doc.script, /^# bash completion for slipway/);
    assert.equal(r.doc.script, box.run(["completion", "bash"]).stdout, "the same script as without --json");
    expectDocument("completion", "bash", { ...r.doc, script: "<script>" }, n);
    assert.equal(jsonCase(box, n, "completion", "unknown_shell", ["completion", "fish"]).code, 2);
  });
});
