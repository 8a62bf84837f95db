// The serving gateway as a handler of plain requests (method, path, headers, body) returning plain
// responses, so routes are testable without a port (`asFetchHandler` gives the same routes as a
// WHATWG fetch handler). The Node listener feeds it directly: WHATWG Request/Response objects cost
// more per request than the model call itself (see bench/README.md).
// Routes: MLflow scoring (POST /serving-endpoints/NAME/invocations) and the Open Inference Protocol
// (POST /v2/models/NAME/infer, GET /v2/health/{live,ready}, GET /v2/models/NAME[/ready]).
import { randomUUID } from "node:crypto";
import { canQuery, type TokenVerifier } from "./auth.js";
import { pickServed, type Endpoints, type LiveEndpoint } from "./endpoints.js";
import type { InferenceLog } from "./inference-log.js";
import { BadRequest } from "./protocols.js";
import { Unavailable } from "./runtimes/runtime.js";

export interface GatewayDeps {
  endpoints: Endpoints;
  tokens: TokenVerifier;
  log: InferenceLog;
  now(): number;
}

export interface GatewayRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  body: string;
}

export interface GatewayResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type GatewayHandler = (request: GatewayRequest) => Promise<GatewayResponse>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): GatewayResponse => ({ status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const error = (status: number, code: string, message: string, headers?: Record<string, string>) => json(status, { error_code: code, message }, headers);

/** Largest request body the gateway reads: a bound on memory per request (the Node listener in server.ts applies the same). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The same routes as a WHATWG fetch handler (tests, or runtimes that speak fetch), with the same bound on bodies. */
export function asFetchHandler(handler: GatewayHandler, options: { maxBodyBytes?: number } = {}): (request: Request) => Promise<Response> {
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const tooLarge = () => Response.json({ error_code: "REQUEST_TOO_LARGE", message: `request bodies are limited to ${limit} bytes` }, { status: 413 });
  return async (request) => {
    let body = "";
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

/** The body as text, or undefined as soon as it is longer than `limit` bytes (the rest is not read). */
async function readBounded(request: Request, limit: number): Promise<string | undefined> {
  if (!request.body) return "";
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
  return Buffer.concat(chunks).toString("utf8");
}

export function createGateway(deps: GatewayDeps): GatewayHandler {
  return async (request) => {
    const started = performance.now();
    const path = request.path;
    let m: RegExpMatchArray | null;
    if (request.method === "POST" && (m = path.match(/^\/serving-endpoints\/([^/]+)\/invocations$/))) return invoke(deps, request, decodeURIComponent(m[1]!), "mlflow", started);
    if (request.method === "POST" && (m = path.match(/^\/v2\/models\/([^/]+)\/infer$/))) return invoke(deps, request, decodeURIComponent(m[1]!), "oip", started);
    if (request.method === "GET" && path === "/v2/health/live") return json(200, { live: true });
    if (request.method === "GET" && path === "/v2/health/ready") {
      const ready = deps.endpoints.allReady();
      return json(ready ? 200 : 503, { ready });
    }
    if (request.method === "GET" && (m = path.match(/^\/v2\/models\/([^/]+)(\/ready)?$/))) {
      const endpoint = deps.endpoints.get(decodeURIComponent(m[1]!));
      if (!endpoint) return notServed(deps, decodeURIComponent(m[1]!));
      const ready = endpoint.served.some((s) => s.ready());
      if (m[2]) return json(ready ? 200 : 503, { name: endpoint.config.name, ready }, ready ? {} : { "retry-after": "1" });
      const first = endpoint.served[0]?.config;
      return json(200, {
        name: endpoint.config.name,
        versions: endpoint.served.map((s) => String(s.config.version)),
        platform: first?.manifest.flavor === "onnx" ? "onnxruntime_onnx" : "command",
        inputs: first?.manifest.flavor === "onnx" ? first.manifest.inputs.map((i) => ({ name: i.name, datatype: i.type.toUpperCase().replace("FLOAT", "FP"), shape: i.shape })) : [],
        outputs: first?.manifest.flavor === "onnx" ? first.manifest.outputs.map((o) => ({ name: o.name, datatype: o.type.toUpperCase().replace("FLOAT", "FP"), shape: o.shape })) : [],
      });
    }
    return error(404, "ENDPOINT_NOT_FOUND", `no route for ${request.method} ${path}`);
  };
}

/**
 * An endpoint that is not live: 503 with Retry-After while a restarted server restores it, 503 when
 * restoring it failed (a deploy starts it again), else 404.
 */
function notServed(deps: GatewayDeps, name: string): GatewayResponse {
  const why = deps.endpoints.notServed(name);
  if (!why) return error(404, "RESOURCE_DOES_NOT_EXIST", `no endpoint named ${name}`);
  if ("restoring" in why) return error(503, "TEMPORARILY_UNAVAILABLE", `endpoint ${name} is being restored after the server started; retry shortly`, { "retry-after": "1" });
  return error(503, "TEMPORARILY_UNAVAILABLE", `endpoint ${name} is deployed but could not be started after the server started: ${why.failed} (\`slipway deploy\` starts it again)`);
}

async function invoke(deps: GatewayDeps, request: GatewayRequest, name: string, protocol: "mlflow" | "oip", started: number): Promise<GatewayResponse> {
  const endpoint = deps.endpoints.get(name);
  if (!endpoint) return notServed(deps, name);
  const auth = request.header("authorization");
  const token = auth?.startsWith("Bearer ") ? auth.slice(7).trim() : undefined;
  if (!token) return error(401, "UNAUTHENTICATED", "send a bearer token: Authorization: Bearer <token> (create one with `slipway tokens create`)", { "www-authenticate": "Bearer" });
  const identity = await deps.tokens.identify(token);
  if (!identity) return error(401, "UNAUTHENTICATED", "the bearer token is not valid", { "www-authenticate": "Bearer" });
  if (!canQuery(identity, endpoint.config.grants)) return error(403, "PERMISSION_DENIED", `${identity.user} may not query ${name}: CAN_QUERY or CAN_MANAGE is needed`);
  const served = pickServed(endpoint);
  if (!served) return error(503, "TEMPORARILY_UNAVAILABLE", `endpoint ${name} is not ready yet`, { "retry-after": "1" });

  const raw = request.body;
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    return error(400, "MALFORMED_REQUEST", `the body is not valid JSON: ${(e as Error).message}`);
  }
  let clientRequestId = request.header("x-client-request-id") ?? null;
  if (body && typeof body === "object" && !Array.isArray(body) && "client_request_id" in body) {
    const { client_request_id, ...rest } = body as Record<string, unknown>;
    clientRequestId = String(client_request_id);
    body = rest;
  }
  const requestId = randomUUID();
  let status: number;
  let responseBody: unknown;
  let queueMs = 0;
  let modelMs = 0;
  let retryAfter = false;
  try {
    const out = await served.invoke({ protocol, body, raw });
    status = out.result.status;
    responseBody = out.result.body;
    queueMs = out.queueMs;
    modelMs = out.modelMs;
  } catch (e) {
    if (e instanceof BadRequest) {
      status = 400;
      responseBody = { error_code: "MALFORMED_REQUEST", message: e.message };
    } else if (e instanceof Unavailable) {
      // The replica crashed under the request and no other was ready: it is restarting.
      status = 503;
      retryAfter = true;
      responseBody = { error_code: "TEMPORARILY_UNAVAILABLE", message: e.message };
    } else {
      status = 500;
      responseBody = { error_code: "INTERNAL_ERROR", message: `the model failed: ${(e as Error).message}` };
    }
  }
  const text = JSON.stringify(responseBody);
  const latency = performance.now() - started;
  record(deps, endpoint, { requestId, clientRequestId, served: served.config, status, latency, queueMs, modelMs, raw, text });
  const headers: Record<string, string> = { "content-type": "application/json", "x-request-id": requestId, "x-served-model-version": `${served.config.model}@${served.config.version}` };
  if (retryAfter) headers["retry-after"] = "1";
  return { status, headers, body: text };
}

function record(
  deps: GatewayDeps,
  endpoint: LiveEndpoint,
  r: { requestId: string; clientRequestId: string | null; served: { model: string; version: number }; status: number; latency: number; queueMs: number; modelMs: number; raw: string; text: string },
): void {
  const table = endpoint.config.inference;
  if (table.sample <= 0 || (table.sample < 1 && Math.random() >= table.sample)) return;
  const cap = (s: string) => (s.length > table.maxBodyBytes ? s.slice(0, table.maxBodyBytes) : s);
  deps.log.record({
    request_id: r.requestId,
    client_request_id: r.clientRequestId,
    project: endpoint.config.project,
    target: endpoint.config.target,
    endpoint: endpoint.config.name,
    timestamp: new Date(deps.now()).toISOString(),
    config_version: endpoint.config.configVersion,
    model: r.served.model,
    model_version: r.served.version,
    status: r.status,
    latency_ms: round(r.latency),
    gateway_ms: round(Math.max(0, r.latency - r.queueMs - r.modelMs)),
    queue_ms: round(r.queueMs),
    model_ms: round(r.modelMs),
    request: cap(r.raw),
    response: cap(r.text),
  });
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
