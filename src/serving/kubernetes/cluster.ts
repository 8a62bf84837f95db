// Endpoints served on Kubernetes (`serving: { type: kubernetes }`): each endpoint's Deployment and
// Service (objects.ts) made, replaced, read and deleted through the official client library, loaded
// lazily as the executor loads it (src/executors/kubernetes/client.ts, which also reads the
// kubeconfig). Create-or-replace rather than server-side apply: Slipway owns these objects whole, so a
// replace carrying the read resourceVersion is exact, and a concurrent change is a 409, never a merge.
// An object of that name Slipway did not make for this endpoint (its labels say whose it is) is never
// replaced or deleted. Errors are `kubernetes_serving_failed`, with the API's own message and the fix.
import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { SlipwayError } from "../../errors.js";
import { kubeConfigFor, statusMessage } from "../../executors/kubernetes/client.js";
import { dnsLabel } from "../../util/kubernetes/names.js";

/** Where an endpoint's objects are. */
export interface ClusterPlace {
  namespace: string;
  context?: string;
}

/** Whose objects they are: the labels Slipway put on them (objects.ts). */
export interface ObjectOwner {
  project: string;
  target: string;
  endpoint: string;
}

export interface DeploymentReadiness {
  /** ready: every wanted replica is updated and ready; progressing: not yet (or failing: see reason); missing: no such Deployment; unknown: the API could not be asked. */
  state: "ready" | "progressing" | "missing" | "unknown";
  replicas: number;
  readyReplicas: number;
  reason?: string;
}

/** The cluster side of endpoints served on Kubernetes (an interface, so unit tests can hand in their own). */
export interface EndpointCluster {
  /** Creates each object, or replaces the one this endpoint already has. Returns the API server's address. */
  apply(place: ClusterPlace, owner: ObjectOwner, objects: { deployment: V1Deployment; service: V1Service }): Promise<{ server: string; created: string[]; replaced: string[] }>;
  /** Deletes the endpoint's Deployment and Service; gone ones and ones that are not this endpoint's are left (and named in `skipped`). */
  remove(place: ClusterPlace, owner: ObjectOwner, name: string): Promise<{ deleted: string[]; skipped: string[] }>;
  /** The Deployment's readiness; never throws (an unreachable API is `unknown` with the reason). */
  readiness(place: ClusterPlace, name: string): Promise<DeploymentReadiness>;
}

type Kind = "Deployment" | "Service";

