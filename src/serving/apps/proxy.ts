// The route /apps/NAME/...: who may pass, and the request streamed to a ready replica of the app.
// - WebSockets (any upgrade) are admitted like requests, then the client's and the replica's sockets
//   are joined; one signed in by the session cookie must come from the server's own origin.
// - The prefix is stripped: the app sees /... and gets the prefix in X-Forwarded-Prefix (and in
//   $SLIPWAY_APP_PREFIX); a redirect the app answers with an absolute path is put back under the prefix.
// - Sign-in: `Authorization: Bearer TOKEN` or the dashboard's session cookie `slipway_session` (its
//   value a token). Without a valid one, a browser (it accepts text/html) is sent to
//   /signin?next=<path>, any other client gets 401. With one, the user needs CAN_USE or CAN_MANAGE
//   on the app (config grants, the owner, grants made through the API; administrators always).
//   `anonymous: true` lets anyone in.
// - The app never sees the credentials: Authorization and the session cookie are removed, and the
//   user's name goes in X-Slipway-User (one sent by the client is dropped). A response that tries to
//   set the session cookie loses that header.
// - A request signed in by cookie that changes something (not GET/HEAD/OPTIONS) must come from the
//   server's own origin (Origin, else Referer): a page elsewhere cannot ride on the user's session.
import { Agent, request as httpRequest, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Permission } from "../../config/schema.js";
import type { Apps, LiveApp } from "./apps.js";
import type { AppReplica } from "./app-replica.js";

export const SESSION_COOKIE = "slipway_session";

/** Who a credential speaks for. */
export interface AppActor {
  name: string;
  kind: "user" | "service_principal" | "local";
  admin: boolean;
  groups: string[];
}

export interface AppAccess {
  /** The actor of a token, or undefined (unknown, revoked, expired). */
  authenticate(token: string, client: string): Promise<AppActor | undefined>;
  /** Grants made through the API on the app (its project, target, or the resource app.NAME). */
  apiGrants?(project: string, target: string, address: string): Promise<Permission[]>;
}

const USE_LEVELS = new Set(["CAN_USE", "CAN_MANAGE"]);
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection"]);
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Connections to the replicas are kept open between requests (a new TCP connection per request costs more than the proxying). */
const AGENT = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

