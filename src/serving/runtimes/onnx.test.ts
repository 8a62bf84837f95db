import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { OnnxRuntime } from "./onnx.js";

const { onnx } = createRequire(import.meta.url)("onnx-proto");

/** y = x · [[1, 0], [0, 2]] + [0, 1], batch dimension free. */
function writeModel(file: string): void {
  const info = (name: string) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch" }, { dimValue: 2 }] } } } });
  const graph = onnx.GraphProto.create({
    name: "affine",
    node: [onnx.NodeProto.create({ opType: "Gemm", input: ["x", "W", "B"], output: ["y"] })],
    initializer: [onnx.TensorProto.create({ name: "W", dims: [2, 2], dataType: 1, floatData: [1, 0, 0, 2] }), onnx.TensorProto.create({ name: "B", dims: [2], dataType: 1, floatData: [0, 1] })],
    input: [info("x")],
    output: [info("y")],
  });
  writeFileSync(file, onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: "", version: 13 }], graph })).finish());
}

describe("OnnxRuntime", () => {
  let dir: string;
  let runtime: OnnxRuntime;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "slipway-onnx-"));
    writeModel(join(dir, "m.onnx"));
    runtime = new OnnxRuntime("affine@1", dir, { flavor: "onnx", file: "m.onnx", inputs: [{ name: "x", type: "float32", shape: [-1, 2] }], outputs: [{ name: "y", type: "float32", shape: [-1, 2] }] }, "affine", 1);
    await runtime.start();
  });
  after(async () => {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers concurrent requests batched together, each with its own rows", async () => {
    const requests = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? [[i, i], [i + 1, 0]] : [[i, -i]]));
    const answers = await Promise.all(requests.map((inputs) => runtime.invoke({ protocol: "mlflow", body: { inputs }, raw: "" })));
    answers.forEach((a, i) => {
      const expected = requests[i]!.map(([p, q]) => [p!, 2 * q! + 1]);
      assert.deepEqual((a.body as { predictions: number[][] }).predictions, expected);
    });
  });

  it("answers the Open Inference Protocol with shapes", async () => {
    const a = await runtime.invoke({ protocol: "oip", body: { id: "x", inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", data: [3, 4] }] }, raw: "" });
    assert.deepEqual(a.body, { model_name: "affine", model_version: "1", id: "x", outputs: [{ name: "y", shape: [1, 2], datatype: "FP32", data: [3, 9] }] });
  });

  it("rejects inputs of the wrong shape before running the model", async () => {
    await assert.rejects(runtime.invoke({ protocol: "mlflow", body: { inputs: [[1, 2, 3]] }, raw: "" }), /shape \[1,3\], the model expects \[-1,2\]/);
  });
});
