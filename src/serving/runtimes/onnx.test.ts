import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { mlflowCodec, oipCodec, parseOipRequest } from "../protocols/index.js";
import type { InvokeRequest } from "./runtime.js";
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

const compact = (body: unknown): InvokeRequest => ({ protocol: "mlflow", body, raw: "", codec: mlflowCodec(body, "compact") });
const oip = (body: unknown): InvokeRequest => ({ protocol: "oip", body, raw: "", codec: oipCodec(parseOipRequest(body), "affine-ep", "1") });

describe("OnnxRuntime", () => {
  let dir: string;
  let runtime: OnnxRuntime;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "slipway-onnx-"));
    writeModel(join(dir, "m.onnx"));
    runtime = new OnnxRuntime("affine@1", dir, { flavor: "onnx", file: "m.onnx", inputs: [{ name: "x", type: "float32", shape: [-1, 2] }], outputs: [{ name: "y", type: "float32", shape: [-1, 2] }] });
    await runtime.start();
  });
  after(async () => {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers concurrent requests batched together, each with its own rows", async () => {
    const requests = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? [[i, i], [i + 1, 0]] : [[i, -i]]));
    const answers = await Promise.all(requests.map((inputs) => runtime.invoke(compact({ inputs }))));
    answers.forEach((a, i) => {
      const expected = requests[i]!.map(([p, q]) => [p!, 2 * q! + 1]);
      assert.deepEqual((a.body as { predictions: number[][] }).predictions, expected);
    });
  });

  it("answers the Open Inference Protocol with shapes", async () => {
    const a = await runtime.invoke(oip({ id: "x", inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", data: [3, 4] }] }));
    assert.deepEqual(a.body, { model_name: "affine-ep", model_version: "1", id: "x", outputs: [{ name: "y", shape: [1, 2], datatype: "FP32", data: [3, 9] }] });
  });

  it("answers binary tensor data requests in binary, batched with JSON ones", async () => {
    const x = new Float32Array([3, 4, 5, 6]);
    const bin = (id: string): InvokeRequest => {
      const header = { id, inputs: [{ name: "x", shape: [2, 2], datatype: "FP32", parameters: { binary_data_size: 16 } }], parameters: { binary_data_output: true } };
      return { protocol: "oip", body: header, raw: "", codec: oipCodec(parseOipRequest(header, Buffer.from(x.buffer)), "affine-ep", "1") };
    };
    const [a, b, c] = await Promise.all([runtime.invoke(bin("a")), runtime.invoke(compact({ inputs: [[1, 1]] })), runtime.invoke(bin("b"))]);
    for (const [r, id] of [[a!, "a"], [c!, "b"]] as const) {
      const { bytes, headers } = r.encoded!;
      const n = Number(headers["inference-header-content-length"]);
      assert.deepEqual(JSON.parse(bytes.subarray(0, n).toString()), { model_name: "affine-ep", model_version: "1", id, outputs: [{ name: "y", datatype: "FP32", shape: [2, 2], parameters: { binary_data_size: 16 } }] });
      assert.deepEqual([...new Float32Array(bytes.buffer.slice(bytes.byteOffset + n, bytes.byteOffset + n + 16))], [3, 9, 5, 13]);
    }
    assert.deepEqual(b!.body, { predictions: [[1, 3]] });
  });

  it("rejects inputs of the wrong shape before running the model", async () => {
    await assert.rejects(runtime.invoke(compact({ inputs: [[1, 2, 3]] })), /shape \[1,3\], the model expects \[-1,2\]/);
  });
});
