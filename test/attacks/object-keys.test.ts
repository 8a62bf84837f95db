// Keys are data, never object machinery: "__proto__", "constructor", "prototype" (and other names that
// exist on every JavaScript object) work as names of settings, variables, params and environment
// variables, end to end, like any other name — and are never mistaken for something declared.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sandbox } from "../helpers/cli.js";
import { assertNoCrash } from "./helpers.js";

const NAMES = ["__proto__", "constructor", "prototype"] as const;

function box() {
  return sandbox({
    "slipway.yaml": `project: keys
include: [modules/*/module.yaml]
variables:
  __proto__: { default: vp }
  constructor: { default: vc }
  prototype: { default: vq }
targets:
  dev:
    default: true
    env_files: [site.env]
`,
    "application.env": "__proto__=app-p\nconstructor=app-c\nprototype=app-q\n",
    "site.env": "constructor=site-c\n",
    "modules/core/module.yaml": `module: core
hooks:
  - name: show
    deploy: show.sh
settings:
  __proto__: s-\${var.__proto__}
  constructor: s-\${var.constructor}
  prototype: s-\${var.prototype}
  toString: plain
resources:
  jobs:
    keys:
      command: echo "P=$SLIPWAY_PARAM___proto__ C=$SLIPWAY_PARAM_constructor Q=$SLIPWAY_PARAM_prototype E=$__proto__/$constructor/$prototype"
      params:
        __proto__: p1
        constructor: c1
        prototype: q1
      env:
        __proto__: job-p
    tasked:
      tasks:
        one:
          command: echo "T=$__proto__/$constructor/$prototype"
          env:
            __proto__: task-p
            constructor: task-c
`,
    "modules/core/module.env": "prototype=mod-q\n",
    "modules/core/show.sh": '#!/usr/bin/env bash\necho "H=$__proto__/$constructor/$prototype V=$SLIPWAY_VAR___proto__/$SLIPWAY_VAR_constructor"\n',
  });
}

describe("object-machinery names as keys", () => {
  it("settings, variables and env files keep __proto__, constructor and prototype", () => {
    const b = box();
    try {
      const v = b.run(["validate"]);
      assert.equal(v.code, 0, v.stderr);
      const plan = b.json(["plan"]);
      assert.equal(plan.code, 0, plan.stderr);
      const addresses = plan.doc.actions.map((a: any) => a.address);
      for (const n of NAMES) assert.ok(addresses.includes(`setting.core.${n}`), `plan has setting.core.${n}: ${addresses}`);
      const d = b.run(["deploy", "--yes", "--var", "__proto__=cli-p"], { SLIPWAY_VAR_constructor: "envvar-c" });
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /H=app-p\/site-c\/mod-q V=cli-p\/envvar-c/);
      const settings = b.json(["settings", "list"]).doc.settings;
      const byKey = Object.fromEntries(settings.map((s: any) => [s.key, s.value]));
      assert.deepEqual(byKey, { ["__proto__"]: "s-cli-p", constructor: "s-envvar-c", prototype: "s-vq", toString: "plain" });
      // The hash of a spec sees a __proto__ value: changing it is an update.
      const again = b.json(["plan", "--var", "__proto__=other"]);
      assert.ok(again.doc.actions.some((a: any) => a.address === "setting.core.__proto__" && a.action === "update"), JSON.stringify(again.doc.actions));
    } finally {
      b.cleanup();
    }
  });

  it("job params and job/task env keep them; --param overrides them", () => {
    const b = box();
    try {
      const r = b.run(["run", "keys", "--from-source", "--param", "__proto__=p2", "--wait"]);
      assertNoCrash(r);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /P=p2 C=c1 Q=q1 E=job-p\/site-c\/mod-q/);
      const t = b.run(["run", "tasked", "--from-source", "--wait"]);
      assert.equal(t.code, 0, t.stderr);
      assert.match(t.stdout, /T=task-p\/task-c\/mod-q/);
    } finally {
      b.cleanup();
    }
  });

  it("names that exist on every object are not mistaken for declared ones", () => {
    const b = sandbox({
      "slipway.yaml": "project: keys\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
      "modules/core/module.yaml": `module: core
settings:
  a: \${var.toString}
  b: \${var.constructor}
  c: \${var.__proto__}
resources:
  jobs:
    plain:
      command: "true"
`,
    });
    try {
      const r = b.run(["validate"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      for (const n of ["toString", "constructor", "__proto__"]) assert.match(r.stderr, new RegExp(`unknown variable "${n}"`));
      b.write({ "modules/core/module.yaml": "module: core\nresources:\n  jobs:\n    plain:\n      command: \"true\"\n" });
      for (const n of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
        const p = b.run(["run", "plain", "--from-source", "--param", `${n}=1`]);
        assertNoCrash(p);
        assert.equal(p.code, 2, `--param ${n}: ${p.stdout}${p.stderr}`);
        assert.match(p.stderr, new RegExp(`job plain has no parameter "${n.replace(/_/g, "_")}"`));
      }
      const v = b.run(["validate", "--var", "constructor=1"]);
      assert.equal(v.code, 2, v.stderr);
      assert.match(v.stderr, /--var constructor: no variable "constructor" is declared/);
    } finally {
      b.cleanup();
    }
  });

  it("unknown keys named like object machinery are reported as unknown keys", () => {
    const b = sandbox({ "slipway.yaml": "project: keys\n__proto__: { x: 1 }\nconstructor: 1\ntargets:\n  dev:\n    prototype: 1\n" });
    try {
      const r = b.run(["validate"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /slipway\.yaml:2:1: error: unknown key "__proto__"/);
      assert.match(r.stderr, /slipway\.yaml:3:1: error: unknown key "constructor"/);
      assert.match(r.stderr, /slipway\.yaml:6:5: error: unknown key "prototype" in targets\.dev/);
    } finally {
      b.cleanup();
    }
  });
});
