// The raw baseline with the model call and dynamic batching: bare-onnx-server.mjs, except that the
// requests whose bodies arrived in the same turn of the event loop go to onnxruntime as one
// `session.run` (as the gateway batches them, src/serving/runtimes/onnx.ts). With the model's cost
// shared by the batch, this is about the most any server of this model can answer per second here;
// the gateway's own overhead is what it adds to this.
//   node bare-onnx-batch-server.mjs PORT MODEL.onnx ORT_ROOT
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";

const [port = "0", model, root = process.cwd()] = process.argv.slice(2);
const ort = createRequire(join(root, "package.json"))("onnxruntime-node");
const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: "all", intraOpNumThreads: 1 });
const input = session.inputNames[0];
let batch = [];
async function runBatch() {
  const jobs = batch;
  batch = [];
  const width = jobs[0].rows[0].length;
  const flat = new Float32Array(jobs.reduce((n, j) => n + j.rows.length, 0) * width);
  let at = 0;
  for (const j of jobs) for (const row of j.rows) flat.set(row, (at++) * width);
  const out = await session.run({ [input]: new ort.Tensor("float32", flat, [at, width]) });
  let first = 0;
  for (const j of jobs) {
    const predictions = Object.fromEntries(
      Object.entries(out).map(([k, t]) => {
        const per = t.data.length / at;
        return [k, Array.from(t.data.subarray(first * per, (first + j.rows.length) * per), Number)];
      }),
    );
    first += j.rows.length;
    const body = JSON.stringify({ predictions });
    j.res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    j.res.end(body);
  }
}
const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const rows = JSON.parse(Buffer.concat(chunks).toString("utf8")).inputs;
    if (batch.length === 0) setImmediate(runBatch);
    batch.push({ rows, res });
  });
});
server.listen(Number(port), "127.0.0.1", () => console.log(server.address().port));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
