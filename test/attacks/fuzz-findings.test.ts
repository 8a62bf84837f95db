// Bugs the schema fuzzer (scripts/fuzz.mjs) found, each kept as a small regression test with the
// seed that found it. Reproduce the original with `node scripts/fuzz.mjs --seed N`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sandbox } from "../helpers/cli.js";
import { assertNoCrash } from "./helpers.js";

describe("found by the fuzzer", () => {
  it("seed 7: a reference into a module that depends on the referring one is a cycle, reported at validation (was an internal error from plan)", () => {
    const box = sandbox({
      "slipway.yaml": "project: cyc\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
      "modules/base/module.yaml": "module: base\nresources:\n  schedules:\n    nightly:\n      job: etl\n      cron: 0 2 * * *\n",
      "modules/app/module.yaml": "module: app\ndepends_on: [base]\nresources:\n  jobs:\n    etl:\n      command: \"true\"\n",
    });
    try {
      for (const args of [["validate"], ["plan"], ["deploy", "--yes"], ["status"]]) {
        const r = box.run(args);
        assertNoCrash(r);
        assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /modules\/base\/module\.yaml:4:5: error: resources depend on each other in a cycle: .*schedule\.nightly -> job\.etl -> module\.base/);
        assert.match(r.stderr, /hint: schedule\.nightly refers to a resource in a module that depends on its own module \(base\)/);
      }
    } finally {
      box.cleanup();
    }
  });

  it("seed 18: a secret whose value is \"false\" no longer breaks --json output; a secret with a quote or backslash is masked there too (it leaked)", () => {
    const box = sandbox({
      "slipway.yaml": `project: sec
include: [modules/*/module.yaml]
variables:
  flag: { default: "false", secret: true }
  tok: { default: 'pa"ss\\word', secret: true }
targets:
  dev: {}
`,
      "modules/core/module.yaml": 'module: core\nsettings:\n  f: ${var.flag}\nresources:\n  jobs:\n    j:\n      command: "true"\n      params: { token: "${var.tok}" }\n',
    });
    try {
      assert.equal(box.run(["deploy", "--yes"]).code, 0);
      const status = box.json(["status"]);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(status.doc.modules[0].deployed, true, "booleans stay booleans");
      assert.equal(box.run(["run", "j", "--wait"]).code, 0);
      const runs = box.run(["runs", "--json"]);
      const doc = JSON.parse(runs.stdout);
      assert.equal(doc.runs[0].params.token, "***");
      assert.ok(!runs.stdout.includes("pa\\\"ss"), runs.stdout);
    } finally {
      box.cleanup();
    }
  });

  it("seeds 202, 206: a missing key whose value is one of a list says it is required (was: 'undefined is not allowed')", () => {
    const box = sandbox({
      "slipway.yaml": "project: p\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
      "modules/core/module.yaml": "module: core\nresources:\n  pipelines:\n    release:\n      stages:\n        - name: s0\n",
    });
    try {
      const r = box.run(["validate"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /module\.yaml:6:11: error: resources\.pipelines\.release\.stages\[0\]\.type is required: one of run, deploy, approval, wait, destroy, notify, promote, rollout\n  hint: add `type:`/);
      assert.doesNotMatch(r.stderr, /undefined/);
    } finally {
      box.cleanup();
    }
  });
});
