// Compute environments: compile (libraries are references to wheel artifacts, each listed once) and
// the provider (a real virtual environment under SLIPWAY_HOME/envs made with Debian's python3).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { InvalidInputError } from "../../errors.js";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import { PYTHON } from "../../../test/helpers/projects.js";
import { computeKind, type ComputeSpec } from "./index.js";

const module = (body: string) => ({
  "slipway.yaml": projectYaml(),
  "modules/platform/module.yaml": `module: platform\nresources:\n  artifacts:\n    dqm: { type: python_wheel, path: dqm }\n    assets: { type: archive, path: dqm }\n  compute:\n${body}`,
  "modules/platform/dqm/pyproject.toml": "[project]\nname = \"dqm\"\nversion = \"1.0.0\"\n",
});

describe("compute: compile", () => {
  it("the block minus phase, with its module; depends on the artifacts it installs", () => {
    const c = compileFiles(module(`    etl.Cluster-2:\n      python: /usr/bin/python3\n      libraries: ["dqm@1.0.0"]\n      pip: true\n`));
    const env = resourceAt<ComputeSpec>(c, "compute.etl.Cluster-2");
    assert.deepEqual(env.spec, { module: "platform", python: "/usr/bin/python3", libraries: ["dqm@1.0.0"], pip: true });
    assert.deepEqual(env.dependsOn, ["artifact.dqm"]);
  });

  it("reports a library listed twice, an unknown artifact, a non-wheel artifact and a malformed library, at the entry", () => {
    const problems = compileProblems(module(`    etl:\n      libraries: ["dqm@1.0.0", "dqm@1.1.0", "dmq@1.0.0", "assets@1", "dqm"]\n`));
    assert.deepEqual(
      problems.map((p) => [p.where, p.message]),
      [
        ["modules/platform/module.yaml:8:70", 'resources.compute.etl.libraries[4]: a library is ARTIFACT@VERSION, e.g. "dqm@2.6.10"'],
        ["modules/platform/module.yaml:8:32", 'compute "etl" lists dqm twice (libraries 0 and 1)'],
        ["modules/platform/module.yaml:8:45", "compute.etl refers to unknown artifact.dmq"],
        ["modules/platform/module.yaml:8:58", "compute.etl: assets is an archive artifact; only python_wheel artifacts can be installed into a compute environment"],
      ],
    );
  });

  it("another interpreter or pip in or out replaces a persistent environment; ephemeral changes are updates", () => {
    const base = resourceAt<ComputeSpec>(compileFiles(module(`    etl: { python: /usr/bin/python3 }\n`)), "compute.etl");
    const change = (spec: Partial<ComputeSpec>, from: Partial<ComputeSpec> = {}) => computeKind.changeKind!(recordedFrom({ ...base, spec: { ...base.spec, ...from } }), { ...base, spec: { ...base.spec, ...from, ...spec } });
    assert.equal(change({ pip: true }), "replace");
    assert.equal(change({ python: "/usr/bin/python3.99" }), "replace");
    assert.equal(change({ libraries: ["dqm@1.0.0"] }), "update");
    assert.equal(change({ ephemeral: true }), "update");
    assert.equal(change({ pip: true }, { ephemeral: true }), "update");
  });
});

describe("compute: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());
  const envDir = (name: string) => join(h.home, "envs", "unit", "dev", name);

  it("makes the environment under SLIPWAY_HOME/envs and records it; delete removes both", async () => {
    const env = resourceAt<ComputeSpec>(compileFiles(module(`    etl: { python: ${PYTHON} }\n`)), "compute.etl");
    const outputs = await computeKind.provider.create(h.context(), env);
    assert.equal(outputs.path, envDir("etl"));
    assert.equal(outputs.python, PYTHON);
    assert.match(String(outputs.python_version), /^3\.\d+/);
    assert.deepEqual(outputs.libraries, {});
    assert.ok(existsSync(join(envDir("etl"), "bin", "python")));
    // Adopted, not made twice.
    assert.deepEqual(await computeKind.provider.update(h.context(), recordedFrom(env, outputs), env), outputs);

    await computeKind.provider.delete(h.context(), recordedFrom(env, outputs));
    assert.ok(!existsSync(envDir("etl")));
    assert.ok(!existsSync(join(h.home, "envs", "unit")), "the project's and target's folders go once empty");
    const { compute } = h.services.environments({ env: {}, signal: new AbortController().signal, onLine: () => {}, onStart: () => {} });
    assert.equal(await compute.getEnvironment("etl"), undefined);
    await computeKind.provider.delete(h.context(), recordedFrom(env, outputs));
  });

  it("an ephemeral environment is only checked and recorded: no folder, libraries must exist", async () => {
    const env = resourceAt<ComputeSpec>(compileFiles(module(`    scratch: { python: ${PYTHON}, ephemeral: true }\n`)), "compute.scratch");
    const ctx = h.context();
    assert.deepEqual(await computeKind.provider.create(ctx, env), { ephemeral: true, libraries: {} });
    assert.match(ctx.log.text(), /scratch is ephemeral/);
    assert.ok(!existsSync(envDir("scratch")));

    const missing = { ...env, spec: { ...env.spec, libraries: ["dqm@9.9.9"] } };
    await assert.rejects(computeKind.provider.create(h.context(), missing), (e: unknown) => e instanceof InvalidInputError && /dqm 9\.9\.9 does not exist in the dev artifact store/.test(e.message));
    await computeKind.provider.delete(h.context(), recordedFrom(env));
  });
});
