// The raw baseline: a bare Node HTTP server answering every request with a constant JSON body.
import { createServer } from "node:http";
const body = JSON.stringify({ predictions: [[0.98, 0.015, 0.00006]] });
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(server.address().port));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
