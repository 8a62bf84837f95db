// Serving endpoints: compile (every default applied once, name and traffic checks, the models served
// are references, the jobs registering them named) and the provider (versions resolved in the real
// registry, the configuration handed to a fake ServingControl, the inference table archived where the
// deploy said).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { iso } from "../../clock.js";
import { SlipwayError } from "../../errors.js";
import { compileFiles, compileProblems, kindHarness, projectYaml, recordedFrom, registerVersion, resourceAt, type KindHarness } from "../../../test/helpers/kinds.js";
import { endpointKind, type EndpointOutputs, type EndpointSpec } from "./index.js";
import { resolveServedAliases } from "./refresh.js";

const files = (endpoints: string, project = projectYaml("permissions:\n  - { level: CAN_MANAGE, user: admin }\n")) => ({
  "slipway.yaml": project,
  "modules/serving/module.yaml": `module: serving
resources:
  models:
    clf: {}
    other: {}
  jobs:
    train: { command: "true", registers: { model: clf, path: model } }
  endpoints:
${endpoints}`,
});

describe("endpoint: compile", () => {
  it("on a target with serving: { type: kubernetes }, the spec says where and with what: namespace, image, the objects' name, the module's plain variables and the names of its secret ones", () => {
    const project = `project: unit
include: [modules/*/module.yaml]
variables:
  token: { secret: true, default: "tok-secret-1" }
targets:
  dev: { default: true, serving: { type: kubernetes, namespace: ml, image: "reg.example/serve:1" } }
  local: { serving: { type: local } }
`;
    const c = compileFiles({ ...files(`    fraud:\n      served: [{ model: clf, version: 1 }]\n`, project), "modules/serving/module.env": "MODE=fast\n" });
    const k = resourceAt<EndpointSpec>(c, "endpoint.fraud").spec.kubernetes!;
    assert.equal(k.namespace, "ml");
    assert.equal(k.name, "unit-dev-fraud");
    assert.equal(k.image, "reg.example/serve:1");
    assert.equal(k.image_pull_policy, "IfNotPresent");
    assert.equal(k.secret, "unit-secrets");
    assert.equal(k.env.MODE, "fast");
    assert.equal(k.env.SLIPWAY_TARGET, "dev");
    assert.deepEqual(k.secret_keys, ["SLIPWAY_VAR_token"]);
    assert.ok(!JSON.stringify(k).includes("tok-secret-1"), "no secret value in the spec");
    const local = compileFiles(files(`    fraud:\n      served: [{ model: clf, version: 1 }]\n`, project), { target: "local" });
    assert.equal(resourceAt<EndpointSpec>(local, "endpoint.fraud").spec.kubernetes, undefined, "a local target's spec (and hash) is as before");
  });

  it("serving: kubernetes needs namespace and image; a kubernetes key on type local is an error at its line", () => {
    const problems = (serving: string) => compileProblems(files(`    fraud:\n      served: [{ model: clf, version: 1 }]\n`, `project: unit\ninclude: [modules/*/module.yaml]\ntargets:\n  dev:\n    default: true\n    serving: ${serving}\n`)).map((p) => p.message);
    assert.deepEqual(problems("{ type: kubernetes, namespace: ml }"), ["targets.dev.serving.image: serving of type kubernetes needs `image`"]);
    assert.deepEqual(problems("{ type: local, namespace: ml }"), ["targets.dev.serving.namespace: namespace applies to serving of type kubernetes, not local"]);
    assert.equal(problems("{ type: kubernetes, namespace: Not_A_Name, image: x }").length, 1);
  });

  it("applies every default: one replica, full sampling, 64 KiB bodies, MLflow's answers, the project's grants plus its own; the target's TTL", () => {
    const withTtl = "project: unit\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true, ttl: 2h }\npermissions:\n  - { level: CAN_MANAGE, user: admin }\n";
    const c = compileFiles(files(`    fraud-v2:\n      description: scores\n      served: [{ model: clf, alias: champion }]\n      permissions: [{ level: CAN_QUERY, group: analysts }]\n      phase: 0\n`, withTtl));
    const e = resourceAt<EndpointSpec>(c, "endpoint.fraud-v2");
    assert.deepEqual(e.spec, {
      module: "serving",
      description: "scores",
      served: [{ model: "clf", alias: "champion", registered_by: ["train"] }],
      replicas: { min: 1, max: 1 },
      inference_table: { sample: 1, max_body_bytes: 65_536 },
      response_format: "mlflow",
      access: [{ level: "CAN_MANAGE", user: "admin" }, { level: "CAN_QUERY", group: "analysts" }],
      ttl: "2h",
    });
    assert.deepEqual(e.dependsOn, ["model.clf"]);
    assert.ok(resourceAt(c, "permission.endpoint.fraud-v2"));
  });

  it("keeps what is given; no TTL when the target has none", () => {
    const c = compileFiles(files(`    ep:\n      served: [{ model: clf, version: 2, percent: 70 }, { model: other, version: 1, percent: 30 }]\n      replicas: { min: 2, max: 4 }\n      inference_table: { sample: 0.25 }\n      response_format: compact\n`));
    const e = resourceAt<EndpointSpec>(c, "endpoint.ep").spec;
    assert.deepEqual(e.replicas, { min: 2, max: 4 });
    assert.equal(e.response_format, "compact");
    assert.deepEqual(e.inference_table, { sample: 0.25, max_body_bytes: 65_536 });
    assert.deepEqual(e.served.map((s) => [s.model, s.version, s.percent, s.registered_by]), [["clf", 2, 70, ["train"]], ["other", 1, 30, []]]);
    assert.equal(e.ttl, undefined);
  });

  it("reports an invalid name at its key with a suggestion, percentages that do not add up, replicas the wrong way round", () => {
    const problems = compileProblems(files(`    Fraud_V2:\n      served: [{ model: clf, percent: 60 }, { model: other, percent: 30 }]\n      replicas: { min: 3, max: 2 }\n    ${"x".repeat(64)}:\n      served: [{ model: clf }]\n`));
    assert.deepEqual(
      problems.map((p) => [p.where, p.message, p.hint]),
      [
        ["modules/serving/module.yaml:9:5", `endpoint name "Fraud_V2" is invalid: only lowercase letters, digits and '-' are allowed, starting and ending with a letter or digit`, 'try "fraud-v2"'],
        ["modules/serving/module.yaml:10:15", 'endpoint "Fraud_V2": served percentages add up to 90, not 100', "make the `percent` values sum to 100"],
        ["modules/serving/module.yaml:11:17", 'endpoint "Fraud_V2": replicas.min (3) is above replicas.max (2)', undefined],
        ["modules/serving/module.yaml:12:5", `endpoint name "${"x".repeat(64)}" is invalid: 64 characters, at most 63 allowed`, `try "${"x".repeat(63)}"`],
      ],
    );
  });

  it("inference_table retention: keep (a duration) and keep_rows, recorded only when given; bad values reported where they are written", () => {
    const c = compileFiles(files(`    ep:\n      served: [{ model: clf }]\n      inference_table: { keep: 30d, keep_rows: 1000000 }\n    plain:\n      served: [{ model: clf }]\n      inference_table: { keep: 12h }\n`));
    assert.deepEqual(resourceAt<EndpointSpec>(c, "endpoint.ep").spec.inference_table, { sample: 1, max_body_bytes: 65_536, keep: "30d", keep_rows: 1_000_000 });
    assert.deepEqual(resourceAt<EndpointSpec>(c, "endpoint.plain").spec.inference_table, { sample: 1, max_body_bytes: 65_536, keep: "12h" });
    const problems = compileProblems(files(`    ep:\n      served: [{ model: clf }]\n      inference_table:\n        keep: 30 days\n        keep_rows: 0\n    zero:\n      served: [{ model: clf }]\n      inference_table: { keep: 0d }\n`));
    assert.deepEqual(
      problems.map((p) => [p.where, p.message]),
      [
        ["modules/serving/module.yaml:12:15", 'resources.endpoints.ep.inference_table.keep: a duration such as "90s", "30m", "2h" or "7d"'],
        ["modules/serving/module.yaml:13:20", "resources.endpoints.ep.inference_table.keep_rows: Too small: expected number to be >0"],
        ["modules/serving/module.yaml:16:32", 'endpoint "zero": inference_table.keep is 0d: every row would be removed as soon as it is written'],
      ],
    );
  });

  it("reports an unknown model at the entry that names it, and a version together with an alias", () => {
    const problems = compileProblems(files(`    ep:\n      served:\n        - { model: cfl }\n        - { model: clf, version: 1, alias: champion }\n`));
    assert.deepEqual(
      problems.map((p) => [p.where, p.message]),
      [
        ["modules/serving/module.yaml:12:11", "resources.endpoints.ep.served[1]: name either `version` or `alias`, not both"],
        ["modules/serving/module.yaml:11:20", "endpoint.ep refers to unknown model.cfl"],
      ],
    );
    assert.equal(problems[1]!.hint, 'did you mean "clf"?');
  });
});

