// In-process A/B of the gateway hot path of several builds, in turns: each build's createGateway and
// Endpoints (from its dist/serving/) serving the same ONNX endpoint configuration, called with 32
// requests at a time (so the ONNX runtime batches as under wrk), with a token check that always
// passes and no inference log. Prints the process CPU time per request (µs) per build.
// No HTTP and no other process: this is the gateway's own code, compared without machine noise from
// load generators. Run through hotpath.sh, which makes the endpoint configuration.
//   node hotpath.mjs CONFIG.json NAME=DIST [NAME=DIST …]
import { readFileSync } from "node:fs";
const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const builds = Object.fromEntries(process.argv.slice(3).map((b) => b.split("=")));
const handlers = {};
for (const [name, dist] of Object.entries(builds)) {
  const { createGateway } = await import(`${dist}/serving/gateway.js`);
  const { Endpoints } = await import(`${dist}/serving/endpoints.js`);
  const endpoints = new Endpoints({ env: process.env, log() {} });
  await endpoints.apply(config);
  const identity = { user: "root", groups: [] };
  handlers[name] = createGateway({ endpoints, tokens: { identify: async () => identity }, log: { record() {} }, now: () => Date.now() });
}
const body = '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}';
const headers = { authorization: "Bearer x", "content-type": "application/json" };
const req = { method: "POST", path: "/serving-endpoints/iris-dev/invocations", header: (n) => headers[n], body };
async function run(h, n, conc = 32) {
  for (let i = 0; i < n / conc; i++) {
    const out = await Promise.all(Array.from({ length: conc }, () => h(req)));
    if (out[0].status !== 200) throw new Error(out[0].body);
  }
}
for (const h of Object.values(handlers)) await run(h, 64000); // warm-up
const samples = Object.fromEntries(Object.keys(handlers).map((k) => [k, []]));
const ROUNDS = Number(process.env.ROUNDS ?? 12), N = 32000;
const names = Object.keys(handlers);
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + r) % names.length];
    const c0 = process.cpuUsage();
    await run(handlers[name], N);
    const c = process.cpuUsage(c0);
    samples[name].push((c.user + c.system) / N);
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
for (const [k, v] of Object.entries(samples)) console.log(`${k}: median ${median(v).toFixed(2)} µs CPU per request (${v.map((x) => x.toFixed(1)).join(" ")})`);
process.exit(0);
