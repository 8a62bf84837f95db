// Paths a project names must stay inside the project folder, as written and after following symbolic
// links: hook scripts, job sources, artifact folders, env files (named or implicit) and includes.
// A model folder a job registers must stay inside the run's output folder. Refused at validation
// (exit 2, file:line:column, nothing run), and again when a run registers its model.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { registerFromRun } from "../../src/registry/register.js";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { assertNoCrash, ROOT, runTimed } from "./helpers.js";

/** A project plus a folder next to it ("outside") holding a script that leaves a marker when run. */
function withOutside(moduleYaml: string, rootYaml = ROOT): { box: Sandbox; outside: string; marker: string } {
  const box = sandbox({ "slipway.yaml": rootYaml, "modules/core/module.yaml": moduleYaml, "modules/core/ok.sh": "#!/usr/bin/env bash\ntrue\n" });
  const outside = join(box.dir, "..", "outside");
  const marker = join(outside, "ran");
  mkdirSync(join(outside, "src"), { recursive: true });
  writeFileSync(join(outside, "evil.sh"), `#!/usr/bin/env bash\ntouch ${JSON.stringify(marker)}\n`, { mode: 0o755 });
  writeFileSync(join(outside, "site.env"), "STOLEN=1\n");
  writeFileSync(join(outside, "src", "train.py"), "print('outside')\n");
  mkdirSync(join(outside, "mod"), { recursive: true });
  writeFileSync(join(outside, "mod", "module.yaml"), "module: intruder\n");
  return { box, outside, marker };
}

function refused(box: Sandbox, pattern: RegExp, commands: string[][] = [["validate"], ["plan"], ["deploy", "--yes"]]): void {
  for (const args of commands) {
    const r = box.run(args);
    assertNoCrash(r);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, pattern, `${args.join(" ")}`);
  }
  assert.equal(existsSync(join(box.home, "state.db")), false, "nothing touched");
}

const hookModule = (deploy: string) => `module: core\nhooks:\n  - name: setup\n    deploy: ${deploy}\n`;

