// The dashboard's built files (web/, built by Vite into dist/web by `npm run build`), served by the
// server at /: hashed assets under /assets/ cached for a year, index.html for the dashboard's page
// routes (the single-page app routes in the browser), never a file outside the built folder. Only GET
// and HEAD of those paths come here; everything else (/api, the gateway's /serving-endpoints and /v2,
// /apps, /admin) never does, so the serving hot path pays one method check and one set lookup.
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The dashboard's page routes (first path segment); "" is the overview at /. */
export const PAGE_ROUTES = new Set(["", "signin", "deployments", "modules", "jobs", "runs", "models", "endpoints", "applications", "pipelines", "audit", "people", "tokens"]);

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
};

/** Where the built dashboard is: beside the CLI bundle (dist/web), or dist/web from the sources (tests under tsx). */
export function webRoot(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, "web"), join(here, "..", "web"), join(here, "..", "..", "dist", "web")]) {
    if (existsSync(join(dir, "index.html"))) return resolve(dir);
  }
  return undefined;
}

/** Headers every dashboard answer carries: no framing by other sites, no sniffing, scripts only from here. */
const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

/**
 * A handler for the dashboard's paths: answers and returns true, or returns false (not a dashboard
 * path: the caller goes on to the gateway). Without a built dashboard, page routes answer 503 with how to build it.
 */
export function webHandler(root: string | undefined): (req: IncomingMessage, res: ServerResponse) => boolean {
  const index = root ? readFileSync(join(root, "index.html")) : undefined;
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const path = (req.url ?? "/").split("?")[0]!;
    const first = path.split("/")[1] ?? "";
    const isAsset = first === "assets" || (path.lastIndexOf("/") === 0 && /^\/[a-z0-9-]+\.(svg|ico|png)$/.test(path));
    if (!isAsset && !PAGE_ROUTES.has(first)) return false;
    if (!root || !index) {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
      res.end("the dashboard is not built: run `npm run build` (it builds web/ into dist/web)\n");
      return true;
    }
    if (isAsset) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(path);
      } catch {
        decoded = "\0";
      }
      const file = resolve(root, "." + decoded);
      // Never outside the built folder: no "..", no encoded separators, no NUL.
      if (decoded.includes("\0") || decoded.includes("..") || !file.startsWith(root + sep)) return notFound(res);
      let size: number;
      try {
        const st = statSync(file);
        if (!st.isFile()) return notFound(res);
        size = st.size;
      } catch {
        return notFound(res);
      }
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "content-length": String(size),
        // Vite names assets by their content hash: they never change under the same name.
        "cache-control": first === "assets" ? "public, max-age=31536000, immutable" : "public, max-age=3600",
      });
      if (req.method === "HEAD") res.end();
      else createReadStream(file).pipe(res);
      return true;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": TYPES[".html"]!, "content-length": String(index.length), "cache-control": "no-cache" });
    res.end(req.method === "HEAD" ? undefined : index);
    return true;
  };
}

function notFound(res: ServerResponse): true {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
  res.end("not found\n");
  return true;
}
