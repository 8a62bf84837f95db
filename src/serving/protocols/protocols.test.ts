import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { joinBody, splitBody } from "./binary.js";
import { BadRequest, mlflowResponse, oipResponse, parseCsv, parseMlflowRequest, parseOipRequest, SERVER_VERSION, UnsupportedMediaType } from "./index.js";
import { mediaType } from "./mlflow.js";
import { oipTensors } from "./oip.js";
import type { TensorSpec } from "./tensors.js";

const X: TensorSpec[] = [{ name: "X", type: "float32", shape: [-1, 2] }];
const model = { inputs: X, outputs: [{ name: "p", type: "float32" as const, shape: [-1, 2] }] };

describe("MLflow scoring formats", () => {
  const rows = { data: [1, 2, 3, 4], shape: [2, 2] };
  it("reads dataframe_split, dataframe_records, instances and inputs into the same tensor; DataFrames are marked", () => {
    for (const [body, frame] of [
      [{ dataframe_split: { columns: ["a", "b"], index: [0, 1], data: [[1, 2], [3, 4]] } }, true],
      [{ dataframe_split: { data: [[1, 2], [3, 4]] } }, true],
      [{ dataframe_records: [{ a: 1, b: 2 }, { a: 3, b: 4 }] }, true],
      [{ instances: [[1, 2], [3, 4]] }, false],
      [{ instances: [{ X: [1, 2] }, { X: [3, 4] }] }, false],
      [{ inputs: [[1, 2], [3, 4]], params: { threshold: 0.5 }, extra: 1 }, false],
      [{ inputs: { X: [[1, 2], [3, 4]] } }, false],
    ] as const) {
      assert.deepEqual(parseMlflowRequest(body, X), { tensors: { X: rows }, frame }, JSON.stringify(body));
    }
    assert.deepEqual(parseMlflowRequest({ inputs: { a: [[1]], b: [[2, 3]] } }, X).tensors, { a: { data: [1], shape: [1, 1] }, b: { data: [2, 3], shape: [1, 2] } });
    assert.deepEqual(parseMlflowRequest({ inputs: [[[1], [2]]] }, X).tensors, { X: { data: [1, 2], shape: [1, 2, 1] } }, "nested lists of any depth");
  });

  it("gives a model with several inputs one DataFrame column each, by name", () => {
    const two: TensorSpec[] = [{ name: "a", type: "float32", shape: [-1] }, { name: "b", type: "int64", shape: [-1, 1] }];
    assert.deepEqual(parseMlflowRequest({ dataframe_records: [{ b: 1, a: 0.5 }, { b: 2, a: 1.5 }] }, two).tensors, { a: { shape: [2], data: [0.5, 1.5] }, b: { shape: [2, 1], data: [1, 2] } });
    assert.throws(() => parseMlflowRequest({ dataframe_split: { columns: ["a", "c"], data: [[1, 2]] } }, two), /no column "b"/);
  });

  it("says what is wrong", () => {
    const bad = (body: unknown, message: RegExp) => assert.throws(() => parseMlflowRequest(body, X), (e: unknown) => e instanceof BadRequest && e.status === 400 && message.test(e.message));
    bad([1, 2], /must be a JSON object/);
    bad({ data: [[1, 2]] }, /none of "dataframe_split"/);
    bad({ instances: [[1]], inputs: [[1]] }, /exactly one of/);
    bad({ instances: [[1, 2], [3]] }, /instances\[1\] must be a list of 2 numbers/);
    bad({ inputs: [[1, "x"]] }, /inputs\[0\]\[1\] is "x", not a number/);
    bad({ dataframe_split: { columns: [] } }, /needs "data"/);
    bad({ dataframe_split: '{"data": [[1, 2]]}' }, /must be an object/);
    bad({ dataframe_records: [] }, /non-empty list/);
    bad({ dataframe_records: [{ a: 1, b: "abc" }] }, /\[0\]\[1\] is "abc", not a number/);
    bad({ dataframe_records: [{ a: 1, b: 2 }, { a: 1 }] }, /\[1\] has no "b"/);
    bad({ dataframe_split: { columns: ["a"], data: [[1, 2]] } }, /1 column name\(s\) but rows of 2/);
    assert.throws(() => parseMlflowRequest({ inputs: [[1.5]] }, [{ name: "n", type: "int64", shape: [-1, 1] }]), /value 0 is 1.5, not an INT64/);
  });

  it("answers as MLflow's server: records for a DataFrame (outputs flattened), named nested lists for tensors; compact: one entry per row", () => {
    const out = { p: { data: new Float32Array([0.5, 0.25, 0.125, 1]), shape: [2, 2] } };
    assert.deepEqual(mlflowResponse(out, "mlflow", true), { predictions: [{ p: 0.5 }, { p: 0.25 }, { p: 0.125 }, { p: 1 }] });
    assert.deepEqual(mlflowResponse(out, "mlflow", false), { predictions: { p: [[0.5, 0.25], [0.125, 1]] } });
    assert.deepEqual(mlflowResponse(out, "compact", true), { predictions: [[0.5, 0.25], [0.125, 1]] });
    assert.deepEqual(mlflowResponse({ y: { data: [7, 8], shape: [2] } }, "compact", false), { predictions: [7, 8] });
    assert.deepEqual(mlflowResponse({ y: { data: new BigInt64Array([7n, 8n]), shape: [2] }, p: out.p }, "compact", false), { predictions: [{ y: 7, p: [0.5, 0.25] }, { y: 8, p: [0.125, 1] }] });
    assert.throws(() => mlflowResponse({ y: { data: [7, 8], shape: [2] }, p: out.p }, "mlflow", true), /different sizes/);
  });

  it("reads CSV as pandas reads DataFrame.to_csv(index=False)", () => {
    assert.deepEqual(parseCsv("a,b\n5.1,3.5\r\n6.7,3.0\n\n"), { columns: ["a", "b"], data: [[5.1, 3.5], [6.7, 3]] });
    assert.deepEqual(parseCsv('"a","b ""q"""\n"1",x\n'), { columns: ["a", 'b "q"'], data: [[1, "x"]] });
    assert.throws(() => parseCsv("a,b\n1\n"), /line 2 has 1 field\(s\), the header has 2/);
    assert.throws(() => parseCsv("a,b\n1,\n"), /column "b" is empty/);
    assert.throws(() => parseCsv(""), /empty/);
  });

  it("reads application/json (and no content type) and text/csv; 415 for anything else, as MLflow's server", () => {
    assert.equal(mediaType(undefined), "json");
    assert.equal(mediaType("application/json; charset=UTF-8"), "json");
    assert.equal(mediaType("text/csv"), "csv");
    for (const t of ["application/x-www-form-urlencoded", "text/plain;charset=UTF-8", "application/json; charset=latin-1", "application/json; format=pandas-split"]) {
      assert.throws(() => mediaType(t), (e: unknown) => e instanceof UnsupportedMediaType && e.status === 415, t);
    }
  });
});

