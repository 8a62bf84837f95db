// Module hooks: compile (scripts by path and sha256, the module environment's hash, declared order)
// and the provider (real scripts in the module folder; recorded scripts come back from the blob store).
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SlipwayError } from "../../errors.js";
import { sha256 } from "../../util/hash.js";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import { waitFor } from "../../../test/helpers/wait.js";
import type { HookSpec } from "./compile.js";
import { hookKind } from "./index.js";

const script = (body: string) => `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`;

describe("hook: compile", () => {
  it("each script by path and sha256 (its content goes along as an asset), the module folder and environment hash", () => {
    const deploy = script("echo up");
    const c = compileFiles({
      "slipway.yaml": projectYaml("variables:\n  region: { default: eu }\n"),
      "modules/core/module.yaml": "module: core\nhooks:\n  - name: setup\n    deploy: deploy.sh\n",
      "modules/core/deploy.sh": deploy,
      "modules/core/module.env": "A=1\n",
    });
    const hook = resourceAt<HookSpec>(c, "hook.core.setup");
    assert.equal(hook.name, "setup");
    assert.deepEqual(hook.spec.deploy, { path: "deploy.sh", sha256: sha256(deploy) });
    assert.equal(hook.spec.destroy, undefined);
    assert.equal(hook.spec.dir, "modules/core");
    assert.equal(hook.spec.module, "core");
    assert.match(hook.spec.env_sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(hook.assets, { [sha256(deploy)]: deploy });
    assert.equal(hook.runtime?.env.A, "1");
    assert.equal(hook.runtime?.env.SLIPWAY_VAR_region, "eu");
    assert.deepEqual(hook.location && hook.location.line, 3);
  });

  it("a changed module environment changes the hook's spec (so it runs again)", () => {
    const files = { "slipway.yaml": projectYaml(), "modules/core/module.yaml": "module: core\nhooks:\n  - name: setup\n    deploy: deploy.sh\n", "modules/core/deploy.sh": script("true") };
    const a = resourceAt(compileFiles({ ...files, "modules/core/module.env": "A=1\n" }), "hook.core.setup");
    const b = resourceAt(compileFiles({ ...files, "modules/core/module.env": "A=2\n" }), "hook.core.setup");
    assert.notEqual(a.specHash, b.specHash);
  });

  it("hooks run in declared order, after the module's declared resources of their phase; settings follow the last hook", () => {
    const c = compileFiles({
      "slipway.yaml": projectYaml(),
      "modules/core/module.yaml":
        "module: core\nhooks:\n  - name: first\n    deploy: s.sh\n  - name: second\n    deploy: s.sh\n  - name: later\n    deploy: s.sh\n    phase: 1\nsettings:\n  k: v\nresources:\n  models:\n    m: {}\n",
      "modules/core/s.sh": script("true"),
    });
    assert.deepEqual(resourceAt(c, "hook.core.first").dependsOn, ["model.m"]);
    assert.deepEqual(new Set(resourceAt(c, "hook.core.second").dependsOn), new Set(["model.m", "hook.core.first"]));
    assert.deepEqual(new Set(resourceAt(c, "hook.core.later").dependsOn), new Set(["model.m", "hook.core.second", "module.core"]));
    assert.deepEqual(resourceAt(c, "setting.core.k").dependsOn, ["hook.core.second"], "settings are written once the module's own-phase hooks succeeded");
  });

  it("reports a missing script at its field and a hook declared twice at the second", () => {
    const problems = compileProblems({
      "slipway.yaml": projectYaml(),
      "modules/a/module.yaml": "module: a\nhooks:\n  - name: h\n    deploy: d.sh\n    destroy: gone.sh\n  - name: h\n    deploy: missing.sh\n",
      "modules/a/d.sh": script("true"),
    });
    assert.deepEqual(
      problems.map((p) => [p.where, p.message.replace(/\(also in .*\)/, "(also in …)")]),
      [
        ["modules/a/module.yaml:5:14", 'hook "h": destroy script "gone.sh" does not exist'],
        ["modules/a/module.yaml:7:13", 'hook "h": deploy script "missing.sh" does not exist'],
        ["modules/a/module.yaml:6:5", "hook.a.h is declared twice (also in …)"],
      ],
    );
    assert.match(problems[2]!.message, /also in .*modules\/a\/module\.yaml:3\)/);
    assert.match(problems[0]!.hint!, /create modules\/a\/gone\.sh or fix the path/);
  });
});

