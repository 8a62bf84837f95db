// Odd strings in names and values: NUL bytes and control characters, "=" in environment names,
// very long names, huge files, unicode, odd YAML shapes, hostile command-line arguments. Each is
// either fine end to end or invalid input (exit 2) that says what and where — never a crash.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sandbox } from "../helpers/cli.js";
import { assertNoCrash, project, ROOT, runTimed } from "./helpers.js";

function invalid(moduleYaml: string, ...patterns: RegExp[]): void {
  const box = project(moduleYaml);
  try {
    const r = box.run(["validate"]);
    assertNoCrash(r);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    for (const p of patterns) assert.match(r.stderr, p);
    assert.doesNotMatch(r.stderr, /\u001b/, "no raw escape characters reach the terminal");
    assert.equal(existsSync(join(box.home, "state.db")), false);
  } finally {
    box.cleanup();
  }
}

describe("NUL bytes and control characters", () => {
  it("in keys and values are refused at file:line:column", () => {
    invalid(
      'module: core\nsettings:\n  "a\\0b": x\n  c: "nul\\0value"\n  d: "esc \\e[31m red"\n  "e\\x1b": y\n  ok: "tab\\tand\\nnewline"\n',
      /module\.yaml:3:3: error: key "a\\u0000b" contains a NUL byte/,
      /module\.yaml:4:6: error: this value contains a NUL byte/,
      /module\.yaml:5:6: error: this value contains a control character \(U\+001B\)/,
      /module\.yaml:6:3: error: key "e\\u001b" contains a control character/,
      /4 problems found/,
    );
  });

  it("in job env, task env and params (which become environment variables)", () => {
    invalid(
      'module: core\nresources:\n  jobs:\n    j:\n      command: "true"\n      env: { "A\\0B": x, "C=D": y }\n      params: { "p=q": 1 }\n    t:\n      tasks:\n        one: { command: "true", env: { "=X": 1 } }\n',
      /module\.yaml:6:14: error: key "A\\u0000B" contains a NUL byte/,
      /module\.yaml:6:\d+: error: invalid key "C=D" in resources\.jobs\.j\.env: environment variable names may not contain "="/,
      /module\.yaml:7:\d+: error: invalid key "p=q" in resources\.jobs\.j\.params/,
      /module\.yaml:10:\d+: error: invalid key "=X" in resources\.jobs\.t\.tasks\.one\.env/,
    );
  });

  it("names given on the command line are printed escaped", () => {
    const box = project();
    try {
      const r = box.run(["validate", "-t", "\u001b[31mred\u0007"]);
      assert.equal(r.code, 2);
      assert.doesNotMatch(r.stderr, /[\u0000-\u0008\u000b-\u001f]/);
      assert.match(r.stderr, /unknown target "\\u001b\[31mred\\u0007"/);
      const run = box.run(["logs", "\u001b]0;title\u0007"]);
      assert.doesNotMatch(run.stderr, /[\u0000-\u0008\u000b-\u001f]/);
    } finally {
      box.cleanup();
    }
  });
});

