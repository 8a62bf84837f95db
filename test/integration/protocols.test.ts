// Protocol fidelity against a real Slipway server (started by deploy, real onnxruntime) serving the
// ONNX iris model MLflow's reference answers were recorded with (test/fixtures/mlflow):
// - the MLflow scoring corpus: every body MLflow 3.6's own server answered 200 or 4xx, replayed;
//   status and JSON compared (numbers within a float tolerance), except where Slipway deliberately
//   differs (DIFFERS, documented in docs/serving.md#compatibility);
// - the Open Inference Protocol as tritonclient.http and KServe's client speak it, requests built
//   byte for byte as the binary tensor data extension describes: binary requests and answers, the
//   {"error"} body, GET /v2, versioned routes, model config, datatype refusal, model_name.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO, sandbox, type Sandbox } from "../helpers/cli.js";
import { IRIS_REGISTER_PY, withIrisModel } from "../helpers/projects.js";

const FIXTURES = join(REPO, "test", "fixtures", "mlflow");
const CORPUS = JSON.parse(readFileSync(join(FIXTURES, "mlflow-scoring-iris.json"), "utf8")) as { cases: Array<{ kind: string; request_body: string; mlflow_status: number; mlflow_body: string }> };

/** Cases where Slipway answers otherwise on purpose, and why (docs/serving.md#compatibility). */
const DIFFERS: Record<string, { status: number; why: string }> = {
  "pandas split, int columns": { status: 200, why: "Slipway converts integers for a float input; MLflow's onnx flavor hands int64 to the model, which refuses them" },
  "inputs ints": { status: 200, why: "the same conversion" },
};

const files = {
  "slipway.yaml": `project: proto
include: [modules/*/module.yaml]
targets:
  dev:
    default: true
permissions:
  - { level: CAN_MANAGE, user: "\${user}" }
`,
  "modules/m/module.yaml": `module: m
resources:
  jobs:
    register:
      source: src
      command: python3 register.py
      registers: { model: iris, path: model }
  models:
    iris: {}
  endpoints:
    iris-ep:
      phase: 1
      served: [{ model: iris, version: 1 }]
    iris-compact:
      phase: 1
      served: [{ model: iris, version: 1 }]
      response_format: compact
`,
  // The model MLflow served, as a Slipway model version.
  "modules/m/src/register.py": IRIS_REGISTER_PY,
};

