// onnxruntime called directly in a loop: one row per call, as each gateway request carries.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node");
const [file, seconds = "5"] = process.argv.slice(2);
const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: "all", intraOpNumThreads: 1 });
const row = Float32Array.from([5.1, 3.5, 1.4, 0.2]);
const latencies = [];
const end = performance.now() + Number(seconds) * 1000;
let n = 0;
while (performance.now() < end) {
  const t = performance.now();
  await session.run({ X: new ort.Tensor("float32", row, [1, 4]) });
  latencies.push(performance.now() - t);
  n++;
}
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(JSON.stringify({ calls: n, per_second: n / Number(seconds), p50_ms: q(0.5), p99_ms: q(0.99) }));
