// Secret values never reach the terminal, the --json documents or the kept logs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sandbox } from "../helpers/cli.js";

const files = {
  "slipway.yaml": "project: sec\ninclude: [modules/*/module.yaml]\nvariables:\n  token:\n    default: first-secret-1\n    secret: true\ntargets:\n  dev: {}\n",
  "application.env": "DB_PASSWORD=env-file-pass\n",
  "modules/core/module.yaml": "module: core\nhooks:\n  - { name: show, deploy: show.sh }\nsettings:\n  tok: ${var.token}\n  plain: visible\n",
  "modules/core/show.sh": '#!/usr/bin/env bash\necho "db password is $DB_PASSWORD and token $SLIPWAY_VAR_token"\n',
};

describe("secrets", () => {
  it("are masked in plans (both sides of a change), hook output, settings listings and JSON", () => {
    const box = sandbox(files);
    try {
      const first = box.run(["deploy"]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /db password is \*\*\* and token \*\*\*/);
      const changed = box.run(["deploy", "--var", "token=second-secret-2"]);
      assert.equal(changed.code, 0, changed.stderr);
      assert.match(changed.stdout, /value: "\*\*\*" -> "\*\*\*"/);
      const plan = box.json(["plan", "--var", "token=third-secret-3"]);
      const all = [first.stdout, first.stderr, changed.stdout, changed.stderr, JSON.stringify(plan.doc), box.run(["settings", "list"]).stdout, JSON.stringify(box.json(["settings", "list"]).doc.settings)].join("\n");
      for (const secret of ["first-secret-1", "second-secret-2", "third-secret-3", "env-file-pass"]) assert.ok(!all.includes(secret), `${secret} leaked`);
      assert.deepEqual(box.json(["settings", "list"]).doc.settings, [
        { module: "core", key: "plain", value: "visible" },
        { module: "core", key: "tok", value: "***" },
      ]);
    } finally {
      box.cleanup();
    }
  });
});
