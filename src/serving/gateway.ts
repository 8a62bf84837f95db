// The serving gateway as a handler of plain requests (method, path, headers, body) returning plain
// responses, so routes are testable without a port (`asFetchHandler` gives the same routes as a
// WHATWG fetch handler). The Node listener feeds it directly: WHATWG Request/Response objects cost
// more per request than the model call itself (see bench/README.md).
// The routes are the protocols' (protocols/: MLflow scoring, the Open Inference Protocol); this file
// holds what they share: routing, and the inference path (endpoint, token, version, model, log).
import { randomUUID } from "node:crypto";
import { canQuery, type Identity, type TokenVerifier } from "./auth.js";
import { pickServed, type Endpoints, type LiveEndpoint, type ServedVersion } from "./endpoints.js";
import type { InferenceEntry, InferenceSource } from "./inference-log.js";
import { mlflow, oip, PROTOCOLS, ProtocolError, type GatewayServices, type InferCall, type Protocol, type ReadRequest } from "./protocols/index.js";
import { Unavailable } from "./runtimes/runtime.js";

export interface GatewayDeps {
  endpoints: Endpoints;
  tokens: Pick<TokenVerifier, "identify"> & Partial<Pick<TokenVerifier, "known">>;
  /**
   * Who else may query beyond the endpoint's configured grants (grants made through the API, the
   * target's owner, administrators): asked only when the configured grants refuse, so the hot path of
   * an allowed caller never waits for it. The control plane provides it (src/server/auth/query-access.ts).
   */
  access?: QueryAccess;
  /** The inference table (InferenceLog): rows are queued, never waited for. */
  log: { source(s: InferenceSource): number; record(e: InferenceEntry): boolean };
  now(): number;
}

export interface QueryAccess {
  allows(identity: Identity, endpoint: { project: string; target: string; name: string }): Promise<boolean>;
}

export interface GatewayRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** The body's bytes (the listener), or text (tests). */
  body: string | Buffer;
}

export interface GatewayResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export type GatewayHandler = (request: GatewayRequest) => Promise<GatewayResponse>;

/** Largest request body the gateway reads: a bound on memory per request (the Node listener in server.ts applies the same). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The same routes as a WHATWG fetch handler (tests, or runtimes that speak fetch), with the same bound on bodies. */
export function asFetchHandler(handler: GatewayHandler, options: { maxBodyBytes?: number } = {}): (request: Request) => Promise<Response> {
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const tooLarge = () => Response.json({ error_code: "REQUEST_TOO_LARGE", message: `request bodies are limited to ${limit} bytes` }, { status: 413 });
  return async (request) => {
    let body: Buffer = Buffer.alloc(0);
    if (request.method !== "GET" && request.method !== "HEAD") {
      if (Number(request.headers.get("content-length") ?? 0) > limit) return tooLarge();
      const read = await readBounded(request, limit);
      if (read === undefined) return tooLarge();
      body = read;
    }
    const out = await handler({ method: request.method, path: new URL(request.url).pathname, header: (n) => request.headers.get(n) ?? undefined, body });
    return new Response(out.body, { status: out.status, headers: out.headers });
  };
}

/** The body, or undefined as soon as it is longer than `limit` bytes (the rest is not read). */
async function readBounded(request: Request, limit: number): Promise<Buffer | undefined> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** A route's pattern with the protocol it belongs to. */
const ROUTES = PROTOCOLS.flatMap((protocol) => protocol.routes.map((route) => ({ protocol, route })));

export function createGateway(deps: GatewayDeps): GatewayHandler {
  const served: ServedInfo = new WeakMap();
  const services: GatewayServices = {
    endpoints: deps.endpoints,
    notServed: (protocol, name) => notServed(deps, protocol, name),
    infer: (request, name, call) => infer(deps, served, request, name, call),
  };
  return async (request) => {
    const path = request.path;
    for (const { route } of ROUTES) {
      if (route.method !== request.method) continue;
      const m = route.path.exec(path);
      if (!m) continue;
      const params = m.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
      return route.handle(request, params, services);
    }
    return (path.startsWith("/v2") ? oip : mlflow).error(404, "ENDPOINT_NOT_FOUND", `no route for ${request.method} ${path}`);
  };
}

/**
 * An endpoint that is not live: 503 with Retry-After while a restarted server restores it, 503 when
 * restoring it failed (a deploy starts it again), else 404.
 */
function notServed(deps: GatewayDeps, protocol: Protocol, name: string): GatewayResponse {
  const why = deps.endpoints.notServed(name);
  if (!why) return protocol.error(404, "RESOURCE_DOES_NOT_EXIST", `no endpoint named ${name}`);
  if ("restoring" in why) return protocol.error(503, "TEMPORARILY_UNAVAILABLE", `endpoint ${name} is being restored after the server started; retry shortly`, { "retry-after": "1" });
  return protocol.error(503, "TEMPORARILY_UNAVAILABLE", `endpoint ${name} is deployed but could not be started after the server started: ${why.failed} (\`slipway deploy\` starts it again)`);
}

/**
 * What the answer and the log need of each served version of an endpoint configuration (a new
 * configuration makes new ServedVersion objects): its inference-log source and its
 * `x-served-model-version`, made once instead of per request.
 */
