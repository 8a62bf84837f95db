// The module marker (`module.<name>`): compiled from module.yaml by compile-project.ts; its provider
// records when the module was deployed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { iso } from "../../clock.js";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import type { ModuleSpec } from "./index.js";
import { moduleKind } from "./index.js";

describe("module: compile", () => {
  it("a marker per module with its folder and dependencies; dependents depend on it; later phases follow their module's marker", () => {
    const c = compileFiles({
      "slipway.yaml": projectYaml(),
      "modules/core/module.yaml": "module: core\nsettings:\n  a: 1\n",
      "modules/app/module.yaml": "module: app\ndepends_on: [core]\nphase: 1\nsettings:\n  b: 2\nresources:\n  models:\n    late: { phase: 2 }\n",
    });
    const core = resourceAt<ModuleSpec>(c, "module.core");
    const app = resourceAt<ModuleSpec>(c, "module.app");
    assert.deepEqual(core.spec, { dir: "modules/core", depends_on: [] });
    assert.deepEqual(app.spec, { dir: "modules/app", depends_on: ["core"] });
    assert.equal(app.phase, 1);
    assert.deepEqual(new Set(app.dependsOn), new Set(["module.core", "setting.app.b"]), "a marker follows its own phase's resources and the modules it depends on");
    assert.deepEqual(new Set(resourceAt(c, "setting.app.b").dependsOn), new Set(["module.core"]));
    assert.deepEqual(new Set(resourceAt(c, "model.late").dependsOn), new Set(["module.core", "module.app"]), "a resource of a later phase waits for its module's marker");
    assert.deepEqual(c.moduleDeps.get("app"), ["core"]);
  });

  it("reports an unknown dependency at its list entry, with the nearest module", () => {
    const problems = compileProblems({ "slipway.yaml": projectYaml(), "modules/core/module.yaml": "module: core\n", "modules/app/module.yaml": "module: app\ndepends_on:\n  - cor\n" });
    assert.deepEqual(problems.map((p) => [p.where, p.message, p.hint]), [["modules/app/module.yaml:3:5", 'module "app" depends on unknown module "cor"', 'did you mean "core"?']]);
  });

  it("reports a cycle between modules at the first one's depends_on", () => {
    const problems = compileProblems({ "slipway.yaml": projectYaml(), "modules/a/module.yaml": "module: a\ndepends_on: [b]\n", "modules/b/module.yaml": "module: b\ndepends_on: [a]\n" });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.where, "modules/a/module.yaml:2:1");
    assert.match(problems[0]!.message, /modules depend on each other in a cycle: a -> b -> a/);
  });

  it("reports a module depending on one of a later phase", () => {
    const problems = compileProblems({ "slipway.yaml": projectYaml(), "modules/a/module.yaml": "module: a\nphase: 2\n", "modules/b/module.yaml": "module: b\ndepends_on: [a]\n" });
    assert.deepEqual(problems.map((p) => [p.where, p.message]), [["modules/b/module.yaml:1:9", "module.b (phase 0) depends on module.a (phase 2), which deploys later"]]);
  });

  it("reports a module name declared twice", () => {
    const problems = compileProblems({ "slipway.yaml": projectYaml(), "modules/a/module.yaml": "module: same\n", "modules/b/module.yaml": "module: same\n" });
    assert.deepEqual(problems.map((p) => [p.where, p.hint]), [["modules/b/module.yaml:1:9", "give each module a unique name"]]);
    assert.match(problems[0]!.message, /^module "same" is declared twice \(also in .*modules\/a\/module\.yaml\)$/);
  });
});

describe("module: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());

  it("records when the module was deployed, on create and again on update; delete is a no-op", async () => {
    const c = compileFiles({ "slipway.yaml": projectYaml(), "modules/core/module.yaml": "module: core\n" });
    const desired = resourceAt<ModuleSpec>(c, "module.core");
    assert.deepEqual(await moduleKind.provider.create(h.context(), desired), { deployed_at: iso(h.clock.now()) });
    h.clock.advance(60_000);
    assert.deepEqual(await moduleKind.provider.update(h.context(), recordedFrom(desired), desired), { deployed_at: iso(h.clock.now()) });
    await moduleKind.provider.delete(h.context(), recordedFrom(desired));
    await moduleKind.provider.delete(h.context(), recordedFrom(desired));
  });
});
