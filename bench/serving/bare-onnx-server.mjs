// The raw baseline with the model call: a bare Node HTTP server that does what any server of this
// model must do per request — read the body, JSON.parse it, run onnxruntime on the row, JSON-encode
// the outputs — and nothing else (no auth, no routing, no protocol checks, no inference log). The
// gateway's overhead is what it costs on top of this.
//   node bare-onnx-server.mjs PORT MODEL.onnx ORT_ROOT
// ORT_ROOT: the folder whose node_modules holds onnxruntime-node (the build under test's).
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";

const [port = "0", model, root = process.cwd()] = process.argv.slice(2);
const ort = createRequire(join(root, "package.json"))("onnxruntime-node");
const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: "all", intraOpNumThreads: 1 });
const input = session.inputNames[0];
const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const rows = JSON.parse(Buffer.concat(chunks).toString("utf8")).inputs;
    const out = await session.run({ [input]: new ort.Tensor("float32", Float32Array.from(rows.flat()), [rows.length, rows[0].length]) });
    const predictions = Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data, Number)]));
    const body = JSON.stringify({ predictions });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(Number(port), "127.0.0.1", () => console.log(server.address().port));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
