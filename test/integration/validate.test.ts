// Config errors: all reported at once, with file:line:column, what was expected and a suggestion; exit 2.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sandbox } from "../helpers/cli.js";

const root = (extra = "") => `project: demo
include:
  - modules/*/module.yaml
variables:
  catalog:
    default: main
targets:
  dev:
    default: true
${extra}`;

describe("validate", () => {
  it("reports every problem together with file:line:column and a hint, touches nothing, exits 2", () => {
    const box = sandbox({
      "slipway.yaml": root(),
      "modules/core/module.yaml": `module: core
dependson: [base]
settings:
  catalog: \${var.catalgo}
resources:
  endpoints:
    This_Is_Not_Valid:
      served:
        - { model: missing_model, percent: 100 }
    ${"a".repeat(64)}:
      served:
        - { model: clf }
  models:
    clf: {}
  schedules:
    nightly:
      job: trian
      cron: "0 2 * *"
  jobs:
    train:
      command: python3 train.py
      retries: "twice"
`,
    });
    try {
      const r = box.run(["validate"]);
      assert.equal(r.code, 2);
      const lines = r.stderr;
      assert.match(lines, /modules\/core\/module\.yaml:2:1: error: unknown key "dependson"\n  hint: did you mean "depends_on"\?/);
      assert.match(lines, /modules\/core\/module\.yaml:4:12: error: unknown variable "catalgo" in \$\{var\.catalgo\}\n  hint: did you mean "catalog"\?/);
      assert.match(lines, /module\.yaml:7:5: error: endpoint name "This_Is_Not_Valid" is invalid: only lowercase letters, digits and '-'/);
      assert.match(lines, /module\.yaml:10:5: error: endpoint name "a{64}" is invalid: 64 characters, at most 63 allowed/);
      assert.match(lines, /module\.yaml:9:\d+: error: endpoint\.This_Is_Not_Valid refers to unknown model\.missing_model/);
      assert.match(lines, /module\.yaml:17:12: error: schedule\.nightly refers to unknown job\.trian\n  hint: did you mean "train"\?/);
      assert.match(lines, /module\.yaml:18:13: error: cron "0 2 \* \*" must have five fields/);
      assert.match(lines, /module\.yaml:22:16: error: resources\.jobs\.train\.retries: expected number, got string "twice"/);
      assert.match(lines, /8 problems found; nothing was changed\./);
      assert.equal(existsSync(join(box.home, "state.db")), false);
    } finally {
      box.cleanup();
    }
  });

  it("--json returns the diagnostics as data", () => {
    const box = sandbox({ "slipway.yaml": root("  qa:\n    mode: staging\n"), "modules/core/module.yaml": "module: core\n" });
    try {
      const { code, doc } = box.json(["validate"]);
      assert.equal(code, 2);
      assert.equal(doc.ok, false);
      assert.equal(doc.error.code, "invalid_config");
      assert.deepEqual(doc.error.diagnostics, [
        { file: "slipway.yaml", line: 11, column: 11, message: 'targets.qa.mode: "staging" is not allowed; expected one of development, production', hint: null },
      ]);
    } finally {
      box.cleanup();
    }
  });

  it("reports dependency cycles between modules", () => {
    const box = sandbox({
      "slipway.yaml": root(),
      "modules/a/module.yaml": "module: a\ndepends_on: [b]\n",
      "modules/b/module.yaml": "module: b\ndepends_on: [a]\n",
    });
    try {
      const r = box.run(["validate"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /modules\/a\/module\.yaml:2:1: error: modules depend on each other in a cycle: a -> b -> a/);
    } finally {
      box.cleanup();
    }
  });

  it("reports a missing variable value and how to set it", () => {
    const box = sandbox({ "slipway.yaml": root().replace("    default: main\n", "    description: no default\n") + "  prod: {}\n", "modules/core/module.yaml": "module: core\nsettings:\n  c: ${var.catalog}\n" });
    try {
      const r = box.run(["validate", "-t", "prod"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /slipway\.yaml:5:3: error: variable "catalog" has no value for target "prod"/);
      assert.match(r.stderr, /--var catalog=/);
      assert.equal(box.run(["validate", "-t", "prod", "--var", "catalog=x"]).code, 0);
      assert.equal(box.run(["validate", "-t", "prod"], { SLIPWAY_VAR_catalog: "y" }).code, 0);
    } finally {
      box.cleanup();
    }
  });

  it("a phase may not depend on a later one", () => {
    const box = sandbox({
      "slipway.yaml": root(),
      "modules/core/module.yaml": "module: core\nphase: 2\n",
      "modules/app/module.yaml": "module: app\ndepends_on: [core]\nphase: 1\nsettings:\n  k: v\n",
    });
    try {
      const r = box.run(["validate"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /module\.app \(phase 1\) depends on module\.core \(phase 2\), which deploys later/);
    } finally {
      box.cleanup();
    }
  });

  it("reports duplicate keys", () => {
    const box = sandbox({ "slipway.yaml": root(), "modules/core/module.yaml": "module: core\nsettings:\n  a: 1\n  b: 2\n  a: 3\n" });
    try {
      const r = box.run(["validate"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /modules\/core\/module\.yaml:5:3: error: duplicate key "a"/);
    } finally {
      box.cleanup();
    }
  });

  it("an unknown target suggests the nearest", () => {
    const box = sandbox({ "slipway.yaml": root("  prod: {}\n"), "modules/core/module.yaml": "module: core\n" });
    try {
      const r = box.run(["plan", "-t", "prdo"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown target "prdo"\n  hint: did you mean "prod"\?/);
    } finally {
      box.cleanup();
    }
  });

  it("executor settings: each type's keys only, Slurm names checked, file:line for each problem", () => {
    const box = sandbox({
      "slipway.yaml": `project: demo
targets:
  dev:
    default: true
    executor: { type: slurm, partition: "debug --x", max_parallel_runs: 2, qos: normal, partiton: x }
  loc:
    executor:
      type: local
      account: ml
  typo:
    executor: { type: slrum }
  args:
    executor: { type: slurm, sbatch_args: ["-p debug"] }
  kube:
    executor: { type: kubernetes, namespace: ML_Team, partition: debug, volume: { claim: shared, path: relative/dir } }
`,
    });
    try {
      const r = box.run(["validate"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^slipway\.yaml:5:\d+: error: targets\.dev\.executor\.partition: a Slurm partition name: letters, digits/m);
      assert.match(r.stderr, /^slipway\.yaml:5:\d+: error: unknown key "partiton" in targets\.dev\.executor\n  hint: did you mean "partition"\?/m);
      assert.match(r.stderr, /^slipway\.yaml:5:\d+: error: targets\.dev\.executor\.max_parallel_runs: max_parallel_runs applies to the local executor only/m);
      const loc = r;
      assert.match(loc.stderr, /^slipway\.yaml:9:\d+: error: targets\.loc\.executor\.account: account applies to executors of type slurm, not local/m);
      assert.match(loc.stderr, /^slipway\.yaml:11:\d+: error: targets\.typo\.executor\.type: "slrum" is not allowed; expected one of local, slurm, kubernetes\n  hint: did you mean "slurm"\?/m);
      assert.match(loc.stderr, /^slipway\.yaml:13:\d+: error: targets\.args\.executor\.sbatch_args\[0\]: an sbatch long option/m);
      // Kubernetes: names checked, the required keys named, another type's keys refused, an absolute mount path.
      assert.match(r.stderr, /^slipway\.yaml:15:\d+: error: targets\.kube\.executor\.namespace: a Kubernetes namespace name: lowercase letters/m);
      assert.match(r.stderr, /^slipway\.yaml:15:\d+: error: targets\.kube\.executor\.image: a kubernetes executor needs `image`/m);
      assert.match(r.stderr, /^slipway\.yaml:15:\d+: error: targets\.kube\.executor\.partition: partition applies to executors of type slurm, not kubernetes/m);
      assert.match(r.stderr, /^slipway\.yaml:15:\d+: error: targets\.kube\.executor\.volume\.path: an absolute path/m);
    } finally {
      box.cleanup();
    }
  });

  it("a YAML syntax error points at its position", () => {
    const box = sandbox({ "slipway.yaml": "project: demo\ntargets:\n  dev: {\n" });
    try {
      const r = box.run(["validate"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /slipway\.yaml:\d+:\d+: error: YAML syntax/);
    } finally {
      box.cleanup();
    }
  });

  it("slipway schema prints JSON Schema for both files", () => {
    const box = sandbox({ "slipway.yaml": root() });
    try {
      const r = box.run(["schema"]);
      assert.equal(r.code, 0);
      const schema = JSON.parse(r.stdout);
      assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
      assert.equal(schema.oneOf.length, 2);
      assert.ok(schema.oneOf[0].properties.targets);
      assert.ok(schema.oneOf[1].properties.resources.properties.endpoints);
      assert.deepEqual(schema.oneOf[1].required, ["module"]);
    } finally {
      box.cleanup();
    }
  });
});
