// In-process A/B of the gateway hot path of several builds, in turns: each build's createGateway and
// Endpoints (from its dist/serving/) serving the same ONNX endpoint configuration, called with 32
// requests at a time (so the ONNX runtime batches as under wrk), with a token check that always
// passes and no inference log. Prints the process CPU time per request (µs) per build and request
// kind: MLflow JSON (one row), OIP JSON and OIP binary tensor data (one row, and 64 rows), each run
// by every build that answers it with 200 (builds before the binary extension skip the binary kinds).
// No HTTP and no other process: this is the gateway's own code, compared without machine noise from
// load generators. Run through hotpath.sh, which makes the endpoint configuration.
//   node hotpath.mjs CONFIG.json NAME=DIST [NAME=DIST …]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const builds = Object.fromEntries(process.argv.slice(3).map((b) => b.split("=")));
const handlers = {};
// LOG=1: each build logs to a real inference table of its own (its InferenceLog, in a temp folder), so
// the figures include the log's whole cost (the process's CPU time counts every thread).
const logDir = process.env.LOG === "1" ? mkdtempSync(join(tmpdir(), "slipway-hotpath-")) : undefined;
const logs = [];
async function inferenceLog(dist, name) {
  if (!logDir) return { source: () => 0, record() {} };
  const { InferenceLog } = await import(`${dist}/serving/inference-log.js`);
  const file = join(logDir, `${name}.db`);
  const log = InferenceLog.open ? await InferenceLog.open(file) : new InferenceLog(file);
  logs.push(log);
  return log;
}
for (const [name, dist] of Object.entries(builds)) {
  const { createGateway } = await import(`${dist}/serving/gateway.js`);
  const { Endpoints } = await import(`${dist}/serving/endpoints.js`);
  // Each build as deployed, and with response_format compact (Slipway's earlier MLflow answer; a
  // build before response_format ignores it), to compare the MLflow JSON path like for like.
  for (const [key, c] of [[name, config], [`${name}+compact`, { ...config, responseFormat: "compact" }]]) {
    const endpoints = new Endpoints({ env: process.env, log() {} });
    await endpoints.apply(c);
    const identity = { user: "root", groups: [] };
    handlers[key] = createGateway({ endpoints, tokens: { identify: async () => identity }, log: await inferenceLog(dist, key), now: () => Date.now() });
  }
}
const headers = { authorization: "Bearer x", "content-type": "application/json" };
const name = config.name;
const rows = (n) => Array.from({ length: n }, (_, i) => [5.1, 3.5, 1.4, 0.2 + i / 100]);
const oipJson = (n) => JSON.stringify({ inputs: [{ name: "X", shape: [n, 4], datatype: "FP32", data: rows(n).flat() }] });
// As tritonclient.http sends it: json.dumps of the request, then the tensor's bytes; outputs in binary.
const oipBinary = (n) => {
  const head = Buffer.from(`{"inputs": [{"name": "X", "shape": [${n}, 4], "datatype": "FP32", "parameters": {"binary_data_size": ${16 * n}}}], "parameters": {"binary_data_output": true}}`);
  return { body: Buffer.concat([head, Buffer.from(new Float32Array(rows(n).flat()).buffer)]), headers: { authorization: "Bearer x", "inference-header-content-length": String(head.length) } };
};
// Bodies as the Node listener hands them over: bytes (a build before binary data decodes them the same way, in JSON.parse).
const request = (path, body, h = headers) => ({ method: "POST", path, header: (n) => h[n], body: Buffer.from(body) });
const KINDS = {
  "mlflow-json-1": request(`/serving-endpoints/${name}/invocations`, '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'),
  "oip-json-1": request(`/v2/models/${name}/infer`, oipJson(1)),
  "oip-binary-1": request(`/v2/models/${name}/infer`, oipBinary(1).body, oipBinary(1).headers),
  "oip-json-64": request(`/v2/models/${name}/infer`, oipJson(64)),
  "oip-binary-64": request(`/v2/models/${name}/infer`, oipBinary(64).body, oipBinary(64).headers),
};
const only = process.env.KINDS ? process.env.KINDS.split(",") : Object.keys(KINDS);
async function run(h, req, n, conc = 32) {
  for (let i = 0; i < n / conc; i++) {
    const out = await Promise.all(Array.from({ length: conc }, () => h(req)));
    if (out[0].status !== 200) throw new Error(String(out[0].body));
    // What the listener does with an answer: its length, and text encoded to bytes for the socket.
    for (const o of out) if (Buffer.byteLength(o.body) && typeof o.body === "string") Buffer.from(o.body);
  }
}
// Each build with each kind it answers.
const pairs = [];
for (const [build, h] of Object.entries(handlers)) {
  for (const kind of build.endsWith("+compact") ? only.filter((k) => k.startsWith("mlflow")) : only) {
    const out = await h(KINDS[kind]);
    if (out.status === 200) pairs.push([`${build} ${kind}`, h, KINDS[kind]]);
    else console.log(`${build} ${kind}: skipped (answers ${out.status})`);
  }
}
for (const [, h, req] of pairs) await run(h, req, 16000); // warm-up
const samples = Object.fromEntries(pairs.map(([k]) => [k, []]));
const ROUNDS = Number(process.env.ROUNDS ?? 12), N = 32000;
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < pairs.length; k++) {
    const [key, h, req] = pairs[(k + r) % pairs.length];
    const n = key.endsWith("-64") ? N / 8 : N;
    const c0 = process.cpuUsage();
    await run(h, req, n);
    // The log's work for these requests is part of their cost: wait until it is written.
    for (const log of logs) await log.flush();
    const c = process.cpuUsage(c0);
    samples[key].push((c.user + c.system) / n);
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
for (const [k, v] of Object.entries(samples)) console.log(`${k}: median ${median(v).toFixed(2)} µs CPU per request (${v.map((x) => x.toFixed(1)).join(" ")})${k.endsWith("-64") ? " [64 rows per request]" : ""}`);
for (const log of logs) await log.close();
if (logDir) rmSync(logDir, { recursive: true, force: true });
process.exit(0);
