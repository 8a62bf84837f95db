// Embedded changes are audited like the API's: deploy, run, a failed rollback and destroy made by the
// local CLI (no server) each append an entry to the home's audit log with the local user, client
// "local", the target and the outcome, and the chain stays intact.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";

const files = {
  "slipway.yaml": `project: audited
include: [modules/*/module.yaml]
targets:
  dev:
    default: true
`,
  "modules/m/module.yaml": `module: m
resources:
  jobs:
    hello:
      command: echo hello
`,
};

describe("embedded changes go to the audit log", () => {
  let box: Sandbox;
  before(() => {
    box = sandbox(files);
  });
  after(() => box?.cleanup());

  it("deploy, run, a refused rollback and destroy: one entry each, with who, where and the outcome", () => {
    for (const [args, code] of [[["deploy"], 0], [["run", "hello", "--wait"], 0], [["rollback", "--to", "99"], 2], [["destroy", "--yes"], 0]] as Array<[string[], number]>) {
      const r = box.run(args);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    }
    const { code, doc, stderr } = box.json(["audit", "--user", "tester"]);
    assert.equal(code, 0, stderr);
    const entries = doc.entries as Array<{ actor: string; action: string; project: string; target: string; client: string; outcome: string; detail: Record<string, unknown> }>;
    assert.deepEqual(
      entries.map((e) => [e.action, e.actor, e.client]),
      ["deploy", "run", "rollback", "destroy"].map((action) => [action, "tester", "local"]),
    );
    for (const i of [0, 1, 3]) assert.deepEqual([entries[i]!.project, entries[i]!.target], ["audited", "dev"], entries[i]!.action);
    assert.equal(entries[0]!.outcome, "ok");
    assert.equal(entries[0]!.detail.revision, 1);
    assert.match(String(entries[1]!.detail.run), /^r/);
    assert.notEqual(entries[2]!.outcome, "ok", "the refused rollback is recorded with its error code");
    assert.equal(entries[3]!.outcome, "ok");
    assert.equal(box.json(["audit", "verify"]).doc.intact, true);
  });
});
