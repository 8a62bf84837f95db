import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BadRequest, mlflowResponse, parseMlflowRequest, parseOipRequest } from "./protocols.js";

describe("MLflow scoring formats", () => {
  const rows = { data: [1, 2, 3, 4], shape: [2, 2] };
  it("reads dataframe_split, dataframe_records, instances and inputs into the same tensor", () => {
    for (const body of [
      { dataframe_split: { columns: ["a", "b"], data: [[1, 2], [3, 4]] } },
      { dataframe_records: [{ a: 1, b: 2 }, { a: 3, b: 4 }] },
      { instances: [[1, 2], [3, 4]] },
      { inputs: [[1, 2], [3, 4]] },
    ]) {
      assert.deepEqual(parseMlflowRequest(body, ["X"]).tensors, { X: rows });
    }
    assert.deepEqual(parseMlflowRequest({ inputs: { a: [[1]], b: [[2, 3]] } }, ["a", "b"]).tensors, { a: { data: [1], shape: [1, 1] }, b: { data: [2, 3], shape: [1, 2] } });
  });

  it("says what is wrong", () => {
    const bad = (body: unknown, message: RegExp) => assert.throws(() => parseMlflowRequest(body, ["X"]), (e: unknown) => e instanceof BadRequest && message.test(e.message));
    bad([1, 2], /must be a JSON object/);
    bad({ instances: [[1]], inputs: [[1]] }, /exactly one of/);
    bad({ instances: [[1, 2], [3]] }, /instances\[1\] must be a list of 2 numbers/);
    bad({ instances: [[1, "x"]] }, /instances\[0\]\[1\] is "x", not a number/);
    bad({ dataframe_split: { columns: [] } }, /needs "data"/);
  });

  it("writes one prediction per row", () => {
    assert.deepEqual(mlflowResponse({ y: { data: [1, 2, 3, 4], shape: [2, 2] } }), { predictions: [[1, 2], [3, 4]] });
    assert.deepEqual(mlflowResponse({ y: { data: [7, 8], shape: [2] } }), { predictions: [7, 8] });
  });
});

describe("Open Inference Protocol", () => {
  it("reads named tensors and checks shapes against data", () => {
    assert.deepEqual(parseOipRequest({ inputs: [{ name: "X", shape: [1, 2], datatype: "FP32", data: [1, 2] }] }).tensors, { X: { data: [1, 2], shape: [1, 2] } });
    assert.throws(() => parseOipRequest({ inputs: [{ name: "X", shape: [2, 2], datatype: "FP32", data: [1, 2] }] }), /needs 4 values, got 2/);
    assert.throws(() => parseOipRequest({}), /needs "inputs"/);
  });
});