/** The real one, through @kubernetes/client-node and the kubeconfig (KUBECONFIG, ~/.kube/config, or in-cluster). */
export function kubernetesEndpointCluster(): EndpointCluster {
  const connect = async (place: ClusterPlace) => {
    const { k8s, config, cluster } = await kubeConfigFor(place.context, "kubernetes_serving_failed", "serving");
    const apps = config.makeApiClient(k8s.AppsV1Api);
    const core = config.makeApiClient(k8s.CoreV1Api);
    const where = `the Kubernetes API at ${cluster.server}`;
    const fail = (e: unknown, what: string, kind: Kind, name: string): SlipwayError => {
      if (e instanceof SlipwayError) return e;
      if (!(e instanceof k8s.ApiException)) {
        return new SlipwayError("kubernetes_serving_failed", `${where} could not be reached to ${what}: ${(e as Error).message}`, {
          hint: "check that the cluster is up and the kubeconfig's server address is right (kubectl cluster-info); then deploy again",
        });
      }
      const said = statusMessage(e.body);
      return new SlipwayError("kubernetes_serving_failed", `${where} refused to ${what}: ${e.code}${said ? ` ${said}` : ""}`, { hint: hintFor(e.code, kind, name, place.namespace) });
    };
    const notFound = (e: unknown) => e instanceof k8s.ApiException && e.code === 404;
    return { k8s, apps, core, where, server: cluster.server, fail, notFound };
  };

  return {
    async apply(place, owner, objects) {
      const api = await connect(place);
      const ns = place.namespace;
      const created: string[] = [];
      const replaced: string[] = [];
      const one = async <T extends V1Deployment | V1Service>(kind: Kind, body: T, read: () => Promise<T>, create: () => Promise<T>, replace: (current: T) => Promise<T>) => {
        const name = body.metadata!.name!;
        const label = `${kind} ${ns}/${name}`;
        let current: T | undefined;
        try {
          current = await read();
        } catch (e) {
          if (!api.notFound(e)) throw api.fail(e, `read ${label}`, kind, name);
        }
        if (!current) {
          try {
            await create();
          } catch (e) {
            throw api.fail(e, `create ${label}`, kind, name);
          }
          created.push(label);
          return;
        }
        assertOwned(current, owner, label);
        try {
          await replace(current);
        } catch (e) {
          throw api.fail(e, `replace ${label}`, kind, name);
        }
        replaced.push(label);
      };
      const d = objects.deployment;
      const s = objects.service;
      const dName = d.metadata!.name!;
      const sName = s.metadata!.name!;
      await one(
        "Deployment",
        d,
        () => api.apps.readNamespacedDeployment({ namespace: ns, name: dName }),
        () => api.apps.createNamespacedDeployment({ namespace: ns, body: d, fieldManager: "slipway" }),
        // The read resourceVersion makes the replace exact: a change made since is a 409, not overwritten.
        (current) => api.apps.replaceNamespacedDeployment({ namespace: ns, name: dName, fieldManager: "slipway", body: { ...d, metadata: { ...d.metadata, resourceVersion: current.metadata?.resourceVersion } } }),
      );
      await one(
        "Service",
        s,
        () => api.core.readNamespacedService({ namespace: ns, name: sName }),
        () => api.core.createNamespacedService({ namespace: ns, body: s, fieldManager: "slipway" }),
        // The cluster IP is assigned once and immutable: a replace carries the one the Service has.
        (current) =>
          api.core.replaceNamespacedService({
            namespace: ns,
            name: sName,
            fieldManager: "slipway",
            body: {
              ...s,
              metadata: { ...s.metadata, resourceVersion: current.metadata?.resourceVersion },
              spec: { ...s.spec, ...(current.spec?.clusterIP ? { clusterIP: current.spec.clusterIP } : {}), ...(current.spec?.clusterIPs ? { clusterIPs: current.spec.clusterIPs } : {}) },
            },
          }),
      );
      return { server: api.server, created, replaced };
    },

    async remove(place, owner, name) {
      const api = await connect(place);
      const ns = place.namespace;
      const deleted: string[] = [];
      const skipped: string[] = [];
      const one = async (kind: Kind, read: () => Promise<V1Deployment | V1Service>, del: () => Promise<unknown>) => {
        const label = `${kind} ${ns}/${name}`;
        let current: V1Deployment | V1Service;
        try {
          current = await read();
        } catch (e) {
          if (api.notFound(e)) return void skipped.push(`${label} (already gone)`);
          throw api.fail(e, `read ${label}`, kind, name);
        }
        if (!isOwned(current, owner)) return void skipped.push(`${label} (not made by Slipway for this endpoint: left as it is)`);
        try {
          await del();
          deleted.push(label);
        } catch (e) {
          if (api.notFound(e)) return void skipped.push(`${label} (already gone)`);
          throw api.fail(e, `delete ${label}`, kind, name);
        }
      };
      // The Service first: traffic stops before the pods go. Background: the ReplicaSets and pods follow.
      await one("Service", () => api.core.readNamespacedService({ namespace: ns, name }), () => api.core.deleteNamespacedService({ namespace: ns, name }));
      await one("Deployment", () => api.apps.readNamespacedDeployment({ namespace: ns, name }), () => api.apps.deleteNamespacedDeployment({ namespace: ns, name, propagationPolicy: "Background" }));
      return { deleted, skipped };
    },

    async readiness(place, name) {
      try {
        const api = await connect(place);
        let d: V1Deployment;
        try {
          d = await api.apps.readNamespacedDeployment({ namespace: place.namespace, name });
        } catch (e) {
          if (api.notFound(e)) return { state: "missing", replicas: 0, readyReplicas: 0, reason: `Deployment ${place.namespace}/${name} does not exist` };
          throw api.fail(e, `read Deployment ${place.namespace}/${name}`, "Deployment", name);
        }
        const readiness = readinessOf(d);
        if (readiness.state === "ready") return readiness;
        // Why not: the Deployment says little ("minimum availability"); its pods' containers say why (ImagePullBackOff, a missing Secret).
        const selector = Object.entries(d.spec?.selector?.matchLabels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(",");
        const pods = selector ? await api.core.listNamespacedPod({ namespace: place.namespace, labelSelector: selector }).catch(() => undefined) : undefined;
        const waiting = pods?.items.flatMap((p) => (p.status?.containerStatuses ?? []).map((c) => ({ pod: p.metadata?.name, w: c.state?.waiting }))).find((x) => x.w?.reason);
        return waiting ? { ...readiness, reason: `${readiness.reason}; pod ${waiting.pod}: ${waiting.w!.reason}${waiting.w!.message ? ` (${waiting.w!.message})` : ""}` } : readiness;
      } catch (e) {
        return { state: "unknown", replicas: 0, readyReplicas: 0, reason: (e as Error).message };
      }
    },
  };
}

/**
 * `doctor`: the kubeconfig loads, the API answers, and these credentials may list Deployments and
 * Services in the namespace (reads only). Throws the same errors a deploy would meet.
 */
export async function checkServingAccess(place: ClusterPlace): Promise<string> {
  const { k8s, config, cluster } = await kubeConfigFor(place.context, "kubernetes_serving_failed", "serving");
  const where = `the Kubernetes API at ${cluster.server}`;
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const version = config.makeApiClient(k8s.VersionApi);
  const step = async <T>(what: string, kind: Kind, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof k8s.ApiException) {
        const said = statusMessage(e.body);
        throw new SlipwayError("kubernetes_serving_failed", `${where} refused to ${what}: ${e.code}${said ? ` ${said}` : ""}`, { hint: hintFor(e.code, kind, "NAME", place.namespace) });
      }
      throw new SlipwayError("kubernetes_serving_failed", `${where} could not be reached to ${what}: ${(e as Error).message}`, { hint: "check that the cluster is up and the kubeconfig's server address is right (kubectl cluster-info)" });
    }
  };
  const v = await step("tell its version", "Deployment", () => version.getCode());
  await step(`list Deployments in namespace ${place.namespace}`, "Deployment", () => apps.listNamespacedDeployment({ namespace: place.namespace, limit: 1 }));
  await step(`list Services in namespace ${place.namespace}`, "Service", () => core.listNamespacedService({ namespace: place.namespace, limit: 1 }));
  return `${cluster.server} (${v.gitVersion}, context ${config.getCurrentContext()}) answers, and Deployments and Services in namespace ${place.namespace} can be listed`;
}

