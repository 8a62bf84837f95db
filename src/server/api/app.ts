// The HTTP API under /api/v1, as a Hono app: a fetch(Request) -> Response handler, testable with
// app.request() and no port; server/index.ts gives it /api/ on the server's one listener. Identity is
// checked once here, at the door (a bearer token -> an Actor; failures rate-limited per client
// address); every route then runs its handler, which asks the Authorizer. One error mapping (respond.ts)
// for every route; bodies are bounded; changes are appended to the audit log; log lines carry no
// secret (method, path without query, status, actor, duration).
import { Hono, type Context } from "hono";
import { z } from "zod";
import { iso } from "../../clock.js";
import { InvalidInputError, SlipwayError } from "../../errors.js";
import type { Actor } from "../auth/actor.js";
import { FailureLimiter } from "../auth/rate-limit.js";
import { openApiDocument } from "./openapi.js";
import { documentAnswer, errorAnswer, type Answer } from "./respond.js";
import { ROUTES, type ApiDeps, type Call, type Result, type Route, type Stream } from "./routes.js";
import { envelope } from "../../views/documents.js";
import { checkCsrf, clearedCookie, cookieValue, overHttps, SESSION_COOKIE } from "./session.js";
import { redactValue } from "../../util/redact.js";
import { projectAuditEntry } from "../project-documents.js";

export interface ApiOptions {
  /** Largest JSON body (default 1 MiB). */
  maxJsonBytes?: number;
  /** Largest uploaded source file (default 256 MiB). */
  maxFileBytes?: number;
  limiter?: FailureLimiter;
  /** One line per request: no query strings, bodies or tokens. */
  log?: (line: string) => void;
}

export const API_PREFIX = "/api/v1";

/** The client address Node's listener saw; "unknown" when the app is called without one (tests). */
function clientOf(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? "unknown";
}

function send(a: Answer): Response {
  return new Response(a.body + "\n", { status: a.status, headers: { "content-type": "application/json; charset=utf-8", ...a.headers } });
}

export function createApi(deps: ApiDeps, options: ApiOptions = {}): Hono {
  const maxJson = options.maxJsonBytes ?? 1024 * 1024;
  const maxFile = options.maxFileBytes ?? 256 * 1024 * 1024;
  const limiter = options.limiter ?? new FailureLimiter(deps.env.clock);
  const log = options.log ?? (() => {});
  const app = new Hono().basePath(API_PREFIX);
  let openapi: string | undefined;

  app.get("/openapi.json", () => new Response((openapi ??= JSON.stringify(openApiDocument(), null, 2)), { headers: { "content-type": "application/json; charset=utf-8" } }));

  const requestOf = (c: Context) => ({ method: c.req.method, url: c.req.url, header: (n: string) => c.req.header(n) });

  /**
   * The caller: a bearer token, else the dashboard's session cookie (whose changes must pass the CSRF
   * check first). Public routes (sign-in) get an anonymous actor, checked for CSRF and the rate limit only.
   */
  const authenticate = async (c: Context, route: Route): Promise<{ actor: Actor; token: string; viaCookie: boolean }> => {
    const client = clientOf(c);
    const wait = limiter.blockedFor(client);
    if (wait > 0) throw new SlipwayError("rate_limited", `too many failed authentications from ${client}; try again in ${wait} s`, { hint: "check the token (slipway login URL)", details: { retry_after_s: wait } });
    const header = c.req.header("authorization") ?? "";
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const cookie = bearer ? undefined : cookieValue(c.req.header("cookie"), SESSION_COOKIE);
    if (route.public) {
      checkCsrf(requestOf(c));
      return { actor: { name: "-", kind: "user", admin: false, groups: [], client }, token: "", viaCookie: false };
    }
    if (cookie) checkCsrf(requestOf(c));
    const token = bearer ?? cookie;
    const actor = token ? await deps.cp.identities.authenticate(token, iso(deps.env.clock.now()), client) : undefined;
    if (!actor || !token) {
      // A wrong token (or a stale session cookie) is a guess; a request without any is not, and
      // counting those would let any page that posts to the server block its users' address.
      if (token) limiter.fail(client);
      if (route.audit === "login") await deps.cp.audit.append({ actor: "", action: "login", client, outcome: "unauthenticated" });
      throw new SlipwayError("unauthenticated", token ? "the token is not valid (unknown, revoked or expired)" : "this API needs a bearer token (Authorization: Bearer swt_…)", { hint: "slipway login URL, or create a token with `slipway tokens create`" });
    }
    return { actor, token, viaCookie: cookie !== undefined };
  };

  for (const route of ROUTES) {
    app.on(route.method, route.path, async (c) => {
      const started = performance.now();
      let who = "-";
      let status = 500;
      try {
        const { actor, token, viaCookie } = await authenticate(c, route);
        who = actor.name;
        const raw = await readBody(c.req.raw, route.rawBody ? maxFile : maxJson);
        const input = parseInput(route, c, raw);
        const call: Call = { actor, token, params: c.req.param() as Record<string, string>, raw, deps, viaCookie, request: requestOf(c), limiter };
        if (route.progress && wantsProgress(c)) {
          // Progress events as they come, then the document (or the failure), one JSON object per line.
          status = 200;
          return streamAnswer(async (write) => {
            call.events = (event) => write(event);
            const result = await handleAudited(deps, route, call, input);
            if ("stream" in result) return result.stream(write);
            write({ document: redactValue(envelope(result.fields, result.error), result.secrets ?? []) as object });
          });
        }
        const result = await handleAudited(deps, route, call, input);
        if ("stream" in result) {
          status = 200;
          return result.sse ? sseAnswer(result.stream) : streamAnswer(result.stream);
        }
        const answer = documentAnswer(result.fields, result.error, result.secrets);
        answer.headers = { ...answer.headers, ...result.headers };
        status = answer.status;
        return send(answer);
      } catch (e) {
        const answer = errorAnswer(e);
        status = answer.status;
        // A session cookie that no longer works (expired, revoked) is cleared: the browser stops sending it.
        if (status === 401 && cookieValue(c.req.header("cookie"), SESSION_COOKIE) && !c.req.header("authorization")) {
          answer.headers = { ...answer.headers, "set-cookie": clearedCookie(overHttps(c.req.url, c.req.header("x-forwarded-proto"))) };
        }
        return send(answer);
      } finally {
        log(`api ${c.req.method} ${new URL(c.req.url).pathname} ${status} ${who} ${(performance.now() - started).toFixed(1)} ms`);
      }
    });
  }

  app.notFound((c) => send(errorAnswer(new SlipwayError("unknown_route", `no API route for ${c.req.method} ${new URL(c.req.url).pathname}`, { hint: `the routes are listed in ${API_PREFIX}/openapi.json` }))));
  app.onError((e) => send(errorAnswer(e)));
  return app;
}

