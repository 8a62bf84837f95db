// Module settings: compiled from `settings:` (values as strings, secrets marked sensitive); the provider
// keeps one row of the settings table per setting.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import type { SettingSpec } from "./index.js";
import { settingKind } from "./index.js";

const project = (settings: string) => ({
  "slipway.yaml": projectYaml("variables:\n  catalog: { default: main }\n  password: { default: pa55-word, secret: true }\n"),
  "modules/core/module.yaml": `module: core\nsettings:\n${settings}`,
});

describe("setting: compile", () => {
  it("one resource per key, its value as a string (interpolated), located at its key", () => {
    const c = compileFiles(project("  catalog: ${var.catalog}\n  replicas: 3\n  enabled: true\n  v1.2-Name: x\n"));
    assert.deepEqual(resourceAt<SettingSpec>(c, "setting.core.catalog").spec, { module: "core", key: "catalog", value: "main" });
    assert.deepEqual(resourceAt<SettingSpec>(c, "setting.core.replicas").spec, { module: "core", key: "replicas", value: "3" });
    assert.deepEqual(resourceAt<SettingSpec>(c, "setting.core.enabled").spec, { module: "core", key: "enabled", value: "true" });
    assert.equal(resourceAt(c, "setting.core.v1.2-Name").name, "v1.2-Name", "keys keep dots, dashes and case");
    assert.deepEqual(resourceAt(c, "setting.core.replicas").location?.line, 4);
    assert.deepEqual(resourceAt(c, "module.core").dependsOn.filter((d) => d.startsWith("setting.")).length, 4);
  });

  it("a value holding a secret is marked sensitive (listings and plans mask it)", () => {
    const c = compileFiles(project("  dsn: postgres://u:${var.password}@db\n  plain: x\n"));
    assert.equal(resourceAt<SettingSpec>(c, "setting.core.dsn").spec.sensitive, true);
    assert.equal(resourceAt<SettingSpec>(c, "setting.core.plain").spec.sensitive, undefined);
    assert.ok(c.secrets.includes("pa55-word"));
  });

  it("reports an unknown variable at the value that names it", () => {
    const problems = compileProblems(project("  a: ${var.catalgo}\n"));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.where, "modules/core/module.yaml:3:6");
    assert.match(problems[0]!.message, /catalgo/);
    assert.match(problems[0]!.hint ?? "", /catalog/);
  });
});

describe("setting: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());

  it("create writes the row; update rewrites it (and moves it when its key changes); delete removes it, twice without error", async () => {
    const a = resourceAt<SettingSpec>(compileFiles(project("  a: one\n")), "setting.core.a");
    await settingKind.provider.create(h.context(), a);
    assert.deepEqual(await h.state.listSettings(), [{ module: "core", key: "a", value: "one" }]);

    const changed = { ...a, spec: { ...a.spec, value: "two" } };
    await settingKind.provider.update(h.context(), recordedFrom(a), changed);
    assert.deepEqual(await h.state.listSettings(), [{ module: "core", key: "a", value: "two" }]);

    const moved = { ...a, spec: { ...a.spec, key: "b" } };
    await settingKind.provider.update(h.context(), recordedFrom(changed), moved);
    assert.deepEqual(await h.state.listSettings(), [{ module: "core", key: "b", value: "one" }]);

    await settingKind.provider.delete(h.context(), recordedFrom(moved));
    await settingKind.provider.delete(h.context(), recordedFrom(moved));
    assert.deepEqual(await h.state.listSettings(), []);
  });

  it("create adopts a row that is already there", async () => {
    await h.state.putSetting("core", "x", "stale", "2020-01-01T00:00:00.000Z");
    const x = resourceAt<SettingSpec>(compileFiles(project("  x: fresh\n")), "setting.core.x");
    await settingKind.provider.create(h.context(), x);
    assert.deepEqual(await h.state.listSettings("core"), [{ module: "core", key: "x", value: "fresh" }]);
    await settingKind.provider.delete(h.context(), recordedFrom(x));
  });
});
