// Permissions: compile-project.ts makes `permission.<kind>.<name>` for every resource of a kind marked
// `permissioned` that has grants (the project's plus its own); the provider records them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import { KINDS } from "../index.js";
import type { PermissionSpec } from "./index.js";
import { permissionKind } from "./index.js";

describe("permission: compile", () => {
  it("the project's grants and the resource's own, on each permissioned kind; depends on its resource, in its phase", () => {
    const c = compileFiles({
      "slipway.yaml": projectYaml("permissions:\n  - { level: CAN_MANAGE, user: admin }\n"),
      "modules/m/module.yaml": `module: m
resources:
  jobs:
    train:
      command: "true"
      phase: 1
      permissions: [{ level: CAN_RUN, group: ml }]
  models:
    clf: {}
  schedules:
    nightly: { job: train, cron: "0 2 * * *", phase: 1 }
`,
    });
    const p = resourceAt<PermissionSpec>(c, "permission.job.train");
    assert.deepEqual(p.spec, { resource: "job.train", grants: [{ level: "CAN_MANAGE", user: "admin" }, { level: "CAN_RUN", group: "ml" }] });
    assert.equal(p.name, "job.train");
    assert.equal(p.phase, 1);
    assert.ok(p.dependsOn.includes("job.train"));
    assert.deepEqual(resourceAt<PermissionSpec>(c, "permission.model.clf").spec.grants, [{ level: "CAN_MANAGE", user: "admin" }]);
    assert.equal(c.resources.find((r) => r.address === "permission.schedule.nightly"), undefined, "schedules are not permissioned");
  });

  it("no grants anywhere, no permission resource", () => {
    const c = compileFiles({ "slipway.yaml": projectYaml(), "modules/m/module.yaml": "module: m\nresources:\n  models:\n    clf: {}\n" });
    assert.deepEqual(c.resources.filter((r) => r.kind === "permission"), []);
  });

  it("the permissioned kinds are the ones users grant on", () => {
    assert.deepEqual(KINDS.filter((k) => k.permissioned).map((k) => k.kind).sort(), ["app", "endpoint", "job", "model", "pipeline"]);
  });

  it("reports a grant naming nobody, or two principals, at the grant", () => {
    const problems = compileProblems({
      "slipway.yaml": projectYaml(),
      "modules/m/module.yaml": "module: m\nresources:\n  models:\n    clf:\n      permissions:\n        - { level: CAN_VIEW }\n        - { level: CAN_VIEW, user: a, group: b }\n",
    });
    assert.deepEqual(problems.map((p) => p.where), ["modules/m/module.yaml:6:11", "modules/m/module.yaml:7:11"]);
    for (const p of problems) assert.match(p.message, /exactly one of user, group or service_principal/);
  });
});

describe("permission: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());

  it("records the grants: create, update and delete change nothing outside state", async () => {
    const c = compileFiles({ "slipway.yaml": projectYaml("permissions:\n  - { level: CAN_VIEW, group: users }\n"), "modules/m/module.yaml": "module: m\nresources:\n  models:\n    clf: {}\n" });
    const p = resourceAt<PermissionSpec>(c, "permission.model.clf");
    assert.deepEqual(await permissionKind.provider.create(h.context(), p), {});
    assert.deepEqual(await permissionKind.provider.update(h.context(), recordedFrom(p), p), {});
    await permissionKind.provider.delete(h.context(), recordedFrom(p));
  });
});