/** Runs a route's handler and appends its audit entry (a change's outcome: ok, or the error code). */
async function handleAudited(deps: ApiDeps, route: Route, call: Call, input: unknown): Promise<Result | Stream> {
  let result: Result | Stream;
  try {
    result = await route.handle(call, input);
  } catch (e) {
    if (route.audit) await audit(deps, route, call, input, undefined, (e as { code?: string }).code ?? "internal");
    throw e;
  }
  if (route.audit && !("stream" in result)) await audit(deps, route, call, input, result.fields, result.error?.code ?? "ok");
  return result;
}

/** The client asked for progress: `Accept: application/x-ndjson`. */
function wantsProgress(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("application/x-ndjson");
}

async function audit(deps: ApiDeps, route: Route, call: Call, input: any, fields: any, outcome: string): Promise<void> {
  const p = call.params;
  const entry = projectAuditEntry(route.audit!, { project: p.project, target: input?.target }, { ...p, job: input?.job }, fields, outcome);
  await deps.cp.audit.append({ ...entry, actor: call.actor.name, client: call.actor.client });
}

/** The request body, refused (413) past `limit` bytes without reading the rest. */
async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  if (request.method === "GET" || request.method === "HEAD" || !request.body) return new Uint8Array();
  const tooLarge = () => new SlipwayError("request_too_large", `request bodies of this route are limited to ${limit} bytes`, { hint: "send less (upload large files one by one)" });
  if (Number(request.headers.get("content-length") ?? 0) > limit) throw tooLarge();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function parseInput(route: Route, c: Context, raw: Uint8Array): unknown {
  if (!route.input) return {};
  const schema = route.input();
  let value: unknown;
  if (route.method === "GET" || route.method === "DELETE") {
    const queries = c.req.queries() ?? {};
    const obj: Record<string, unknown> = {};
    for (const [key, values] of Object.entries(queries)) {
      const field = schema.shape[key];
      obj[key] = field && unwrap(field) instanceof z.ZodArray ? values : values[values.length - 1];
    }
    value = obj;
  } else {
    const text = Buffer.from(raw).toString("utf8");
    try {
      value = text.trim() ? JSON.parse(text) : {};
    } catch {
      throw new InvalidInputError([{ message: "the request body is not JSON", hint: "send Content-Type: application/json with a JSON object" }], "invalid_request");
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidInputError(parsed.error.issues.map((i) => ({ message: `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`, hint: `see ${API_PREFIX}/openapi.json for ${route.method} ${route.path}` })), "invalid_request");
  }
  return parsed.data;
}

function unwrap(t: z.ZodType): z.ZodType {
  let cur = t as z.ZodType & { unwrap?: () => z.ZodType };
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault) cur = (cur as z.ZodOptional<z.ZodType>).unwrap() as typeof cur;
  return cur;
}

function streamAnswer(run: (write: (line: object) => void) => Promise<void>): Response {
  const encoder = new TextEncoder();
  // A client that goes away (Ctrl-C) must not break the work: writes after that are dropped.
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const write = (line: object) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(JSON.stringify(line) + "\n"));
        } catch {
          open = false;
        }
      };
      try {
        await run(write);
      } catch (e) {
        write({ failure: JSON.parse(errorAnswer(e).body) });
      }
      if (open) controller.close();
    },
    cancel() {
      open = false;
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/x-ndjson; charset=utf-8" } });
}

/**
 * Server-sent events (text/event-stream) for a browser's EventSource: each object as one `data:` line,
 * a comment every 15 s so proxies keep the connection, and an `end` event when the stream is done.
 */
function sseAnswer(run: (write: (line: object) => void) => Promise<void>): Response {
  const encoder = new TextEncoder();
  let open = true;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const raw = (text: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          open = false;
        }
      };
      keepAlive = setInterval(() => raw(": keep-alive\n\n"), 15_000);
      keepAlive.unref?.();
      try {
        await run((line) => raw(`data: ${JSON.stringify(line)}\n\n`));
      } catch (e) {
        raw(`data: ${JSON.stringify({ failure: JSON.parse(errorAnswer(e).body) })}\n\n`);
      }
      raw("event: end\ndata: {}\n\n");
      clearInterval(keepAlive);
      if (open) controller.close();
    },
    cancel() {
      open = false;
      clearInterval(keepAlive);
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" } });
}