describe("very long names and huge files", () => {
  it("setting keys are at most 255 characters; 255 is fine", () => {
    invalid(`module: core\nsettings:\n  ${"k".repeat(256)}: x\n`, /module\.yaml:3:3: error: invalid key "k{256}" in settings: Too big/);
    const box = project(`module: core\nsettings:\n  ${"k".repeat(255)}: x\n`);
    try {
      assert.equal(box.run(["validate"]).code, 0);
    } finally {
      box.cleanup();
    }
  });

  it("a 2 MB slipway.yaml or module.yaml is refused at once, not parsed for seconds", () => {
    const huge = `description: "${"a".repeat(2_000_000)}"\n`;
    for (const [file, content] of [["slipway.yaml", `${ROOT}${huge}`], ["modules/core/module.yaml", `module: core\n${huge}`]] as const) {
      const box = project();
      try {
        box.write({ [file]: content });
        const r = runTimed(box, ["validate"]);
        assertNoCrash(r);
        assert.equal(r.code, 2, r.stderr);
        assert.ok(r.ms < 5_000, `${r.ms} ms`);
        assert.match(r.stderr, new RegExp(`${file.replace(/\./g, "\\.")}:1:1: error: the file is \\d+ bytes; project files are limited to 1048576 bytes`));
      } finally {
        box.cleanup();
      }
    }
  });

  it("a huge --limit is a usage error, not a database error", () => {
    const box = project();
    try {
      const r = box.run(["history", "--limit", "99999999999999999999"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /expected a whole number/);
    } finally {
      box.cleanup();
    }
  });
});

describe("unicode", () => {
  it("unicode keys and values round-trip; composed and decomposed forms are distinct keys", () => {
    const box = project("module: core\nsettings:\n  ключ: значение\n  emoji🙂: 🚀\n  \u00e9: composed\n  e\u0301: decomposed\n  rtl: \u05e9\u05dc\u05d5\u05dd\n");
    try {
      const d = box.run(["deploy", "--yes"]);
      assert.equal(d.code, 0, d.stderr);
      const rows = box.json(["settings", "list"]).doc.settings;
      assert.deepEqual(Object.fromEntries(rows.map((r: any) => [r.key, r.value])), { ключ: "значение", "emoji🙂": "🚀", "\u00e9": "composed", "e\u0301": "decomposed", rtl: "\u05e9\u05dc\u05d5\u05dd" });
      const plan = box.json(["plan"]);
      assert.equal(plan.doc.actions.filter((a: any) => a.action !== "noop").length, 0, "no drift");
      assert.equal(box.run(["destroy", "--yes"]).code, 0);
    } finally {
      box.cleanup();
    }
  });
});

describe("odd shapes", () => {
  for (const [label, text, pattern] of [
    ["an empty file", "", /the project has no targets/],
    ["a list", "[]\n", /the project has no targets/],
    ["a number", "42\n", /the project has no targets/],
    ["a null key", "project: x\ntargets: {~: {}}\n", /slipway\.yaml:2:11: error: a mapping key is empty \(null\)/],
    ["a list as a key", "project: x\ntargets:\n  ? [a, b]\n  : {}\n", /slipway\.yaml:3:5: error: a mapping key must be plain text/],
    ["a list as a variable default", "project: x\ntargets: {dev: {}}\nvariables: {v: {default: [1, 2]}}\n", /variables\.v\.default: expected a string, a number or a boolean, got a list/],
    ["two documents", "project: x\n---\nproject: y\n", /YAML syntax: Source contains multiple documents/],
  ] as const) {
    it(`slipway.yaml holding ${label}`, () => {
      const box = sandbox({ "slipway.yaml": text });
      try {
        const r = box.run(["validate"]);
        assertNoCrash(r);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, pattern);
      } finally {
        box.cleanup();
      }
    });
  }

  it("an env file or application.env that is a folder", () => {
    const box = sandbox({ "slipway.yaml": ROOT.replace("    default: true\n", "    default: true\n    env_files: [site]\n"), "modules/core/module.yaml": "module: core\nhooks:\n  - { name: h, deploy: h.sh }\n", "modules/core/h.sh": "#!/usr/bin/env bash\n" });
    try {
      mkdirSync(join(box.dir, "site"));
      mkdirSync(join(box.dir, "application.env"));
      writeFileSync(join(box.dir, "modules/core/module.env"), "A=1\n");
      for (const args of [["validate"], ["deploy", "--yes"]]) {
        const r = box.run(args);
        assertNoCrash(r);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /site:1:1: error: is not a file/);
        assert.match(r.stderr, /application\.env:1:1: error: is not a file/);
      }
    } finally {
      box.cleanup();
    }
  });
});
