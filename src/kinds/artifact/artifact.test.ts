// Artifacts: compile (the package folder must exist; only archives take a version) and the provider
// (deploying records what the target's artifact store holds; deleting leaves published versions).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sha256 } from "../../util/hash.js";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import { artifactKind, type ArtifactSpec } from "./index.js";

const module = (body: string, extra: Record<string, string> = {}) => ({ "slipway.yaml": projectYaml(), "modules/platform/module.yaml": `module: platform\nresources:\n  artifacts:\n${body}`, ...extra });

describe("artifact: compile", () => {
  it("the block minus phase, with its module; names keep dots, dashes and case", () => {
    const c = compileFiles(module(`    Data.Tools-v2:\n      type: archive\n      path: assets\n      version: 1.2.3\n      retention: { keep_last: 3 }\n      phase: 0\n`, { "modules/platform/assets/a.txt": "a" }));
    assert.deepEqual(resourceAt<ArtifactSpec>(c, "artifact.Data.Tools-v2").spec, { module: "platform", type: "archive", path: "assets", version: "1.2.3", retention: { keep_last: 3 } });
  });

  it("reports a missing folder at `path` and a version on a wheel or npm package at its key", () => {
    const problems = compileProblems(module(`    lib:\n      type: python_wheel\n      path: libs/nope\n      version: 1.0.0\n    tools:\n      type: npm\n      path: tools\n      version: 2.0.0\n`, { "modules/platform/tools/package.json": "{}" }));
    assert.deepEqual(
      problems.map((p) => [p.where, p.message, p.hint]),
      [
        ["modules/platform/module.yaml:6:13", 'artifact "lib": folder "libs/nope" does not exist', "the path is relative to module.yaml"],
        ["modules/platform/module.yaml:7:7", 'artifact "lib": a python_wheel takes its version from its package metadata, not from `version`', "set the version in pyproject.toml (or setup.cfg / setup.py) and remove `version` here"],
        ["modules/platform/module.yaml:11:7", 'artifact "tools": an npm takes its version from its package metadata, not from `version`', "set the version in package.json and remove `version` here"],
      ],
    );
  });

  it("reports an unknown type with the allowed ones", () => {
    const problems = compileProblems(module(`    lib:\n      type: wheel\n      path: .\n`));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.where, "modules/platform/module.yaml:5:13");
    assert.match(problems[0]!.message, /"wheel" is not allowed; expected one of python_wheel, npm, archive/);
  });
});

describe("artifact: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());

  const spec = () => resourceAt<ArtifactSpec>(compileFiles(module(`    assets:\n      type: archive\n      path: .\n`)), "artifact.assets");
  const publish = (version: string, at: string) => {
    const data = Buffer.from(`content of ${version}`);
    return h.artifacts.publish({ artifact: "assets", version, type: "archive", package: "assets", filename: `assets-${version}.tar.gz`, sha256: sha256(data), size: data.length, created_at: at, published_by: "tester" }, data);
  };

  it("records that nothing is published yet, and says how to publish", async () => {
    const ctx = h.context();
    assert.deepEqual(await artifactKind.provider.create(ctx, spec()), { published_versions: 0, latest: null });
    assert.match(ctx.log.text(), /no version is published to dev yet \(slipway artifacts publish assets -t dev\)/);
  });

  it("records the published versions and the newest one on create and update", async () => {
    await publish("1.0.0", "2026-01-01T00:00:00.000Z");
    await publish("1.1.0", "2026-01-02T00:00:00.000Z");
    const a = spec();
    const outputs = await artifactKind.provider.update(h.context(), recordedFrom(a), a);
    assert.equal(outputs.published_versions, 2);
    assert.deepEqual((outputs.latest as { version: string }).version, "1.1.0");
  });

  it("delete leaves the published versions in the store", async () => {
    const a = spec();
    await artifactKind.provider.delete(h.context(), recordedFrom(a));
    assert.deepEqual((await h.artifacts.list("assets")).map((v) => v.version).sort(), ["1.0.0", "1.1.0"]);
  });
});
