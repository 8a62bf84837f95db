// Hostile YAML: alias bombs, deep nesting, tags that would build objects, unclosed ${…}. Each is
// invalid input (exit 2) reported at file:line:column, fast, with nothing touched.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sandbox } from "../helpers/cli.js";
import { assertNoCrash, project, ROOT, runTimed } from "./helpers.js";

/** The classic "billion laughs": 9 levels of 9 aliases each, about 400 bytes expanding to 9^9 strings. */
const laughs = (indent = "") =>
  [`${indent}l0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`]
    .concat(Array.from({ length: 8 }, (_, i) => `${indent}l${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(",")}]`))
    .join("\n") + "\n";

function assertFastInvalid(r: ReturnType<typeof runTimed>, file: RegExp, message: RegExp): void {
  assert.equal(r.timedOut, false, `validate hung (${r.ms} ms)`);
  assertNoCrash(r);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.ms < 5_000, `took ${r.ms} ms`);
  assert.match(r.stderr, file);
  assert.match(r.stderr, message);
}

describe("YAML alias bombs", () => {
  it("in slipway.yaml: exit 2 at once, at file:line:column", () => {
    const bomb = laughs();
    assert.ok(bomb.length < 450);
    const box = sandbox({ "slipway.yaml": `project: demo\ntargets:\n  dev: {}\n${bomb}` });
    try {
      const r = runTimed(box, ["validate"]);
      assertFastInvalid(r, /slipway\.yaml:\d+:\d+: error: /, /alias(es)? .*expand/i);
      assert.equal(existsSync(join(box.home, "state.db")), false);
    } finally {
      box.cleanup();
    }
  });

  it("in a module file and under settings:", () => {
    for (const moduleYaml of [`module: core\n${laughs()}`, `module: core\nsettings:\n${laughs("  ")}`]) {
      const box = project(moduleYaml);
      try {
        assertFastInvalid(runTimed(box, ["validate"]), /modules\/core\/module\.yaml:\d+:\d+: error: /, /alias(es)? .*expand/i);
        assertFastInvalid(runTimed(box, ["plan"]), /module\.yaml:\d+:\d+: error: /, /alias/i);
      } finally {
        box.cleanup();
      }
    }
  });

  it("an alias inside the node it names (a cycle) is refused, not followed forever", () => {
    const box = project("module: core\nsettings: &s\n  again: *s\n");
    try {
      assertFastInvalid(runTimed(box, ["validate"]), /module\.yaml:3:\d+: error: /, /alias \*s .*inside/i);
    } finally {
      box.cleanup();
    }
  });

  it("many ordinary aliases are read in linear time (resolving each one used to walk the whole file)", () => {
    const vars = Array.from({ length: 4000 }, (_, i) => `  v${i}: *base`).join("\n");
    const box = sandbox({ "slipway.yaml": `project: demo\ntargets:\n  dev: {}\nvariables:\n  base: &base { default: x }\n${vars}\n` });
    try {
      const r = runTimed(box, ["validate"], 30_000);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    } finally {
      box.cleanup();
    }
  });

  it("ordinary aliases still work", () => {
    const box = project("module: core\nsettings:\n  a: &x hello\n  b: *x\n");
    try {
      const r = runTimed(box, ["validate"]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      box.cleanup();
    }
  });
});

describe("deep nesting", () => {
  for (const [what, depth, text] of [
    ["flow lists, 5,000 deep (beyond the YAML parser's stack)", 5000, (d: number) => `description: ${"[".repeat(d)}${"]".repeat(d)}\n`],
    ["flow mappings, 200 deep", 200, (d: number) => `description: ${"{a: ".repeat(d)}1${"}".repeat(d)}\n`],
    ["block mappings, 300 deep", 300, (d: number) => "description:\n" + Array.from({ length: d }, (_, i) => `${" ".repeat(2 * (i + 1))}k${i}:`).join("\n") + " 1\n"],
  ] as const) {
    it(`${what}: says the nesting is too deep, where`, () => {
      const box = sandbox({ "slipway.yaml": `${ROOT}${text(depth)}` });
      try {
        const r = runTimed(box, ["validate"]);
        assertFastInvalid(r, /slipway\.yaml:\d+:\d+: error: /, /nest(ed|ing) too deep/i);
        assert.doesNotMatch(r.stderr, /call stack/i);
      } finally {
        box.cleanup();
      }
    });
  }

  it("in a module file under settings:", () => {
    const box = project(`module: core\nsettings:\n  deep: ${"[".repeat(3000)}${"]".repeat(3000)}\n`);
    try {
      assertFastInvalid(runTimed(box, ["validate"]), /modules\/core\/module\.yaml:3:\d+: error: /, /nest(ed|ing) too deep/i);
    } finally {
      box.cleanup();
    }
  });
});

describe("YAML tags", () => {
  it("unknown and unsupported tags are reported at file:line:column, not read silently", () => {
    const box = project(`module: core
settings:
  a: !!js/function "function () { return 1 }"
  b: !custom thing
  c: !!binary aGVsbG8=
  d: !!str kept
  e: !!int 3
`);
    try {
      const r = runTimed(box, ["validate"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /module\.yaml:3:6: error: .*tag !!js\/function/);
      assert.match(r.stderr, /module\.yaml:4:6: error: .*tag !custom/);
      assert.match(r.stderr, /module\.yaml:5:6: error: .*tag !!binary/);
      assert.doesNotMatch(r.stderr, /:6:\d+: error|:7:\d+: error/, "the standard tags (!!str, !!int) are fine");
    } finally {
      box.cleanup();
    }
  });
});

describe("interpolation", () => {
  it("an unclosed ${ is reported at file:line:column", () => {
    const box = project("module: core\nsettings:\n  a: prefix-${var.x\n  b: fine $${literal}\n");
    try {
      const r = runTimed(box, ["validate"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /module\.yaml:3:6: error: unclosed "\$\{" in "prefix-\$\{var\.x"/);
      assert.equal((r.stderr.match(/error:/g) ?? []).length, 1, r.stderr);
    } finally {
      box.cleanup();
    }
  });

  it("also in slipway.yaml (a variable default, read in the first pass)", () => {
    const box = sandbox({
      "slipway.yaml": `project: demo\nvariables:\n  v: { default: "\${target.name" }\ntargets:\n  dev: {}\n`,
    });
    try {
      const r = runTimed(box, ["validate"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /slipway\.yaml:3:\d+: error: unclosed "\$\{"/);
    } finally {
      box.cleanup();
    }
  });
});
