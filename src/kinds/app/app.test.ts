// Apps: compile (every default applied once, the name, reserved variables, the source folder and its
// digest, secret env names, the compute environment as a reference) and the provider (the source
// bundled into the target's blob store, laid out, the configuration handed to a fake AppControl,
// the owner kept, old bundle folders swept, delete idempotent).
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, resourceAt, writeFiles, type FakeAppControl, type KindHarness } from "../../../test/helpers/kinds.js";
import { appKind, type AppOutputs, type AppSpec } from "./index.js";

const files = (apps: string, extra: Record<string, string> = {}, project = projectYaml("variables:\n  key: { default: s3cr3t-key, secret: true }\npermissions:\n  - { level: CAN_MANAGE, user: admin }\n")) => ({
  "slipway.yaml": project,
  "modules/core/module.yaml": `module: core
resources:
  compute:
    py: { python: python3 }
  apps:
${apps}`,
  "modules/core/ui/server.js": "console.log('hi')\n",
  ...extra,
});

describe("app: compile", () => {
  it("applies every default: health /, one replica, 60 s start-up, not anonymous, the project's grants plus its own", () => {
    const c = compileFiles(files(`    ui:\n      source: ui\n      command: node server.js\n      permissions: [{ level: CAN_USE, group: analysts }]\n`));
    const a = resourceAt<AppSpec>(c, "app.ui");
    assert.match(a.spec.source_digest, /^[0-9a-f]{64}$/);
    assert.deepEqual({ ...a.spec, source_digest: "<digest>" }, {
      module: "core",
      source: "ui",
      source_digest: "<digest>",
      command: "node server.js",
      health: "/",
      env: {},
      secret_env: [],
      replicas: 1,
      startup_timeout: "60s",
      anonymous: false,
      access: [{ level: "CAN_MANAGE", user: "admin" }, { level: "CAN_USE", group: "analysts" }],
    });
    assert.ok(resourceAt(c, "permission.app.ui"));
  });

  it("names env entries holding a secret, depends on its compute environment, and changes digest with its files", () => {
    const spec = (extra: Record<string, string> = {}) => resourceAt<AppSpec>(compileFiles(files(`    ui:\n      source: ui\n      command: node server.js\n      environment: py\n      env: { API_KEY: "\${var.key}", MODE: prod }\n`, extra)), "app.ui");
    const a = spec();
    assert.deepEqual(a.spec.secret_env, ["API_KEY"]);
    assert.ok(a.dependsOn.includes("compute.py"));
    assert.notEqual(spec({ "modules/core/ui/other.js": "1\n" }).spec.source_digest, a.spec.source_digest);
  });

  it("reports an invalid name, reserved variables, a missing source folder and one outside the project, where they are written", () => {
    const problems = compileProblems(files(`    Web_UI:\n      source: nope\n      command: x\n      env: { PORT: "80", SLIPWAY_TOKEN: t }\n    out:\n      source: ../../..\n      command: x\n`));
    assert.deepEqual(
      problems.map((p) => [p.where, p.message]),
      [
        ["modules/core/module.yaml:6:5", `app name "Web_UI" is invalid: only lowercase letters, digits and '-' are allowed, starting and ending with a letter or digit`],
        ["modules/core/module.yaml:9:14", 'app "Web_UI": env PORT is set by Slipway for every app'],
        ["modules/core/module.yaml:9:26", 'app "Web_UI": env SLIPWAY_TOKEN is set by Slipway for every app'],
        ["modules/core/module.yaml:7:15", 'app "Web_UI": source folder "nope" does not exist'],
        ["modules/core/module.yaml:11:15", 'app "out": source folder "../../.." leaves the project folder'],
      ],
    );
    assert.deepEqual(compileProblems(files(`    ui:\n      source: ui\n      command: x\n      environment: pyy\n`)).map((p) => p.where), ["modules/core/module.yaml:9:20"]);
  });
});

describe("app: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());

  it("bundles the source, lays it out, hands the configuration over, keeps the owner, sweeps old bundles; delete is idempotent", async () => {
    writeFiles(h.projectDir, files(`    ui:\n      source: ui\n      command: node server.js\n      env: { API_KEY: "\${var.key}" }\n      replicas: 2\n`));
    const compile = () => resourceAt<AppSpec>(compileFiles({}, { dir: h.projectDir }), "app.ui");
    const desired = compile();
    const apps = h.services.apps as FakeAppControl;
    const out = (await appKind.provider.create(h.context(), desired)) as AppOutputs;
    assert.equal(out.url, "http://127.0.0.1:7878/apps/ui/");
    assert.equal(out.owner, "tester");
    assert.equal(out.config.configVersion, 1);
    assert.equal(out.config.replicas, 2);
    assert.deepEqual(out.config.secretEnv, ["API_KEY"]);
    assert.deepEqual(out.config.grants, [{ level: "CAN_MANAGE", user: "admin" }, { level: "CAN_MANAGE", user: "tester" }]);
    assert.ok(existsSync(join(out.config.dir, "server.js")), "the bundle is laid out");
    assert.equal(apps.live.get("ui"), out.config);
    assert.ok(await h.blobs.has(`bundles/${out.bundle}.json`), "the bundle is in the target's blob store");

    writeFileSync(join(h.projectDir, "modules/core/ui/server.js"), "console.log('v2')\n");
    const changed = compile();
    assert.notEqual(changed.specHash, desired.specHash);
    const recorded = recordedFrom(desired, { ...out, owner: "someone-else" });
    const next = (await appKind.provider.update(h.context(), recorded, changed)) as AppOutputs;
    assert.equal(next.config.configVersion, 2);
    assert.equal(next.owner, "someone-else", "the first deployer stays the owner");
    assert.notEqual(next.bundle, out.bundle);
    assert.equal(existsSync(out.config.dir), false, "the previous bundle's folder is swept");

    await appKind.provider.delete(h.context(), recordedFrom(changed, next));
    assert.equal(apps.live.has("ui"), false);
    assert.equal(existsSync(next.config.dir), false);
    await appKind.provider.delete(h.context(), recordedFrom(changed, next));
  });
});
