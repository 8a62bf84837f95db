// Public JSON of the endpoints and tokens commands.
import { z } from "zod";
import { queryErrorCode } from "../error-codes.js";
import type { EndpointView, KubernetesEndpointView } from "../operations/endpoints.js";
import type { InferenceRow } from "../serving/inference-log.js";
import { failureView, type ErrorJson } from "./error.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

/** An endpoint served on Kubernetes: where its Deployment and Service are and how ready the Deployment is now. */
export const kubernetesEndpointSchema = lazy(() =>
  z.strictObject({
    namespace: z.string(),
    name: z.string(),
    /** ready: every replica updated and ready; progressing: not yet (reason says why); missing: no such Deployment; unknown: the API could not be asked. */
    state: z.enum(["ready", "progressing", "missing", "unknown"]),
    replicas: z.number().int(),
    ready_replicas: z.number().int(),
    reason: z.string().optional(),
  }),
);

export function kubernetesEndpointView(k: KubernetesEndpointView): z.infer<ReturnType<typeof kubernetesEndpointSchema>> {
  return { namespace: k.namespace, name: k.name, state: k.state, replicas: k.replicas, ready_replicas: k.readyReplicas, ...(k.reason !== undefined ? { reason: k.reason } : {}) };
}

export const endpointsSchema = lazy(() =>
  z.strictObject({
    endpoints: z.array(
      z.strictObject({
        name: z.string(),
        url: z.string(),
        config_version: z.number().int(),
        /** ready is null when the server is not running. */
        served: z.array(z.strictObject({ model: z.string(), version: z.number().int(), percent: z.number(), ready: z.boolean().nullable() })),
        deployed_at: z.string(),
        expires_at: z.string().nullable(),
        /** The user who first deployed it (holds CAN_MANAGE); null for endpoints recorded before owners. */
        owner: z.string().nullable(),
        /** Only for an endpoint served on Kubernetes (`serving: { type: kubernetes }`): its Deployment's readiness. */
        kubernetes: kubernetesEndpointSchema().optional(),
      }),
    ),
  }),
);

export function endpointsView(list: EndpointView[]): Infer<typeof endpointsSchema> {
  return {
    endpoints: list.map((e) => ({
      name: e.name,
      url: e.url,
      config_version: e.configVersion,
      served: e.served.map((s) => ({ model: s.model, version: s.version, percent: s.percent, ready: s.ready })),
      deployed_at: e.deployedAt,
      expires_at: e.expiresAt,
      owner: e.owner,
      ...(e.kubernetes ? { kubernetes: kubernetesEndpointView(e.kubernetes) } : {}),
    })),
  };
}

export const querySchema = lazy(() => z.strictObject({ status: z.number().int(), request_id: z.string().nullable(), body: z.unknown() }));

export function queryView(r: { status: number; body: unknown; requestId: string | null }): Infer<typeof querySchema> {
  return { status: r.status, request_id: r.requestId, body: r.body };
}

/** A non-2xx answer as the envelope's `error` (its exit code comes from the registry). */
export function queryFailure(r: { status: number; body: unknown }): ErrorJson | undefined {
  if (r.status >= 200 && r.status < 300) return undefined;
  // MLflow routes say why in `message`, Open Inference Protocol routes in `error`.
  const b = r.body && typeof r.body === "object" ? (r.body as { message?: unknown; error?: unknown }) : {};
  const reason = typeof b.message === "string" ? b.message : typeof b.error === "string" ? b.error : undefined;
  const said = reason === undefined ? "" : `: ${reason}`;
  return failureView(queryErrorCode(r.status), `the endpoint answered ${r.status}${said}`);
}

export const inferenceRowSchema = lazy(() =>
  z.strictObject({
    request_id: z.string(),
    client_request_id: z.string().nullable(),
    project: z.string(),
    target: z.string(),
    endpoint: z.string(),
    timestamp: z.string(),
    config_version: z.number().int(),
    model: z.string(),
    model_version: z.number().int(),
    status: z.number().int(),
    latency_ms: z.number(),
    gateway_ms: z.number(),
    queue_ms: z.number(),
    model_ms: z.number(),
    request: z.string().nullable(),
    response: z.string().nullable(),
  }),
);

export const endpointLogsSchema = lazy(() => z.strictObject({ endpoint: z.string(), requests: z.array(inferenceRowSchema()) }));

export function endpointLogsView(endpoint: string, rows: InferenceRow[]): Infer<typeof endpointLogsSchema> {
  return {
    endpoint,
    requests: rows.map((r) => ({
      request_id: r.request_id,
      client_request_id: r.client_request_id,
      project: r.project,
      target: r.target,
      endpoint: r.endpoint,
      timestamp: r.timestamp,
      config_version: r.config_version,
      model: r.model,
      model_version: r.model_version,
      status: r.status,
      latency_ms: r.latency_ms,
      gateway_ms: r.gateway_ms,
      queue_ms: r.queue_ms,
      model_ms: r.model_ms,
      request: r.request,
      response: r.response,
    })),
  };
}

export const reapSchema = lazy(() => z.strictObject({ destroyed: z.array(z.string()) }));

export function reapView(destroyed: string[]): Infer<typeof reapSchema> {
  return { destroyed: [...destroyed] };
}

