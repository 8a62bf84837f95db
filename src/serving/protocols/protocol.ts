// The contract every protocol file implements: a protocol is a set of routes and an error body. The
// gateway (gateway.ts) matches a request's method and path against the routes of every protocol in
// PROTOCOLS (index.ts), in order, and hands the first match the request and GatewayServices: the
// endpoints, and `infer`, the one inference path (endpoint, token, version, the model, the inference
// table) that a route feeds with an InferCall saying how to read its body and which version to use.
//
// Adding a protocol or a route is adding a file here and one line in index.ts. A streaming route
// (server-sent events, e.g. `POST /serving-endpoints/NAME/stream`) is meant to be such a file: a
// Protocol whose route reads its body with an InferCall like the others (same token check, version
// choice and inference table) and answers `text/event-stream`. Two things it needs do not exist yet,
// so nothing streams today: a GatewayResponse body that is an async iterable of chunks (which the Node
// listener in server.ts writes as they come instead of `res.end(body)`), and a runtime method that
// yields partial outputs.
import type { GatewayRequest, GatewayResponse } from "../gateway.js";
import type { Endpoints, LiveEndpoint, ServedVersion } from "../endpoints.js";
import type { InvokeRequest } from "../runtimes/runtime.js";

export interface Protocol {
  /** Names the protocol in InvokeRequest.protocol ("mlflow", "oip"). */
  readonly name: string;
  /** The error body this protocol's clients read. */
  error(status: number, code: string, message: string, headers?: Record<string, string>): GatewayResponse;
  readonly routes: readonly Route[];
}

export interface Route {
  method: "GET" | "POST";
  /** Matched against the whole path; capture groups are URL-decoded and passed as `params`. */
  path: RegExp;
  handle(request: GatewayRequest, params: Array<string | undefined>, gateway: GatewayServices): Promise<GatewayResponse> | GatewayResponse;
}

/** What the gateway offers routes. */
export interface GatewayServices {
  endpoints: Endpoints;
  /** The answer for an endpoint that is not live (404, or 503 while it is restored), in the protocol's error body. */
  notServed(protocol: Protocol, name: string): GatewayResponse;
  /**
   * One inference: the endpoint by name, the bearer token and its grant, a version (the traffic split,
   * or the one `call.version` names), `call.read` turns the body into what the runtime takes, the
   * model answers, the inference table records it. Errors come in the protocol's error body.
   */
  infer(request: GatewayRequest, name: string, call: InferCall): Promise<GatewayResponse>;
}

export interface InferCall {
  protocol: Protocol;
  /** A served model version by number (OIP's versioned routes); by the traffic split when absent. */
  version?: string;
  /** Reads the body (throws ProtocolError); runs after the token check, once the version is chosen. */
  read(request: GatewayRequest, endpoint: LiveEndpoint, served: ServedVersion): ReadRequest;
}

export interface ReadRequest extends InvokeRequest {
  /** A client's id for the request, logged as client_request_id. */
  clientRequestId?: string;
  /** What the inference table records as the request. */
  logText: string;
}

/** The body as bytes or text, as the listener or a test gave it. */
export type Body = string | Buffer;

/** The body as text (UTF-8). */
export const bodyText = (body: Body): string => (typeof body === "string" ? body : body.toString("utf8"));

export const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}): GatewayResponse => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

/** The version a served model version answers to in URLs and answers: its number. */
export const versionName = (served: ServedVersion): string => String(served.config.version);