/** Equal JSON, numbers within a relative tolerance (float32 values printed by Python and by JavaScript). */
function close(actual: unknown, expected: unknown, path = "$"): string | undefined {
  if (typeof expected === "number") {
    if (typeof actual !== "number") return `${path}: ${JSON.stringify(actual)}, expected a number`;
    return Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)) ? undefined : `${path}: ${actual} != ${expected}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: ${JSON.stringify(actual)?.slice(0, 80)}, expected a list of ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = close(actual[i], expected[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (expected && typeof expected === "object") {
    if (!actual || typeof actual !== "object" || Array.isArray(actual)) return `${path}: expected an object`;
    const [a, e] = [Object.keys(actual).sort(), Object.keys(expected).sort()];
    if (a.join() !== e.join()) return `${path}: keys ${a.join(",")}, expected ${e.join(",")}`;
    for (const k of e) {
      const d = close((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return actual === expected ? undefined : `${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`;
}

/** How an MLflow error compares: the same error_code and a message; MLflow's message text and stack_trace are its own. */
const errorShape = (body: Record<string, unknown>) => ({ error_code: body.error_code, message: typeof body.message });

/**
 * MLflow's recorded body as JSON. The recording cut long bodies (error bodies with a stack trace) at
 * 400 characters: for those, the error_code and message are read from the text.
 */
function recorded(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text);
  } catch {
    const code = /^\{"error_code": "([A-Z_]+)", "message": "/.exec(text);
    assert.ok(code, `an unreadable reference body: ${text.slice(0, 80)}`);
    return { error_code: code[1], message: "(cut)" };
  }
}

/** A body as tritonclient.http builds it: json.dumps of the request (", " and ": "), then the tensors' bytes. */
function binaryRequest(json: string, tensors: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const head = Buffer.from(json, "utf8");
  return { body: Buffer.concat([head, ...tensors]), headers: { "Inference-Header-Content-Length": String(head.length) } };
}

const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);
const ROWS = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3];
const EXPECTED = [0.9845117330551147, 0.015430239960551262, 5.798340862384066e-5, 0.0004709398781415075, 0.07791875302791595, 0.9216103553771973];

describe("protocol fidelity (MLflow scoring, Open Inference Protocol)", () => {
  let box: Sandbox;
  let url = "";
  let token = "";

  before(() => {
    box = sandbox(files);
    withIrisModel(box.dir);
    for (const args of [["deploy", "--phase", "0"], ["run", "register", "--wait"], ["deploy"]]) {
      const r = box.run(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    url = JSON.parse(readFileSync(join(box.home, "server.json"), "utf8")).url;
    token = box.json(["tokens", "create", "--user", "tester"]).doc.token;
  });
  after(() => box.cleanup());

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = { "content-type": "application/json" }, auth: string | null = token) =>
    fetch(`${url}${path}`, { method: "POST", headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...headers }, body });

  it("answers MLflow's 25 reference bodies with MLflow's status and JSON, except where documented", async (t) => {
    let sameStatus = 0;
    let sameJson = 0;
    const differences: string[] = [];
    for (const c of CORPUS.cases) {
      const csv = /text\/csv/.test(c.kind);
      const r = await post("/serving-endpoints/iris-ep/invocations", c.request_body, { "content-type": csv ? "text/csv" : "application/json" });
      const text = await r.text();
      const expected = recorded(c.mlflow_body);
      const deliberate = DIFFERS[c.kind];
      if (deliberate) {
        assert.equal(r.status, deliberate.status, `${c.kind}: ${text}`);
        differences.push(`${c.kind}: MLflow ${c.mlflow_status}, Slipway ${r.status} (${deliberate.why})`);
        continue;
      }
      assert.equal(r.status, c.mlflow_status, `${c.kind}: ${text}`);
      sameStatus++;
      const actual = JSON.parse(text);
      const diff = c.mlflow_status === 200 ? close(actual, expected) : close(errorShape(actual), errorShape(expected));
      assert.equal(diff, undefined, `${c.kind}: ${diff}\n${text}`);
      sameJson++;
    }
    t.diagnostic(`MLflow corpus: ${CORPUS.cases.length} cases; ${sameStatus} same status and same JSON: ${sameJson}; deliberate differences: ${differences.length}`);
    for (const d of differences) t.diagnostic(d);
    assert.equal(sameStatus + differences.length, CORPUS.cases.length);
  });

  it("MLflow route: 415 for content types MLflow does not read; /ping, /health, /version per server and per endpoint; compact answers rows", async () => {
    const form = await post("/serving-endpoints/iris-ep/invocations", '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(form.status, 415);
    assert.match(form.headers.get("content-type")!, /^text\/plain/);
    assert.match(await form.text(), /only supports the following content types/);
    assert.equal((await post("/serving-endpoints/iris-ep/invocations", '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', { "content-type": "application/json; charset=latin-1" })).status, 415);
    assert.equal((await post("/serving-endpoints/iris-ep/invocations", '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', { "content-type": "text/plain;charset=UTF-8" })).status, 415, "fetch's default for a string body");
    assert.equal((await post("/serving-endpoints/iris-ep/invocations", Buffer.from('{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'), {})).status, 200, "no content type reads as JSON");
    for (const path of ["/ping", "/health", "/serving-endpoints/iris-ep/ping", "/serving-endpoints/iris-ep/health"]) {
      const r = await fetch(`${url}${path}`);
      assert.deepEqual([r.status, await r.text()], [200, "\n"], path);
    }
    assert.equal(await (await fetch(`${url}/version`)).text(), JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version);
    assert.equal((await fetch(`${url}/serving-endpoints/nope/ping`)).status, 404);
    const compact = await post("/serving-endpoints/iris-compact/invocations", JSON.stringify({ dataframe_split: { columns: ["a", "b", "c", "d"], data: [ROWS.slice(0, 4), ROWS.slice(4)] } }));
    const rows = ((await compact.json()) as { predictions: number[][] }).predictions;
    assert.equal(close(rows, [EXPECTED.slice(0, 3), EXPECTED.slice(3)]), undefined);
    const csv = await post("/serving-endpoints/iris-compact/invocations", "a,b,c,d\n5.1,3.5,1.4,0.2\n", { "content-type": "text/csv" });
    assert.equal(close(await csv.json(), { predictions: [EXPECTED.slice(0, 3)] }), undefined);
  });

  it("OIP: a tritonclient-style binary request (binary_data_output) gets binary outputs, model_name the endpoint's", async () => {
    const json = '{"inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32", "parameters": {"binary_data_size": 32}}], "parameters": {"binary_data_output": true}}';
    const { body, headers } = binaryRequest(json, [f32(ROWS)]);
    const r = await post("/v2/models/iris-ep/infer", body, headers);
    assert.equal(r.status, 200);
    const bytes = Buffer.from(await r.arrayBuffer());
    const n = Number(r.headers.get("inference-header-content-length"));
    assert.equal(r.headers.get("content-length"), String(bytes.length));
    const header = JSON.parse(bytes.subarray(0, n).toString("utf8"));
    assert.deepEqual(header, { model_name: "iris-ep", model_version: "1", outputs: [{ name: "probabilities", datatype: "FP32", shape: [2, 3], parameters: { binary_data_size: 24 } }] });
    const probabilities = new Float32Array(bytes.buffer.slice(bytes.byteOffset + n, bytes.byteOffset + n + 24));
    assert.equal(close([...probabilities], EXPECTED), undefined);
    assert.equal(bytes.length, n + 24);
  });

  it("OIP: a KServe-style request (id, octet-stream, output asked for as JSON) and JSON requests with versioned routes", async () => {
    const json = JSON.stringify({ id: "k-1", inputs: [{ name: "X", shape: [1, 4], datatype: "FP32", parameters: { binary_data_size: 16 } }], outputs: [{ name: "probabilities", parameters: { binary_data: false } }] });
    const { body, headers } = binaryRequest(json, [f32(ROWS.slice(0, 4))]);
    const r = await post("/v2/models/iris-ep/versions/1/infer", body, { ...headers, "content-type": "application/octet-stream" });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("inference-header-content-length"), null, "no binary output, no binary answer");
    const doc = (await r.json()) as any;
    assert.deepEqual([doc.model_name, doc.model_version, doc.id, doc.outputs[0].datatype, doc.outputs[0].shape], ["iris-ep", "1", "k-1", "FP32", [1, 3]]);
    assert.equal(close(doc.outputs[0].data, EXPECTED.slice(0, 3)), undefined);
    const plain = await post("/v2/models/iris-ep/infer", JSON.stringify({ inputs: [{ name: "X", shape: [2, 4], datatype: "FP32", data: [ROWS.slice(0, 4), ROWS.slice(4)] }] }));
    assert.equal(close(((await plain.json()) as any).outputs[0].data, EXPECTED), undefined);
  });

  it("OIP: errors are {\"error\": …}; datatypes the model cannot take are refused; unknown versions are 404", async () => {
    const refusals: Array<[string, string | Buffer, Record<string, string>, number, RegExp]> = [
      ["/v2/models/iris-ep/infer", JSON.stringify({ inputs: [{ name: "X", shape: [1, 4], datatype: "FP64", data: ROWS.slice(0, 4) }] }), {}, 400, /datatype FP64, the model takes FP32/],
      ["/v2/models/iris-ep/infer", ...(Object.values(binaryRequest('{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP64", "parameters": {"binary_data_size": 32}}]}', [Buffer.from(new Float64Array(ROWS.slice(0, 4)).buffer)])) as [Buffer, Record<string, string>]), 400, /datatype FP64, the model takes FP32/],
      ["/v2/models/iris-ep/infer", ...(Object.values(binaryRequest('{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": 16}}]}', [f32(ROWS)])) as [Buffer, Record<string, string>]), 400, /32 bytes after the JSON object .* add up to 16/],
      ["/v2/models/iris-ep/infer", "{nope", {}, 400, /not valid JSON/],
      ["/v2/models/iris-ep/versions/7/infer", JSON.stringify({ inputs: [{ name: "X", shape: [1, 4], datatype: "FP32", data: ROWS.slice(0, 4) }] }), {}, 404, /does not serve version 7 \(it serves 1\)/],
      ["/v2/models/nope/infer", "{}", {}, 404, /no endpoint named nope/],
    ];
    for (const [path, body, headers, status, message] of refusals) {
      const r = await post(path, body, headers);
      const doc = (await r.json()) as Record<string, unknown>;
      assert.equal(r.status, status, JSON.stringify(doc));
      assert.deepEqual(Object.keys(doc), ["error"]);
      assert.match(doc.error as string, message);
    }
    const unauthenticated = await post("/v2/models/iris-ep/infer", "{}", {}, null);
    assert.deepEqual([unauthenticated.status, Object.keys((await unauthenticated.json()) as object)], [401, ["error"]]);
  });

  it("OIP: GET /v2 lists the extensions; metadata, ready and config, with and without a version", async () => {
    const get = async (path: string) => {
      const r = await fetch(`${url}${path}`);
      return [r.status, await r.json()] as [number, any];
    };
    assert.deepEqual(await get("/v2"), [200, { name: "slipway", version: JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version, extensions: ["binary_tensor_data", "model_configuration"] }]);
    const meta = { name: "iris-ep", versions: ["1"], platform: "onnxruntime_onnx", inputs: [{ name: "X", datatype: "FP32", shape: [-1, 4] }], outputs: [{ name: "probabilities", datatype: "FP32", shape: [-1, 3] }] };
    assert.deepEqual(await get("/v2/models/iris-ep"), [200, meta]);
    assert.deepEqual(await get("/v2/models/iris-ep/versions/1"), [200, meta]);
    assert.deepEqual(await get("/v2/models/iris-ep/versions/1/ready"), [200, { name: "iris-ep", ready: true }]);
    const config = { name: "iris-ep", platform: "onnxruntime_onnx", backend: "onnxruntime", max_batch_size: 0, input: [{ name: "X", data_type: "TYPE_FP32", dims: [-1, 4] }], output: [{ name: "probabilities", data_type: "TYPE_FP32", dims: [-1, 3] }] };
    assert.deepEqual(await get("/v2/models/iris-ep/config"), [200, config]);
    assert.deepEqual(await get("/v2/models/iris-ep/versions/1/config"), [200, config]);
    const [status, body] = await get("/v2/models/iris-ep/versions/2/config");
    assert.deepEqual([status, Object.keys(body)], [404, ["error"]]);
  });
});
