// The quickstart's console: a small web app that Slipway runs at /apps/console/ behind its sign-in.
// It lists the project's endpoints (ENDPOINTS, from module.yaml) and queries one with the app's own
// token (SLIPWAY_TOKEN: the service principal app-console, which the endpoint grants CAN_QUERY).
// Slipway gives it PORT, SLIPWAY_SERVER, and the signed-in user in the X-Slipway-User header.
const http = require("node:http");

const endpoints = (process.env.ENDPOINTS || "").split(",").filter(Boolean);
const sample = { inputs: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] };
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

async function query(name) {
  try {
    const r = await fetch(`${process.env.SLIPWAY_SERVER}/serving-endpoints/${encodeURIComponent(name)}/invocations`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${process.env.SLIPWAY_TOKEN}` },
      body: JSON.stringify(sample),
    });
    return { status: r.status, body: await r.text() };
  } catch (e) {
    return { status: 0, body: e.message };
  }
}

function page(user, result) {
  // Links are relative: the app is served under /apps/console/ (X-Forwarded-Prefix).
  const rows = endpoints.map((e) => `<li><code>${escape(e)}</code> <a href="query?endpoint=${encodeURIComponent(e)}" id="query-${escape(e)}">Query ${escape(e)}</a></li>`).join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Quickstart console</title></head>
<body>
<h1>Quickstart console</h1>
<p id="user">Signed in as ${escape(user || "nobody")}</p>
<h2>Endpoints</h2>
<ul id="endpoints">${rows}</ul>
${result ? `<h2>Answer of ${escape(result.endpoint)}</h2><p id="status">HTTP ${result.status}</p><pre id="answer">${escape(result.body)}</pre>` : ""}
</body></html>`;
}

http
  .createServer(async (req, res) => {
    const url = new URL(req.url, "http://console");
    if (url.pathname === "/healthz") return res.end("ok");
    const user = req.headers["x-slipway-user"];
    let result;
    if (url.pathname === "/query") {
      const endpoint = url.searchParams.get("endpoint");
      if (!endpoints.includes(endpoint)) {
        res.writeHead(404, { "content-type": "text/plain" });
        return res.end("unknown endpoint\n");
      }
      result = { endpoint, ...(await query(endpoint)) };
    } else if (url.pathname !== "/") {
      res.writeHead(404, { "content-type": "text/plain" });
      return res.end("not found\n");
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(page(user, result));
  })
  .listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`console listening on 127.0.0.1:${process.env.PORT}`));