type ServedInfo = WeakMap<ServedVersion, { source: number; label: string }>;

function servedInfo(deps: GatewayDeps, cache: ServedInfo, endpoint: LiveEndpoint, served: ServedVersion): { source: number; label: string } {
  let info = cache.get(served);
  if (!info) {
    const c = endpoint.config;
    const source = deps.log.source({ project: c.project, target: c.target, endpoint: c.name, config_version: c.configVersion, model: served.config.model, model_version: served.config.version });
    info = { source, label: `${served.config.model}@${served.config.version}` };
    cache.set(served, info);
  }
  return info;
}

async function infer(deps: GatewayDeps, cache: ServedInfo, request: GatewayRequest, name: string, call: InferCall): Promise<GatewayResponse> {
  const started = performance.now();
  const { protocol } = call;
  const endpoint = deps.endpoints.get(name);
  if (!endpoint) return notServed(deps, protocol, name);
  const auth = request.header("authorization");
  const token = auth?.startsWith("Bearer ") ? auth.slice(7).trim() : undefined;
  if (!token) return protocol.error(401, "UNAUTHENTICATED", "send a bearer token: Authorization: Bearer <token> (create one with `slipway tokens create`)", { "www-authenticate": "Bearer" });
  // A token seen in the last seconds is answered without waiting (most requests).
  const identity = deps.tokens.known?.(token) ?? (await deps.tokens.identify(token));
  if (!identity) return protocol.error(401, "UNAUTHENTICATED", "the bearer token is not valid", { "www-authenticate": "Bearer" });
  if (!canQuery(identity, endpoint.config.grants) && !(await deps.access?.allows(identity, endpoint.config))) return protocol.error(403, "PERMISSION_DENIED", `${identity.user} may not query ${name}: CAN_QUERY or CAN_MANAGE is needed`);
  let served;
  if (call.version === undefined) served = pickServed(endpoint);
  else {
    served = endpoint.served.find((s) => String(s.config.version) === call.version);
    if (!served) return protocol.error(404, "RESOURCE_DOES_NOT_EXIST", `endpoint ${name} does not serve version ${call.version} (it serves ${endpoint.served.map((s) => s.config.version).join(", ")})`);
    if (!served.ready()) served = undefined;
  }
  if (!served) return protocol.error(503, "TEMPORARILY_UNAVAILABLE", `endpoint ${name} is not ready yet`, { "retry-after": "1" });

  let read: ReadRequest;
  try {
    read = call.read(request, endpoint, served);
  } catch (e) {
    if (e instanceof ProtocolError) return protocol.error(e.status, e.code, e.message);
    throw e;
  }
  const requestId = randomUUID();
  let status: number;
  let responseBody: unknown;
  let encoded: { bytes: Buffer; headers: Record<string, string>; logText: string } | undefined;
  let queueMs = 0;
  let modelMs = 0;
  let errorResponse: GatewayResponse | undefined;
  try {
    const out = await served.invoke(read);
    status = out.result.status;
    responseBody = out.result.body;
    encoded = out.result.encoded;
    queueMs = out.queueMs;
    modelMs = out.modelMs;
  } catch (e) {
    if (e instanceof ProtocolError) errorResponse = protocol.error(e.status, e.code, e.message);
    // The replica crashed under the request and no other was ready: it is restarting.
    else if (e instanceof Unavailable) errorResponse = protocol.error(503, "TEMPORARILY_UNAVAILABLE", e.message, { "retry-after": "1" });
    else errorResponse = protocol.error(500, "INTERNAL_ERROR", `the model failed: ${(e as Error).message}`);
    status = errorResponse.status;
  }
  const headers: Record<string, string> = errorResponse?.headers ?? encoded?.headers ?? { "content-type": "application/json" };
  const body = errorResponse?.body ?? encoded?.bytes ?? JSON.stringify(responseBody);
  const text = encoded?.logText ?? (typeof body === "string" ? body : "");
  const latency = performance.now() - started;
  const info = servedInfo(deps, cache, endpoint, served);
  record(deps, endpoint, info.source, { requestId, clientRequestId: read.clientRequestId ?? null, status, latency, queueMs, modelMs, raw: read.logText, text });
  headers["x-request-id"] = requestId;
  headers["x-served-model-version"] = info.label;
  return { status, headers, body };
}

function record(
  deps: GatewayDeps,
  endpoint: LiveEndpoint,
  source: number,
  r: { requestId: string; clientRequestId: string | null; status: number; latency: number; queueMs: number; modelMs: number; raw: string; text: string },
): void {
  const table = endpoint.config.inference;
  if (table.sample <= 0 || (table.sample < 1 && Math.random() >= table.sample)) return;
  const cap = (s: string) => (s.length > table.maxBodyBytes ? s.slice(0, table.maxBodyBytes) : s);
  deps.log.record({
    source,
    requestId: r.requestId,
    clientRequestId: r.clientRequestId,
    time: deps.now(),
    status: r.status,
    latencyMs: round(r.latency),
    gatewayMs: round(Math.max(0, r.latency - r.queueMs - r.modelMs)),
    queueMs: round(r.queueMs),
    modelMs: round(r.modelMs),
    request: cap(r.raw),
    response: cap(r.text),
  });
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
