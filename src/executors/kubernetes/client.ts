// The Kubernetes API as the executor uses it, through the official client library
// (@kubernetes/client-node), loaded only when a kubernetes executor is used (dynamic import: the CLI
// starts without it). The kubeconfig comes from the library's default loader (KUBECONFIG, else
// ~/.kube/config, else the in-cluster service account); `context` picks one of its contexts.
// Failures become `executor_failed` errors with the API's own message and what to check. The loading
// and the kubeconfig (`kubeConfigFor`) serve endpoints on Kubernetes too (src/serving/kubernetes/cluster.ts).
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { SlipwayError } from "../../errors.js";

type Library = typeof import("@kubernetes/client-node");
let library: Promise<Library> | undefined;

/**
 * The library, loaded once. It is an ES module only, and the CLI's CommonJS bundle is compiled by
 * the launcher's vm.Script without import() support on older Node 20 releases: bin/slipway.cjs hands in an import() of its own
 * (`__slipwayImport`); the SDK (an ES module) imports it directly.
 */
async function load(): Promise<Library> {
  const launcherImport = (globalThis as { __slipwayImport?: (specifier: string) => Promise<unknown> }).__slipwayImport;
  library ??= (launcherImport ? (launcherImport("@kubernetes/client-node") as Promise<Library>) : import("@kubernetes/client-node")).catch((e: Error) => {
    library = undefined;
    throw new SlipwayError("executor_failed", `the Kubernetes client library could not be loaded: ${e.message}`, { hint: "reinstall slipway (npm install): @kubernetes/client-node is one of its dependencies" });
  });
  return library;
}

export interface KubeClient {
  /** The API server's address (for messages). */
  readonly server: string;
  readonly context: string;
  createJob(namespace: string, job: V1Job): Promise<V1Job>;
  /** undefined when there is no such Job. */
  readJob(namespace: string, name: string): Promise<V1Job | undefined>;
  /** Deletes the Job and, in the background, its pods (propagationPolicy Background); false if it was gone. */
  deleteJob(namespace: string, name: string): Promise<boolean>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  /** A pod's log so far; undefined when the pod is gone or has not started. */
  podLog(namespace: string, pod: string): Promise<string | undefined>;
  /** The server's version (`GET /version`). */
  version(): Promise<string>;
  /** Whether Jobs of `namespace` can be listed (the credentials work there). */
  listJobs(namespace: string): Promise<number>;
}

/** The library and the kubeconfig set to `context`; failures are errors of `code` (the executor's, or serving's). */
export async function kubeConfigFor(context: string | undefined, code: "executor_failed" | "kubernetes_serving_failed", setting: string) {
  const k8s = await load();
  const config = new k8s.KubeConfig();
  try {
    config.loadFromDefault();
  } catch (e) {
    throw new SlipwayError(code, `the kubeconfig could not be read: ${(e as Error).message}`, { hint: "set KUBECONFIG to a kubeconfig file (kubectl config view works with it)" });
  }
  // In a run's pod the configuration is the pod's service account (one context, "inClusterContext"):
  // the context named for the submitting machine does not apply there.
  const inCluster = config.getContexts().length === 1 && config.getContexts()[0]!.name === "inClusterContext";
  if (context !== undefined && !inCluster) {
    if (!config.getContexts().some((c) => c.name === context)) {
      throw new SlipwayError(code, `the kubeconfig has no context "${context}"${config.getContexts().length ? ` (it has: ${config.getContexts().map((c) => c.name).join(", ")})` : ""}`, {
        hint: `fix the target's ${setting}.context, or point KUBECONFIG at the kubeconfig that has it`,
      });
    }
    config.setCurrentContext(context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new SlipwayError(code, "the kubeconfig names no cluster for its current context", { hint: `set KUBECONFIG, or the target's ${setting}.context` });
  return { k8s, config, cluster };
}

/** A client for `context` (or the kubeconfig's current context). */
export async function kubeClient(context?: string): Promise<KubeClient> {
  const { k8s, config, cluster } = await kubeConfigFor(context, "executor_failed", "executor");
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const versions = config.makeApiClient(k8s.VersionApi);
  const where = `the Kubernetes API at ${cluster.server}`;
  const call = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw apiError(e, `${where} refused to ${what}`, `${where} could not be reached to ${what}`);
    }
  };
  const notFound = (e: unknown) => e instanceof k8s.ApiException && e.code === 404;
  return {
    server: cluster.server,
    context: config.getCurrentContext(),
    createJob: (namespace, job) => call(`create Job ${job.metadata?.name} in namespace ${namespace}`, () => batch.createNamespacedJob({ namespace, body: job })),
    async readJob(namespace, name) {
      try {
        return await batch.readNamespacedJob({ namespace, name });
      } catch (e) {
        if (notFound(e)) return undefined;
        throw apiError(e, `${where} refused to read Job ${name}`, `${where} could not be reached to read Job ${name}`);
      }
    },
    async deleteJob(namespace, name) {
      try {
        await batch.deleteNamespacedJob({ namespace, name, propagationPolicy: "Background" });
        return true;
      } catch (e) {
        if (notFound(e)) return false;
        throw apiError(e, `${where} refused to delete Job ${name}`, `${where} could not be reached to delete Job ${name}`);
      }
    },
    listPods: async (namespace, labelSelector) => (await call(`list pods in namespace ${namespace}`, () => core.listNamespacedPod({ namespace, labelSelector }))).items,
    async podLog(namespace, pod) {
      try {
        return await core.readNamespacedPodLog({ namespace, name: pod });
      } catch (e) {
        // Gone, or not started yet (400: the container is waiting).
        if (e instanceof k8s.ApiException && (e.code === 404 || e.code === 400)) return undefined;
        throw apiError(e, `${where} refused to read the log of pod ${pod}`, `${where} could not be reached to read the log of pod ${pod}`);
      }
    },
    version: async () => (await call("tell its version", () => versions.getCode())).gitVersion,
    listJobs: async (namespace) => (await call(`list Jobs in namespace ${namespace}`, () => batch.listNamespacedJob({ namespace, limit: 1 }))).items.length,
  };

  function apiError(e: unknown, refused: string, unreachable: string): SlipwayError {
    if (e instanceof SlipwayError) return e;
    if (e instanceof k8s.ApiException) {
      const status = statusMessage(e.body);
      return new SlipwayError("executor_failed", `${refused}: ${e.code}${status ? ` ${status}` : ""}`, {
        hint: e.code === 401 || e.code === 403 ? "check the kubeconfig's credentials and what they may do in the namespace (Jobs: create, get, delete; pods and pods/log: list, get)" : "check the target's executor settings (namespace, image, service_account, secret) against the cluster",
      });
    }
    return new SlipwayError("executor_failed", `${unreachable}: ${(e as Error).message}`, { hint: "check that the cluster is up and the kubeconfig's server address is right (kubectl cluster-info)" });
  }
}

/** The message of a Kubernetes Status body (JSON text or object), when there is one. */
export function statusMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 300) || undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : undefined;
}
