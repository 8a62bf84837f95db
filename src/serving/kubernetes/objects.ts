// The Kubernetes objects of one endpoint: a Deployment whose container serves the Open Inference
// Protocol on port 8080 from the image named for it, and a ClusterIP Service in front of it. One
// builder for both places that make them: `slipway export k8s|helm` (src/export/manifests.ts, files)
// and a target with `serving: { type: kubernetes }` (the endpoint kind, through the client library at
// deploy time). Pure and deterministic; secret values are never in the objects, only references to
// keys of one Secret (`secretEnv`). Typed with the official client's models (type-only imports).
import type { V1Deployment, V1EnvVar, V1Service } from "@kubernetes/client-node";
import { k8sLiteral, secretEnv } from "../../util/kubernetes/environment.js";
import { dnsLabel } from "../../util/kubernetes/names.js";

/** The port an endpoint's container serves the Open Inference Protocol on. */
export const SERVING_PORT = 8080;

/** The labels every object Slipway makes for a project's target carries (plus `extra`), sorted. */
export function slipwayLabels(project: string, target: string, managedBy: string, extra: Record<string, string> = {}): Record<string, string> {
  return sortKeys({ "app.kubernetes.io/managed-by": managedBy, "app.kubernetes.io/part-of": dnsLabel(project), "slipway.dev/project": dnsLabel(project), "slipway.dev/target": dnsLabel(target), ...extra });
}

/** What an endpoint's container is told it serves (SLIPWAY_SERVED, JSON). */
export interface ServedModel {
  model: string;
  version?: string | number;
  alias?: string;
  percent?: number;
}

export interface EndpointObjectsInput {
  project: string;
  target: string;
  /** The endpoint's name and its Slipway address (the `slipway.dev/address` annotation). */
  endpoint: string;
  address: string;
  /** The objects' name (both the Deployment and the Service). */
  name: string;
  /**
   * Whether the pods are selected by target too. Deploy time: yes, since two targets of a project may
   * share a namespace and a Service must not pick the other target's pods. The export selects by
   * project and endpoint (its objects are applied per namespace, and a selector cannot change later).
   */
  selectByTarget?: boolean;
  /** Set on the objects when given (deploy time); the export leaves it to `kubectl -n`. */
  namespace?: string;
  managedBy: string;
  image: string;
  imagePullPolicy: string;
  replicas: number | string;
  served: ServedModel[];
  /** The module's plain variables: from a ConfigMap (`configMap`, the export) or written into the container (`values`, deploy time). */
  environment: { configMap: string } | { values: Record<string, string> };
  /** Keys of the Secret `secretName` the container reads (the module's variables that hold secrets). */
  secretKeys: string[];
  secretName: string;
  serviceAccount?: string;
}

export function endpointObjects(input: EndpointObjectsInput): { deployment: V1Deployment; service: V1Service } {
  const select: Record<string, string> = { "slipway.dev/endpoint": dnsLabel(input.endpoint), "slipway.dev/project": dnsLabel(input.project), ...(input.selectByTarget ? { "slipway.dev/target": dnsLabel(input.target) } : {}) };
  const labels = slipwayLabels(input.project, input.target, input.managedBy, { "slipway.dev/endpoint": dnsLabel(input.endpoint) });
  const metadata = () => ({ name: input.name, ...(input.namespace ? { namespace: input.namespace } : {}), labels: { ...labels }, annotations: { "slipway.dev/address": input.address } });
  const served = input.served.map((s) => ({ model: s.model, ...(s.version !== undefined ? { version: s.version } : {}), ...(s.alias !== undefined ? { alias: s.alias } : {}), ...(s.percent !== undefined ? { percent: s.percent } : {}) }));
  const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10 });
  const plain: V1EnvVar[] =
    "values" in input.environment
      ? Object.keys(input.environment.values)
          .sort()
          .map((name) => ({ name, value: k8sLiteral((input.environment as { values: Record<string, string> }).values[name]!) }))
      : [];
  const deployment: V1Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata(),
    spec: {
      replicas: input.replicas as number,
      selector: { matchLabels: select },
      template: {
        metadata: { labels: slipwayLabels(input.project, input.target, input.managedBy, select) },
        spec: {
          ...(input.serviceAccount ? { serviceAccountName: input.serviceAccount } : {}),
          containers: [
            {
              name: "server",
              image: input.image,
              imagePullPolicy: input.imagePullPolicy,
              ports: [{ name: "http", containerPort: SERVING_PORT }],
              ...("configMap" in input.environment ? { envFrom: [{ configMapRef: { name: input.environment.configMap } }] } : {}),
              env: [
                ...plain,
                ...secretEnv(input.secretKeys, input.secretName),
                { name: "SLIPWAY_ENDPOINT", value: input.endpoint },
                { name: "SLIPWAY_SERVED", value: k8sLiteral(JSON.stringify(served)) },
                { name: "SLIPWAY_PORT", value: String(SERVING_PORT) },
              ],
              readinessProbe: probe("/v2/health/ready"),
              livenessProbe: probe("/v2/health/live"),
            },
          ],
        },
      },
    },
  };
  const service: V1Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(),
    spec: { type: "ClusterIP", selector: select, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  };
  return { deployment, service };
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}
