// The raw baseline: a bare Node HTTP server answering every request with a constant JSON body.
//   node bare-server.mjs PORT [BURN_US]
// With BURN_US, it first spins that many µs of CPU per request: a calibration of what a given cost per
// request does to requests/s on the machine at hand (throughput.sh's BENCH_BURN).
import { createServer } from "node:http";
const body = JSON.stringify({ predictions: [[0.98, 0.015, 0.00006]] });
const burnMs = Number(process.argv[3] ?? 0) / 1000;
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (burnMs > 0) for (const until = performance.now() + burnMs; performance.now() < until; );
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(server.address().port));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