export function grantAllows(actor: AppActor, g: Permission): boolean {
  if (!USE_LEVELS.has(g.level)) return false;
  if (g.user !== undefined) return actor.kind !== "service_principal" && g.user === actor.name;
  if (g.service_principal !== undefined) return actor.kind !== "user" && g.service_principal === actor.name;
  if (g.group !== undefined) return g.group === "users" || actor.groups.includes(g.group);
  return false;
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function withoutCookie(header: string | undefined, name: string): string | undefined {
  const kept = (header ?? "")
    .split(";")
    .filter((p) => p.trim() && p.split("=")[0]!.trim() !== name)
    .map((p) => p.trim());
  return kept.length ? kept.join("; ") : undefined;
}

function json(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function wantsHtml(req: IncomingMessage): boolean {
  return (req.method === "GET" || req.method === "HEAD") && /text\/html/.test(String(req.headers.accept ?? ""));
}

export interface AppProxy {
  (req: IncomingMessage, res: ServerResponse): void;
  /** The server's 'upgrade' event for paths under /apps/ (WebSockets). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** The request handler for paths under /apps/, and its upgrade handler. */
export function createAppProxy(apps: Apps, access: AppAccess, log: (line: string) => void): AppProxy {
  const cache = new Map<string, { actor: AppActor | undefined; until: number }>();
  async function identify(token: string, client: string): Promise<AppActor | undefined> {
    const now = performance.now();
    const hit = cache.get(token);
    if (hit && hit.until > now) return hit.actor;
    const actor = await access.authenticate(token, client);
    // Only valid tokens are remembered (for 5 s: a revocation takes effect within that), bounded.
    if (actor) {
      if (cache.size >= 10_000) cache.clear();
      cache.set(token, { actor, until: now + 5000 });
    }
    return actor;
  }

  // Decisions for (token, app configuration), kept 5 s like identities: grants made or revoked
  // through the API take effect within that, and the hot path does not query state per request.
  const decisions = new Map<string, { allowed: boolean; until: number }>();
  async function allowed(actor: AppActor, app: LiveApp, token: string): Promise<boolean> {
    if (actor.admin) return true;
    if (app.config.grants.some((g) => grantAllows(actor, g))) return true;
    const key = `${token}\0${app.config.name}\0${app.config.configVersion}`;
    const now = performance.now();
    const hit = decisions.get(key);
    if (hit && hit.until > now) return hit.allowed;
    const api = (await access.apiGrants?.(app.config.project, app.config.target, `app.${app.config.name}`)) ?? [];
    const decision = api.some((g) => grantAllows(actor, g));
    if (decisions.size >= 10_000) decisions.clear();
    decisions.set(key, { allowed: decision, until: now + 5000 });
    return decision;
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: Error) => {
      log(`apps: ${e.message}`);
      if (!res.headersSent) json(res, 500, { error_code: "INTERNAL_ERROR", message: "the app route failed" });
      else res.destroy();
    });
  };
  handler.upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(req, socket, head).catch((e: Error) => {
      log(`apps: ${e.message}`);
      socket.destroy();
    });
  };
  return handler;

  type Admission =
    | { ok: true; app: LiveApp; actor: AppActor | undefined; target: string; prefix: string; headers: IncomingHttpHeaders }
    | { ok: false; status: number; headers: Record<string, string>; body?: Record<string, unknown> };

  /** Who may pass, for a request or a WebSocket upgrade: the app, the path it sees and the headers it gets; or the answer. */
  async function admit(req: IncomingMessage, upgrade: boolean): Promise<Admission> {
    const refuse = (status: number, body?: Record<string, unknown>, headers: Record<string, string> = {}): Admission => ({ ok: false, status, body, headers });
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q);
    const m = /^\/apps\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) return refuse(404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: "no app here: apps are at /apps/NAME/" });
    const name = m[1]!;
    const prefix = `/apps/${name}`;
    if (m[2] === undefined) return refuse(301, undefined, { location: `${prefix}/${query}` });
    const app = apps.get(name);
    if (!app) {
      if (apps.isRestoring(name)) return refuse(503, { error_code: "TEMPORARILY_UNAVAILABLE", message: `app ${name} is starting` }, { "retry-after": "1" });
      return refuse(404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: `no app named ${name} on this server` });
    }

    const client = req.socket.remoteAddress ?? "unknown";
    const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ""))?.[1];
    const session = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const token = bearer ?? session;
    const actor = token ? await identify(token, client) : undefined;
    if (!app.config.anonymous) {
      if (!actor) {
        if (!upgrade && wantsHtml(req)) return refuse(302, undefined, { location: `/signin?next=${encodeURIComponent(url)}`, "cache-control": "no-store" });
        return refuse(401, { error_code: "UNAUTHENTICATED", message: token ? "the token is not valid (unknown, revoked or expired)" : `app ${name} needs a signed-in user: send Authorization: Bearer TOKEN` }, { "www-authenticate": 'Bearer realm="slipway"' });
      }
      if (!(await allowed(actor, app, token!))) {
        return refuse(403, { error_code: "PERMISSION_DENIED", message: `${actor.name} may not use app ${name}: that needs CAN_USE (or CAN_MANAGE)`, hint: `ask its owner to grant it: permissions: [{ level: CAN_USE, user: ${actor.name} }] on apps.${name}` });
      }
    }
    // A WebSocket opened by a page elsewhere carries the cookie too (cross-site WebSocket hijacking).
    if (!bearer && session && actor && (upgrade || !SAFE_METHODS.has(req.method ?? "GET")) && !sameOrigin(req)) {
      return refuse(403, { error_code: "PERMISSION_DENIED", message: "a request signed in by the session cookie that changes something (or opens a WebSocket) must come from this server's own pages (Origin or Referer)" });
    }
    return { ok: true, app, actor, target: `${m[2]}${query}`, prefix, headers: forwardHeaders(req.headers, prefix, actor, client) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const a = await admit(req, false);
    if (!a.ok) {
      if (a.body) return json(res, a.status, a.body, a.headers);
      res.writeHead(a.status, { ...a.headers, "content-length": "0" });
      return void res.end();
    }
    const { app, target, headers, prefix } = a;
    const first = apps.pick(app);
    if (!first) return json(res, 503, { error_code: "TEMPORARILY_UNAVAILABLE", message: `app ${app.config.name} has no ready replica; it is restarting` }, { "retry-after": "1" });
    // A request without a body can be tried again on another replica when the first could not be reached.
    const retryable = (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") && !req.headers["content-length"] && !req.headers["transfer-encoding"];
    forward(req, res, first, target, headers, prefix, retryable ? () => apps.pick(app, first) : undefined);
  }

  /** A WebSocket (or other) upgrade under /apps/NAME/: admitted like a request, then the two sockets are joined. */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const a = await admit(req, true);
    const answer = (status: number, headers: Record<string, string>, body = ""): void =>
      void socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n${Object.entries({ ...headers, "content-length": String(Buffer.byteLength(body)), connection: "close" }).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${body}`);
    if (!a.ok) return answer(a.status, { ...a.headers, ...(a.body ? { "content-type": "application/json" } : {}) }, a.body ? JSON.stringify(a.body) : "");
    const replica = apps.pick(a.app);
    if (!replica) return answer(503, { "retry-after": "1" });
    const headers = { ...a.headers, connection: "Upgrade", upgrade: String(req.headers.upgrade ?? "websocket") };
    const upstream = httpRequest({ host: "127.0.0.1", port: replica.port, method: req.method, path: a.target, headers });
    replica.inFlight++;
    let done = false;
    const finish = () => {
      if (!done) (done = true), replica.inFlight--;
    };
    upstream.on("upgrade", (r, upSocket, upHead) => {
      const lines = [`HTTP/1.1 ${r.statusCode ?? 101} ${r.statusMessage ?? "Switching Protocols"}`];
      for (let i = 0; i < r.rawHeaders.length; i += 2) if (r.rawHeaders[i]!.toLowerCase() !== "set-cookie") lines.push(`${r.rawHeaders[i]}: ${r.rawHeaders[i + 1]}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      upSocket.on("error", () => socket.destroy());
      socket.on("close", () => (upSocket.destroy(), finish()));
      upSocket.on("close", () => (socket.destroy(), finish()));
      upSocket.pipe(socket).pipe(upSocket);
    });
    upstream.on("response", (r) => {
      // The app refused the upgrade: its answer goes back as it is.
      finish();
      const body: Buffer[] = [];
      r.on("data", (c: Buffer) => body.push(c));
      r.on("end", () => answer(r.statusCode ?? 502, { "content-type": String(r.headers["content-type"] ?? "text/plain") }, Buffer.concat(body).toString("utf8")));
    });
    upstream.on("error", () => (finish(), answer(502, { "retry-after": "1" })));
    upstream.end();
  }

  function forward(req: IncomingMessage, res: ServerResponse, replica: AppReplica, target: string, headers: IncomingHttpHeaders, prefix: string, another?: () => AppReplica | undefined): void {
    replica.inFlight++;
    let done = false;
    const finish = () => {
      if (!done) (done = true), replica.inFlight--;
    };
    const upstream = httpRequest({ host: "127.0.0.1", port: replica.port, method: req.method, path: target, headers, agent: AGENT });
    upstream.on("response", (r) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) {
        if (v === undefined || HOP_BY_HOP.has(k)) continue;
        if (k === "set-cookie") {
          const kept = (v as string[]).filter((c) => c.split("=")[0]!.trim() !== SESSION_COOKIE);
          if (kept.length) out[k] = kept;
          continue;
        }
        if (k === "location" && typeof v === "string" && v.startsWith("/") && !v.startsWith("//") && !v.startsWith(`${prefix}/`)) out[k] = `${prefix}${v}`;
        else out[k] = v;
      }
      res.writeHead(r.statusCode ?? 502, out);
      r.pipe(res);
      r.on("end", finish);
      r.on("error", () => (finish(), res.destroy()));
    });
    upstream.on("error", (e: NodeJS.ErrnoException) => {
      finish();
      if (res.headersSent) return void res.destroy();
      // Refused or reset before an answer: the replica died or is dying.
      replica.suspect();
      const next = another?.();
      if (next) return forward(req, res, next, target, headers, prefix);
      json(res, 502, { error_code: "BAD_GATEWAY", message: `the app did not answer (${e.code ?? e.message}); it is restarting` }, { "retry-after": "1" });
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
      finish();
    });
    if (req.readableEnded) upstream.end();
    else req.pipe(upstream);
  }
}

function sameOrigin(req: IncomingMessage): boolean {
  const host = req.headers.host;
  const origin = req.headers.origin ?? req.headers.referer;
  if (!host || !origin) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function forwardHeaders(incoming: IncomingHttpHeaders, prefix: string, actor: AppActor | undefined, client: string): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(incoming)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k === "authorization" || k === "cookie" || k.startsWith("x-slipway-") || k.startsWith("x-forwarded-")) continue;
    headers[k] = v;
  }
  if (incoming["transfer-encoding"]) headers["transfer-encoding"] = incoming["transfer-encoding"];
  const cookie = withoutCookie(incoming.cookie, SESSION_COOKIE);
  if (cookie) headers.cookie = cookie;
  if (actor) headers["x-slipway-user"] = actor.name;
  headers["x-forwarded-prefix"] = prefix;
  headers["x-forwarded-for"] = client;
  headers["x-forwarded-proto"] = "http";
  if (incoming.host) headers["x-forwarded-host"] = incoming.host;
  return headers;
}