describe("hook: provider", () => {
  let h: KindHarness;
  const events = () => (existsSync(join(h.root, "events")) ? readFileSync(join(h.root, "events"), "utf8").trim().split("\n") : []);
  const files = (deploy: string, destroy?: string) => ({
    "slipway.yaml": projectYaml("variables:\n  token: { default: t0p-s3cret, secret: true }\n"),
    "modules/core/module.yaml": `module: core\nhooks:\n  - name: setup\n    deploy: deploy.sh\n${destroy !== undefined ? "    destroy: destroy.sh\n" : ""}`,
    "modules/core/deploy.sh": deploy,
    ...(destroy !== undefined ? { "modules/core/destroy.sh": destroy } : {}),
  });
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());

  it("runs the deploy script in the module folder with the module environment, masks secrets, stores the script and reports its process group", async () => {
    const deploy = script(`echo "deploy in $(basename "$PWD") module=$SLIPWAY_MODULE token=$SLIPWAY_VAR_token"\necho deploy >> "${h.root}/events"`);
    const c = compileFiles(files(deploy), { dir: h.projectDir });
    const desired = resourceAt<HookSpec>(c, "hook.core.setup");
    const ctx = h.context();
    assert.deepEqual(await hookKind.provider.create(ctx, desired), { exit_code: 0 });
    assert.deepEqual(ctx.log.lines, [{ stream: "stdout", line: "deploy in core module=core token=***" }]);
    assert.deepEqual(events(), ["deploy"]);
    assert.equal((await h.blobs.get(`scripts/${sha256(deploy)}`))?.toString("utf8"), deploy);
    assert.equal(ctx.log.children.length, 2);
    assert.ok(typeof ctx.log.children[0] === "number" && ctx.log.children[1] === null, "the script's group, then null once it ended");
  });

  it("runs the recorded script from the blob store when the file changed or is gone; fails when neither has it", async () => {
    const deploy = script(`echo recorded >> "${h.root}/events"`);
    const c = compileFiles(files(deploy), { dir: h.projectDir });
    const desired = resourceAt<HookSpec>(c, "hook.core.setup");
    await hookKind.provider.create(h.context(), desired);
    writeFileSync(join(h.projectDir, "modules/core/deploy.sh"), script(`echo edited >> "${h.root}/events"`));
    rmSync(join(h.root, "events"), { force: true });
    await hookKind.provider.update(h.context(), recordedFrom(desired), desired);
    assert.deepEqual(events(), ["recorded"], "the recorded content ran, not the edited file");

    rmSync(join(h.projectDir, "modules/core/deploy.sh"));
    const neither = { ...desired, spec: { ...desired.spec, deploy: { path: "deploy.sh", sha256: sha256("never stored") } }, assets: {} };
    await assert.rejects(hookKind.provider.create(h.context(), neither), (e: unknown) => e instanceof SlipwayError && e.code === "hook_script_missing" && /neither on disk nor in the blob store/.test(e.message));
  });

  it("a failing deploy script fails the action with its exit code", async () => {
    const c = compileFiles(files(script('echo "about to fail" >&2\nexit 7')), { dir: h.projectDir });
    const ctx = h.context();
    await assert.rejects(hookKind.provider.create(ctx, resourceAt(c, "hook.core.setup")), (e: unknown) => e instanceof SlipwayError && e.code === "hook_failed" && /exited with code 7/.test(e.message));
    assert.deepEqual(ctx.log.lines, [{ stream: "stderr", line: "about to fail" }]);
  });

  it("delete runs the destroy script with the runtime it is given; no destroy script is a no-op; a failing one fails", async () => {
    rmSync(join(h.root, "events"), { force: true });
    const c = compileFiles(files(script("true"), script(`echo "destroy $SLIPWAY_MODULE" >> "${h.root}/events"`)), { dir: h.projectDir });
    const desired = resourceAt<HookSpec>(c, "hook.core.setup");
    await hookKind.provider.delete(h.context(), recordedFrom(desired), desired.runtime);
    assert.deepEqual(events(), ["destroy core"]);

    const none = compileFiles(files(script("true")), { dir: h.projectDir });
    await hookKind.provider.delete(h.context(), recordedFrom(resourceAt(none, "hook.core.setup")));

    const failing = compileFiles(files(script("true"), script("exit 3")), { dir: h.projectDir });
    await assert.rejects(hookKind.provider.delete(h.context(), recordedFrom(resourceAt(failing, "hook.core.setup"))), (e: unknown) => e instanceof SlipwayError && e.code === "hook_failed" && /destroy script destroy\.sh exited with code 3/.test(e.message));
  });

  it("an aborted apply stops a running script", async () => {
    const c = compileFiles(files(script(`touch "${h.root}/started"\nsleep 60`)), { dir: h.projectDir });
    const stop = new AbortController();
    const ctx = h.context({ signal: stop.signal });
    const running = hookKind.provider.create(ctx, resourceAt(c, "hook.core.setup"));
    await waitFor(() => existsSync(join(h.root, "started")), { what: "the script to start" });
    stop.abort("stopped");
    await assert.rejects(running, (e: unknown) => e instanceof SlipwayError && e.code === "hook_failed");
  });
});
