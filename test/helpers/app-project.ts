// A small project with one app (a Node HTTP server) for the apps tests: it answers its health path,
// tells who it sees (X-Slipway-User, the prefix, whether credentials reached it), crashes on demand,
// calls the API with its own token, and echoes request bodies.
export const APP_SERVER = `const http = require("node:http");
const version = process.env.APP_VERSION || "1";
http
  .createServer((req, res) => {
    const send = (status, body) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json" });
      res.end(text);
    };
    const url = new URL(req.url, "http://app");
    if (url.pathname === "/healthz") return send(200, { ok: true });
    if (url.pathname === "/") return send(200, { app: process.env.SLIPWAY_APP, version, pid: process.pid });
    if (url.pathname === "/whoami")
      return send(200, { user: req.headers["x-slipway-user"] ?? null, prefix: req.headers["x-forwarded-prefix"] ?? null, authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null, version, has_token: !!process.env.SLIPWAY_TOKEN, secret_set: !!process.env.API_KEY });
    if (url.pathname === "/crash") {
      res.end("bye");
      console.log("crashing on request");
      setTimeout(() => process.exit(3), 10);
      return;
    }
    if (url.pathname === "/go-home") {
      res.writeHead(302, { location: "/whoami" });
      return res.end();
    }
    if (url.pathname === "/set-cookie") {
      res.writeHead(200, { "set-cookie": ["slipway_session=stolen; Path=/", "app_pref=dark; Path=/apps/web"] });
      return res.end("{}");
    }
    if (url.pathname === "/api") {
      const path = url.searchParams.get("path");
      fetch(process.env.SLIPWAY_SERVER + path, { method: url.searchParams.get("method") || "GET", headers: { authorization: "Bearer " + process.env.SLIPWAY_TOKEN } })
        .then(async (r) => send(200, { status: r.status, body: await r.json().catch(() => null) }))
        .catch((e) => send(500, { error: e.message }));
      return;
    }
    if (url.pathname === "/echo") {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => send(200, { method: req.method, body: Buffer.concat(chunks).toString("utf8") }));
      return;
    }
    send(404, { path: url.pathname });
  })
  .on("upgrade", (req, socket) => {
    // Not WebSocket framing: an echo over the upgraded connection is enough to see the tunnel.
    socket.write("HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: echo\\r\\nConnection: Upgrade\\r\\nX-User: " + (req.headers["x-slipway-user"] || "") + "\\r\\n\\r\\n");
    socket.pipe(socket);
  })
  .listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening on " + process.env.PORT + " with key " + process.env.API_KEY));
`;

export function appProject(options: { version?: string; replicas?: number; extra?: string } = {}): Record<string, string> {
  return {
    "slipway.yaml": `project: appdemo
include:
  - modules/*/module.yaml
variables:
  api_key:
    default: k3y-s3cr3t-value
    secret: true
targets:
  dev:
    default: true
`,
    "modules/core/module.yaml": `module: core
resources:
  apps:
    web:
      source: app
      command: node server.js
      health: /healthz
      replicas: ${options.replicas ?? 1}
      env:
        APP_VERSION: "${options.version ?? "1"}"
        API_KEY: \${var.api_key}
      permissions:
        - { level: CAN_USE, user: alice }
        - { level: CAN_USE, group: viewers }
${options.extra ?? ""}`,
    "modules/core/app/server.js": APP_SERVER,
  };
}