describe("Open Inference Protocol", () => {
  it("reads named tensors, checks shapes against data and datatypes against the model", () => {
    const r = parseOipRequest({ id: "1", inputs: [{ name: "X", shape: [1, 2], datatype: "FP32", data: [[1, 2]] }] });
    assert.deepEqual(oipTensors(r, model), { X: { data: [1, 2], shape: [1, 2] } });
    const refused = (body: unknown, message: RegExp) => assert.throws(() => oipTensors(parseOipRequest(body), model), message);
    refused({ inputs: [{ name: "X", shape: [2, 2], datatype: "FP32", data: [1, 2] }] }, /needs 4 values, got 2/);
    refused({ inputs: [{ name: "X", shape: [1, 2], datatype: "FP64", data: [1, 2] }] }, /datatype FP64, the model takes FP32/);
    refused({ inputs: [{ name: "X", shape: [1, 2], datatype: "FLOAT", data: [1, 2] }] }, /FLOAT \(not an Open Inference Protocol datatype\)/);
    refused({ inputs: [{ name: "Y", shape: [1, 2], datatype: "FP32", data: [1, 2] }] }, /unknown input "Y"; the model takes X/);
    refused({ inputs: [{ name: "X", shape: [1, 2], datatype: "FP32", data: [1, 2] }], outputs: [{ name: "q" }] }, /unknown output "q"/);
    assert.throws(() => parseOipRequest({}), /needs "inputs"/);
    assert.throws(() => oipTensors(parseOipRequest({ inputs: [{ name: "n", shape: [1], datatype: "INT32", data: [2 ** 31] }] }), { inputs: [{ name: "n", type: "int32", shape: [-1] }], outputs: [] }), /not an INT32/);
  });

  it("binary tensor data: the JSON object, then each binary input's bytes in order; sizes must add up", () => {
    const json = JSON.stringify({ inputs: [{ name: "X", shape: [1, 2], datatype: "FP32", parameters: { binary_data_size: 8 } }] });
    const body = Buffer.concat([Buffer.from(json), Buffer.from(new Float32Array([1.5, -2]).buffer)]);
    const { json: head, binary } = splitBody(body, String(json.length));
    assert.equal(head, json);
    const tensors = oipTensors(parseOipRequest(JSON.parse(head), binary), model);
    assert.ok(tensors.X!.data instanceof Float32Array);
    assert.deepEqual([...tensors.X!.data], [1.5, -2]);
    assert.throws(() => splitBody(body, String(body.length + 1)), /Inference-Header-Content-Length is/);
    assert.throws(() => parseOipRequest(JSON.parse(json), Buffer.alloc(12)), /12 bytes after the JSON object .* add up to 8/);
    assert.throws(() => parseOipRequest(JSON.parse(json), Buffer.alloc(4)), /fewer than/);
    assert.throws(() => parseOipRequest(JSON.parse(json)), /no Inference-Header-Content-Length/);
    const wrongSize = JSON.parse(json.replace('"binary_data_size":8', '"binary_data_size":4'));
    assert.throws(() => oipTensors(parseOipRequest(wrongSize, Buffer.alloc(4)), model), /needs 8 bytes, binary_data_size is 4/);
  });

  it("answers outputs as JSON, or as binary data when binary_data_output or an output's binary_data asks", () => {
    const outputs = { p: { data: new Float32Array([0.5, 0.25]), shape: [1, 2] } };
    const asJson = oipResponse(parseOipRequest({ id: "q", inputs: [{ name: "X", shape: [1, 2], datatype: "FP32", data: [1, 2] }] }), outputs, model, "ep", "3");
    assert.deepEqual(asJson, { status: 200, body: { model_name: "ep", model_version: "3", id: "q", outputs: [{ name: "p", datatype: "FP32", shape: [1, 2], data: [0.5, 0.25] }] } });
    for (const request of [{ parameters: { binary_data_output: true } }, { outputs: [{ name: "p", parameters: { binary_data: true } }] }]) {
      const r = oipResponse(parseOipRequest({ inputs: [{ name: "X", shape: [1, 2], datatype: "FP32", data: [1, 2] }], ...request }), outputs, model, "ep", "3");
      const n = Number(r.encoded!.headers["inference-header-content-length"]);
      assert.equal(r.encoded!.headers["content-type"], "application/octet-stream");
      assert.deepEqual(JSON.parse(r.encoded!.bytes.subarray(0, n).toString()), { model_name: "ep", model_version: "3", outputs: [{ name: "p", datatype: "FP32", shape: [1, 2], parameters: { binary_data_size: 8 } }] });
      assert.deepEqual(r.encoded!.bytes.subarray(n), Buffer.from(new Float32Array([0.5, 0.25]).buffer));
    }
    const off = oipResponse(parseOipRequest({ inputs: [{ name: "X", shape: [1, 2], datatype: "FP32", data: [1, 2] }], parameters: { binary_data_output: true }, outputs: [{ name: "p", parameters: { binary_data: false } }] }), outputs, model, "ep", "3");
    assert.equal(off.encoded, undefined, "an output's binary_data overrides binary_data_output");
    assert.deepEqual(joinBody("{}", [new Uint8Array([1, 2])]), { bytes: Buffer.from([0x7b, 0x7d, 1, 2]), headerLength: 2 });
  });

  it("reports the version in package.json", () => {
    assert.equal(SERVER_VERSION, JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")).version);
  });
});