/** A Deployment's readiness from its status, as `kubectl rollout status` reads it. */
export function readinessOf(d: V1Deployment): DeploymentReadiness {
  const wanted = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const ready = s.readyReplicas ?? 0;
  const updated = s.updatedReplicas ?? 0;
  const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const failing = (s.conditions ?? []).find((c) => (c.type === "Progressing" && c.status === "False") || (c.type === "ReplicaFailure" && c.status === "True"));
  const done = observed && updated >= wanted && ready >= wanted && (s.replicas ?? 0) <= wanted;
  const reason = failing ? `${failing.reason ?? failing.type}${failing.message ? `: ${failing.message}` : ""}` : done ? undefined : `${ready} of ${wanted} replica(s) ready${observed ? "" : " (the change is not yet seen by the controller)"}`;
  return { state: done ? "ready" : "progressing", replicas: wanted, readyReplicas: ready, ...(reason ? { reason } : {}) };
}

function isOwned(o: V1Deployment | V1Service, owner: ObjectOwner): boolean {
  const l = o.metadata?.labels ?? {};
  return l["app.kubernetes.io/managed-by"] === "slipway" && l["slipway.dev/project"] === dnsLabel(owner.project) && l["slipway.dev/target"] === dnsLabel(owner.target) && l["slipway.dev/endpoint"] === dnsLabel(owner.endpoint);
}

function assertOwned(o: V1Deployment | V1Service, owner: ObjectOwner, label: string): void {
  if (isOwned(o, owner)) return;
  const l = o.metadata?.labels ?? {};
  const whose = l["app.kubernetes.io/managed-by"] === "slipway" ? `Slipway's for ${l["slipway.dev/project"] ?? "?"}/${l["slipway.dev/target"] ?? "?"} endpoint ${l["slipway.dev/endpoint"] ?? "?"}` : `not made by Slipway (app.kubernetes.io/managed-by: ${l["app.kubernetes.io/managed-by"] ?? "none"})`;
  throw new SlipwayError("kubernetes_serving_failed", `${label} already exists and is ${whose}, not endpoint ${owner.endpoint} of ${owner.project}/${owner.target}'s: Slipway does not replace it`, {
    hint: "delete or rename that object, or serve this target in another namespace (serving.namespace)",
  });
}

function hintFor(code: number, kind: Kind, name: string, ns: string): string {
  const resource = kind === "Deployment" ? "deployments" : "services";
  if (code === 401) return "the kubeconfig's credentials were not accepted (expired token or certificate?): renew them (kubectl get pods works with them), then deploy again";
  if (code === 403) {
    return `the kubeconfig's user may not do this in namespace ${ns}: it needs get, create, update and delete on deployments (apps) and services there (a Role and RoleBinding; check with \`kubectl auth can-i create ${resource} -n ${ns}\`)`;
  }
  if (code === 404) return `namespace ${ns} may not exist: create it (kubectl create namespace ${ns}) or fix the target's serving.namespace`;
  if (code === 409) return `${kind} ${ns}/${name} was changed or is being deleted by someone else while Slipway applied it: deploy again (and look at \`kubectl get ${resource} ${name} -n ${ns} -o yaml\` if it persists)`;
  if (code === 422) return "the cluster found the object invalid: check the target's serving settings (image, secret, service_account) and the endpoint's replicas";
  return "check the target's serving settings (namespace, image, context) against the cluster, then deploy again";
}