describe("hook scripts", () => {
  it("a ../ path leaving the project is refused at validation and never run", () => {
    const { box, marker } = withOutside(hookModule("../../../outside/evil.sh"));
    try {
      refused(box, /modules\/core\/module\.yaml:4:13: error: hook "setup": deploy script "\.\.\/\.\.\/\.\.\/outside\/evil\.sh" leaves the project folder/);
      assert.equal(existsSync(marker), false, "the script outside never ran");
    } finally {
      box.cleanup();
    }
  });

  it("an absolute path is refused the same way", () => {
    const { box, outside, marker } = withOutside("");
    try {
      box.write({ "modules/core/module.yaml": hookModule(join(outside, "evil.sh")) });
      refused(box, /module\.yaml:4:13: error: hook "setup": deploy script ".*evil\.sh" is absolute/);
      assert.equal(existsSync(marker), false);
    } finally {
      box.cleanup();
    }
  });

  it("a symbolic link inside the module pointing outside is refused (file or folder)", () => {
    const { box, outside, marker } = withOutside(hookModule("deploy.sh"));
    try {
      symlinkSync(join(outside, "evil.sh"), join(box.dir, "modules/core/deploy.sh"));
      refused(box, /module\.yaml:4:13: error: hook "setup": deploy script "deploy\.sh" leads outside the project folder through a symbolic link/);
      box.write({ "modules/core/module.yaml": hookModule("scripts/evil.sh") });
      symlinkSync(outside, join(box.dir, "modules/core/scripts"));
      refused(box, /hook "setup": deploy script "scripts\/evil\.sh" leads outside the project folder through a symbolic link/);
      assert.equal(existsSync(marker), false);
    } finally {
      box.cleanup();
    }
  });

  it("../ inside the project is fine, and so is a link that stays inside", () => {
    const { box } = withOutside(hookModule("../shared/setup.sh"));
    try {
      box.write({ "modules/shared/setup.sh": "#!/usr/bin/env bash\necho shared\n" });
      symlinkSync("../shared/setup.sh", join(box.dir, "modules/core/linked.sh"));
      assert.equal(box.run(["validate"]).code, 0);
      box.write({ "modules/core/module.yaml": hookModule("linked.sh") });
      const r = box.run(["deploy", "--yes"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /shared/);
    } finally {
      box.cleanup();
    }
  });
});

describe("job sources, artifact folders, registered model folders", () => {
  it("job source ../ and via a link, artifact path ../, registers.path ../ are refused", () => {
    const { box, outside } = withOutside(`module: core
resources:
  models:
    clf: {}
  jobs:
    escape:
      source: ../../../outside/src
      command: python3 train.py
    linked:
      source: code
      command: python3 train.py
    registers_out:
      command: "true"
      registers: { model: clf, path: ../../../tmp/x }
    registers_abs:
      command: "true"
      registers: { model: clf, path: /tmp/x }
  artifacts:
    lib:
      type: archive
      path: ../../../outside
`);
    try {
      symlinkSync(join(outside, "src"), join(box.dir, "modules/core/code"));
      const r = box.run(["validate"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /module\.yaml:7:15: error: job "escape": source folder "\.\.\/\.\.\/\.\.\/outside\/src" leaves the project folder/);
      assert.match(r.stderr, /module\.yaml:10:15: error: job "linked": source folder "code" leads outside the project folder through a symbolic link/);
      assert.match(r.stderr, /module\.yaml:14:38: error: job "registers_out": registers\.path "\.\.\/\.\.\/\.\.\/tmp\/x" contains "\.\."/);
      assert.match(r.stderr, /module\.yaml:17:38: error: job "registers_abs": registers\.path "\/tmp\/x" is absolute/);
      assert.match(r.stderr, /module\.yaml:21:13: error: artifact "lib": folder "\.\.\/\.\.\/\.\.\/outside" leaves the project folder/);
      assert.doesNotMatch(r.stderr, /does not exist/, "a refused path is not also reported as missing");
      const run = box.run(["run", "escape", "--wait"]);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(existsSync(join(box.home, "state.db")), false);
    } finally {
      box.cleanup();
    }
  });

  it("a run whose model folder is a link out of its output folder registers nothing", () => {
    const { box, outside } = withOutside("module: core\n");
    try {
      mkdirSync(join(outside, "model"), { recursive: true });
      writeFileSync(join(outside, "model", "model.yaml"), "flavor: command\ncommand: python3 serve.py\n");
      box.write({
        "modules/core/module.yaml": `module: core
resources:
  models:
    clf: {}
  jobs:
    train:
      command: ln -s ${JSON.stringify(join(outside, "model"))} "$SLIPWAY_OUTPUT_DIR/model"
      registers: { model: clf, path: model }
`,
      });
      const r = box.run(["run", "train", "--from-source", "--wait"]);
      assertNoCrash(r);
      const id = /^(r\w+)\s+started/m.exec(r.stdout)?.[1];
      assert.ok(id, r.stdout + r.stderr);
      const results = box.json(["runs", "results", id]).doc;
      assert.equal(results.results.registration.registered, false, JSON.stringify(results));
      assert.match(results.results.registration.reason, /leads outside the run's output folder/);
      const versions = box.json(["models", "versions", "clf"]);
      assert.deepEqual(versions.doc.versions ?? versions.doc, [], JSON.stringify(versions.doc));
    } finally {
      box.cleanup();
    }
  });

  it("registration refuses a registers.path leaving the output folder even if validation was skipped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-register-"));
    try {
      const outputDir = join(dir, "runs", "r1", "output");
      mkdirSync(outputDir, { recursive: true });
      mkdirSync(join(dir, "tmp", "x"), { recursive: true });
      writeFileSync(join(dir, "tmp", "x", "model.yaml"), "flavor: command\ncommand: python3 serve.py\n");
      let added = 0;
      const models = { addVersion: async () => ++added, aliases: async () => [], setAlias: async () => {}, version: async () => undefined } as any;
      for (const path of ["../../../tmp/x", "model/../../../../tmp/x", join(dir, "tmp", "x")]) {
        const r = await registerFromRun({ models, registers: { model: "clf", path }, outputDir, outputs: {}, run: { id: "r1", job: "train", bundle: "b" }, at: "2025-01-01T00:00:00.000Z" });
        assert.equal(r.registered, false, path);
        assert.match(r.reason!, /contains "\.\."|is absolute/);
      }
      assert.equal(added, 0, "no version was registered");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("env files and includes", () => {
  it("env_files leaving the project, as written or through a link, are refused", () => {
    const { box, outside } = withOutside("module: core\n", `${ROOT.replace("    default: true\n", "    default: true\n    env_files: [../outside/site.env, linked.env]\n")}`);
    try {
      symlinkSync(join(outside, "site.env"), join(box.dir, "linked.env"));
      refused(box, /slipway\.yaml:7:17: error: env file "\.\.\/outside\/site\.env" leaves the project folder/, [["validate"]]);
      refused(box, /slipway\.yaml:7:\d+: error: env file "linked\.env" leads outside the project folder through a symbolic link/, [["validate"]]);
    } finally {
      box.cleanup();
    }
  });

  it("application.env and module.env that are links out of the project are refused", () => {
    const { box, outside } = withOutside("module: core\n");
    try {
      symlinkSync(join(outside, "site.env"), join(box.dir, "application.env"));
      symlinkSync(join(outside, "site.env"), join(box.dir, "modules/core/module.env"));
      refused(box, /application\.env:1:1: error: env file "application\.env" leads outside the project folder/, [["validate"]]);
      refused(box, /modules\/core\/module\.env:1:1: error: env file "modules\/core\/module\.env" leads outside/, [["validate"]]);
    } finally {
      box.cleanup();
    }
  });

  it("includes leaving the project (../, absolute, a linked folder) are refused", () => {
    const { box, outside } = withOutside("module: core\n", `project: demo\ninclude:\n  - modules/*/module.yaml\n  - ../outside/mod/module.yaml\n  - ${join("/", "tmp", "*.yaml")}\ntargets:\n  dev: {}\n`);
    try {
      symlinkSync(join(outside, "mod"), join(box.dir, "modules/linked"));
      const r = box.run(["validate"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /slipway\.yaml:4:5: error: include "\.\.\/outside\/mod\/module\.yaml" leaves the project folder/);
      assert.match(r.stderr, /slipway\.yaml:5:5: error: include "\/tmp\/\*\.yaml" is absolute/);
      assert.match(r.stderr, /slipway\.yaml:3:5: error: include "modules\/\*\/module\.yaml" matches "modules\/linked\/module\.yaml" leads outside the project folder through a symbolic link/);
      assert.doesNotMatch(r.stderr, /intruder/);
    } finally {
      box.cleanup();
    }
  });

  it("a link loop inside the project and overlapping includes: each module file is read once", () => {
    const box = sandbox({
      "slipway.yaml": 'project: demo\ninclude: ["modules/**/module.yaml", modules/core/module.yaml]\ntargets:\n  dev: {}\n',
      "modules/core/module.yaml": "module: core\n",
    });
    try {
      symlinkSync("..", join(box.dir, "modules/core/up"));
      symlinkSync(box.dir, join(box.dir, "modules/root"));
      const r = runTimed(box, ["validate"], 20_000);
      assertNoCrash(r);
      assert.equal(r.timedOut, false);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /1 module\(s\)/);
    } finally {
      box.cleanup();
    }
  });
});