describe("endpoint: provider", () => {
  let h: KindHarness;
  before(async () => (h = await kindHarness()));
  after(() => h.cleanup());
  const endpoint = (block: string) => resourceAt<EndpointSpec>(compileFiles(files(block)), "endpoint.ep");

  it("a model without versions fails with the job that registers it", async () => {
    await assert.rejects(endpointKind.provider.create(h.context(), endpoint(`    ep: { served: [{ model: clf }] }\n`)), (e: unknown) => {
      assert.ok(e instanceof SlipwayError);
      assert.equal(e.code, "model_version_missing");
      assert.match(e.message, /endpoint ep serves clf@latest: model clf has no versions in unit\/dev/);
      assert.equal(e.hint, "job train registers clf: run `slipway run train --wait -t dev` first");
      return true;
    });
    assert.deepEqual(h.serving.applied, []);
  });

  it("serves the versions it names: the files laid out once, the configuration handed to the server, its URL and expiry recorded", async () => {
    const v1 = await registerVersion(h.services.models, "clf", undefined, { "model/model.yaml": "a".repeat(64) });
    const v2 = await registerVersion(h.services.models, "clf");
    await h.services.models.setAlias("clf", "champion", v1, iso(h.clock.now()));
    const ep = endpoint(`    ep:\n      served: [{ model: clf, alias: champion }, { model: clf, version: ${v2} }]\n      inference_table: { sample: 0.5 }\n`);
    const outputs = (await endpointKind.provider.create(h.context(), ep)) as EndpointOutputs;
    assert.equal(h.serving.applied.length, 1);
    const config = h.serving.applied[0]!;
    assert.deepEqual(
      { ...config, served: config.served.map((s) => [s.model, s.version, s.percent, s.dir, s.manifest.flavor]) },
      {
        project: "unit",
        target: "dev",
        name: "ep",
        configVersion: 1,
        served: [["clf", v1, 50, `/fake-models/clf/${v1}`, "command"], ["clf", v2, 50, `/fake-models/clf/${v2}`, "command"]],
        // The configured grant, plus CAN_MANAGE for its owner: the user whose deploy created it.
        grants: [{ level: "CAN_MANAGE", user: "admin" }, { level: "CAN_MANAGE", user: "tester" }],
        inference: { sample: 0.5, maxBodyBytes: 65_536 },
        replicas: { min: 1, max: 1 },
        responseFormat: "mlflow",
      },
    );
    assert.deepEqual(h.serving.modelDirs[0], { model: "clf", version: v1, files: { "model/model.yaml": "a".repeat(64) }, source: h.archives.persisted_data.location });
    assert.equal(outputs.url, "http://fake-serving.invalid/serving-endpoints/ep/invocations");
    assert.equal(outputs.deployed_at, iso(h.clock.now()));
    assert.equal(outputs.expires_at, null);
    assert.equal(outputs.archive_root, h.archives.misc.location);
    assert.equal(outputs.owner, "tester");

    // An update is the next configuration version; moving the alias moves the plan's resolved version.
    await h.services.models.setAlias("clf", "champion", v2, iso(h.clock.now()));
    const planned = endpoint(`    ep:\n      served: [{ model: clf, alias: champion }]\n`);
    await resolveServedAliases([planned], h.services.models);
    assert.equal(planned.spec.served[0]!.resolved_version, v2);
    h.clock.advance(1000);
    const updated = (await endpointKind.provider.update(h.context(), recordedFrom(ep, outputs), planned)) as EndpointOutputs;
    assert.equal(updated.config!.configVersion, 2);
    assert.deepEqual(updated.config!.served.map((s) => [s.version, s.percent]), [[v2, 100]]);
    assert.equal(updated.deployed_at, iso(h.clock.now()));
  });

  it("a target TTL sets when the endpoint expires, measured on the clock", async () => {
    const ep = endpoint(`    ep: { served: [{ model: clf, version: 1 }] }\n`);
    const withTtl = { ...ep, spec: { ...ep.spec, ttl: "90m" } };
    const outputs = (await endpointKind.provider.create(h.context(), withTtl)) as EndpointOutputs;
    assert.equal(outputs.expires_at, iso(h.clock.now() + 90 * 60_000));
  });

  it("hands the server the inference table's retention in ms and rows, and where removed rows are archived", async () => {
    const ep = endpoint(`    ep:\n      served: [{ model: clf, version: 1 }]\n      inference_table: { keep: 30d, keep_rows: 500 }\n`);
    const outputs = (await endpointKind.provider.create(h.context(), ep)) as EndpointOutputs;
    assert.deepEqual(h.serving.applied.at(-1)!.inference, { sample: 1, maxBodyBytes: 65_536, keepMs: 30 * 86_400_000, keepRows: 500 });
    assert.equal(outputs.archive_root, h.archives.misc.location);
  });

  it("delete retires the endpoint and archives its table where the deploy recorded; a missing record archives to misc", async () => {
    const ep = endpoint(`    ep: { served: [{ model: clf, version: 1 }] }\n`);
    const outputs = (await endpointKind.provider.create(h.context(), ep)) as EndpointOutputs;
    h.serving.inferenceRows = 3;
    const ctx = h.context();
    await endpointKind.provider.delete(ctx, recordedFrom(ep, { ...outputs, archive_root: `${h.root}/elsewhere` }));
    assert.deepEqual(h.serving.retired.at(-1), { name: "ep", archive: `${h.root}/elsewhere` });
    assert.match(ctx.log.text(), /archived 3 inference row\(s\) to inference\/ep\.jsonl\.gz/);
    assert.equal(h.serving.live.has("ep"), false);

    await endpointKind.provider.delete(h.context(), recordedFrom(ep, {}));
    assert.deepEqual(h.serving.retired.at(-1), { name: "ep", archive: h.archives.misc.location });
  });

  it("delete sweeps the model folders no other recorded endpoint of the target serves", async () => {
    const ep = endpoint(`    ep: { served: [{ model: clf, version: 1 }] }\n`);
    const outputs = (await endpointKind.provider.create(h.context(), ep)) as EndpointOutputs;
    const other = { ...recordedFrom({ ...ep, address: "endpoint.other", name: "other" }, { config: { served: [{ dir: "/fake-models/clf/2" }] } }) };
    await h.state.commitPut(other);
    const ctx = h.context();
    await endpointKind.provider.delete(ctx, recordedFrom(ep, outputs));
    assert.deepEqual(h.serving.sweeps.at(-1), ["/fake-models/clf/2"], "what other endpoints serve is kept");
    assert.match(ctx.log.text(), /removed 1 local model folder\(s\) no endpoint serves/);
    await h.state.commitDelete("endpoint.other");
  });
});
