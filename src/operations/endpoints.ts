// Endpoints seen from the CLI and SDK: list, query, read inference logs, create tokens, and the TTL
// reaper (also run by the server's background loop).
import { kindLookup } from "../kinds/index.js";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { iso } from "../clock.js";
import { InvalidInputError, SlipwayError } from "../errors.js";
import { toUserName, type RuntimeEnv } from "../env.js";
import { planChanges } from "../engine/plan.js";
import { silentReporter } from "../engine/reporter.js";
import type { EndpointOutputs } from "../kinds/endpoint/index.js";
import { kubernetesEndpointCluster, type DeploymentReadiness, type EndpointCluster } from "../serving/kubernetes/cluster.js";
import { createToken, type Identity } from "../serving/auth.js";
import { adminCall, ensureServer, fetchRetrying, runningServer } from "../serving/control.js";
import { openInferenceReader, type InferenceRow } from "../serving/inference-table.js";
import { inferencePlace } from "../serving/inference-place.js";
import type { Stores } from "../store/open.js";
import { didYouMean } from "../util/suggest.js";
import { authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";
import { runDeployment } from "./deployment.js";

export interface EndpointView {
  name: string;
  url: string;
  configVersion: number;
  served: Array<{ model: string; version: number; percent: number; ready: boolean | null }>;
  deployedAt: string;
  expiresAt: string | null;
  /** The user who first deployed it (CAN_MANAGE). */
  owner: string | null;
  /** Only for an endpoint served on Kubernetes: its Deployment's readiness as the API reports it now. */
  kubernetes?: KubernetesEndpointView;
}

export interface KubernetesEndpointView {
  namespace: string;
  /** The Deployment's and the Service's name. */
  name: string;
  state: DeploymentReadiness["state"];
  replicas: number;
  readyReplicas: number;
  reason?: string;
}

/** The readiness of each endpoint served on Kubernetes, by name (asked of the API at once; never throws). */
export async function kubernetesReadiness(recorded: ReadonlyArray<{ name: string; outputs: Record<string, unknown> }>, cluster: EndpointCluster = kubernetesEndpointCluster()): Promise<Map<string, KubernetesEndpointView>> {
  const out = new Map<string, KubernetesEndpointView>();
  await Promise.all(
    recorded.map(async (r) => {
      const k = (r.outputs as Partial<EndpointOutputs>).kubernetes;
      if (!k) return;
      const d = await cluster.readiness({ namespace: k.namespace, ...(k.context ? { context: k.context } : {}) }, k.name);
      out.set(r.name, { namespace: k.namespace, name: k.name, state: d.state, replicas: d.replicas, readyReplicas: d.readyReplicas, ...(d.reason ? { reason: d.reason } : {}) });
    }),
  );
  return out;
}

export async function listEndpoints(options: ProjectOptions, ctx: OperationContext): Promise<EndpointView[]> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "endpoints list");
  return withStores(compiled, ctx.env, async (stores) => {
    const recorded = (await stores.state.forTarget(compiled.project.name, compiled.project.target.name).listResources()).filter((r) => r.kind === "endpoint");
    const server = await runningServer(ctx.env);
    const live = server ? await adminCall<Array<{ name: string; served: Array<{ model: string; version: number; ready: boolean }> }>>(server, "/admin/status") : [];
    const onKubernetes = await kubernetesReadiness(recorded);
    return recorded.map((r) => {
      const o = r.outputs as EndpointOutputs;
      const k = onKubernetes.get(r.name);
      if (o.kubernetes && k) {
        // Served by its Deployment, not the gateway: ready is the Deployment's (null when the API cannot be asked).
        const ready = k.state === "unknown" ? null : k.state === "ready";
        return {
          name: r.name,
          url: o.url,
          configVersion: o.kubernetes.configVersion,
          served: o.kubernetes.served.map((s) => ({ model: s.model, version: s.version, percent: s.percent, ready })),
          deployedAt: o.deployed_at,
          expiresAt: o.expires_at,
          owner: o.owner ?? null,
          kubernetes: k,
        };
      }
      const config = o.config!;
      const l = live.find((e) => e.name === r.name);
      return {
        name: r.name,
        // The running server's address (it may have restarted on another port since the deploy).
        url: server ? `${server.url}/serving-endpoints/${r.name}/invocations` : o.url,
        configVersion: config.configVersion,
        served: config.served.map((s) => ({ model: s.model, version: s.version, percent: s.percent, ready: l ? (l.served.find((x) => x.model === s.model && x.version === s.version)?.ready ?? false) : null })),
        deployedAt: o.deployed_at,
        expiresAt: o.expires_at,
        owner: o.owner ?? null,
      };
    });
  });
}

/** Sends one request to an endpoint through the gateway, with the caller's token. */
export async function queryEndpoint(options: ProjectOptions & { name: string; data: string; token?: string; protocol?: "mlflow" | "oip" }, ctx: OperationContext): Promise<{ status: number; body: unknown; requestId: string | null }> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_QUERY", "endpoints query", `endpoint.${options.name}`);
  return withStores(compiled, ctx.env, async (stores) => {
    const outputs = await knownEndpoint(stores, compiled.project.name, compiled.project.target.name, options.name);
    const k = outputs.kubernetes;
    if (k) {
      throw new SlipwayError("endpoint_on_kubernetes", `endpoint ${options.name} is served on Kubernetes (Service ${k.namespace}/${k.name}), not by this home's gateway`, {
        hint: `query it from inside the cluster at ${outputs.url ?? `http://${k.name}.${k.namespace}.svc`} (the Open Inference Protocol of its image), or from here through \`kubectl port-forward -n ${k.namespace} service/${k.name} 8080:80\``,
      });
    }
    try {
      JSON.parse(options.data);
    } catch (e) {
      throw new InvalidInputError([{ message: `--data is not valid JSON: ${(e as Error).message}`, hint: `for example --data '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'` }], "invalid_flag");
    }
    const server = await ensureServer(ctx.env);
    const token = options.token ?? ctx.env.token ?? (await localToken(stores, ctx.env));
    const path = options.protocol === "oip" ? `/v2/models/${options.name}/infer` : `/serving-endpoints/${options.name}/invocations`;
    // A server that just started answers 503 (Retry-After) until the endpoint is restored: wait for it.
    const r = await fetchRetrying(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: options.data }, ctx.env.clock);
    const text = await r.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* keep the text */
    }
    return { status: r.status, body, requestId: r.headers.get("x-request-id") };
  });
}

export async function endpointLogs(options: ProjectOptions & { name: string; limit?: number }, ctx: OperationContext): Promise<InferenceRow[]> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "endpoints logs");
  return withStores(compiled, ctx.env, async (stores) => {
    await knownEndpoint(stores, compiled.project.name, compiled.project.target.name, options.name);
    const server = await runningServer(ctx.env);
    if (server) await adminCall(server, "/admin/flush");
    // A PostgreSQL home's table holds what every server on the database answered.
    const table = await openInferenceReader(inferencePlace(ctx.env.home, ctx.env.processEnv));
    try {
      return await table.read({ project: compiled.project.name, target: compiled.project.target.name, endpoint: options.name }, options.limit ?? 100);
    } finally {
      await table.close();
    }
  });
}

export async function createAccessToken(options: ProjectOptions & { user: string; groups: string[]; description?: string }, ctx: OperationContext): Promise<{ token: string; user: string; groups: string[] }> {
  // The same rule as SLIPWAY_USER and permissions: a token's identity is what grants are matched against.
  toUserName(options.user, "--user");
  for (const g of options.groups) toUserName(g, "--group");
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", "tokens create");
  return withStores(compiled, ctx.env, async (stores) => {
    const token = await createToken(stores.state.tokens(), { user: options.user, groups: options.groups }, options.description ?? null, iso(ctx.env.clock.now()));
    return { token, user: options.user, groups: options.groups };
  });
}

/** The current user's own token, kept in SLIPWAY_HOME/credentials (mode 0600), created on first use. */
async function localToken(stores: Stores, env: RuntimeEnv): Promise<string> {
  const dir = join(env.home, "credentials");
  const file = join(dir, `${env.user}.token`);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const identity: Identity = { user: env.user, groups: [] };
  const token = await createToken(stores.state.tokens(), identity, "local CLI token", iso(env.clock.now()));
  writeFileSync(file, token, { mode: 0o600 });
  return token;
}

async function knownEndpoint(stores: Stores, project: string, target: string, name: string): Promise<Partial<EndpointOutputs>> {
  const recorded = (await stores.state.forTarget(project, target).listResources()).filter((r) => r.kind === "endpoint");
  const names = recorded.map((r) => r.name);
  const found = recorded.find((r) => r.name === name);
  if (found) return found.outputs as Partial<EndpointOutputs>;
  throw new InvalidInputError([{ message: `no endpoint ${name} is deployed to ${project}/${target}`, hint: didYouMean(name, names) ?? (names.length ? `endpoints: ${names.join(", ")}` : "deploy one first") }], "unknown_endpoint");
}

/**
 * Destroys endpoints whose target TTL has run out since their last deploy, through the engine (lease,
 * journal, revision) like any destroy. Returns the names destroyed.
 */
export async function reapExpiredEndpoints(stores: Stores, env: RuntimeEnv, ctx: Partial<OperationContext> = {}, only?: { project: string; target: string }): Promise<string[]> {
  const now = env.clock.now();
  const expired = (await stores.state.resourcesOfKind("endpoint")).filter((r) => {
    if (only && (r.project !== only.project || r.target !== only.target)) return false;
    const at = (r.outputs as Partial<EndpointOutputs>).expires_at;
    return at && Date.parse(at) <= now;
  });
  const byTarget = new Map<string, typeof expired>();
  for (const r of expired) byTarget.set(`${r.project}\u0000${r.target}`, [...(byTarget.get(`${r.project}\u0000${r.target}`) ?? []), r]);
  const gone: string[] = [];
  for (const list of byTarget.values()) {
    const { project, target } = list[0]!;
    const doomed = new Set(list.flatMap((r) => [r.address, `permission.endpoint.${r.name}`]));
    const outcome = await runDeployment(
      stores,
      {
        operation: "expire",
        projectName: project,
        targetName: target,
        projectDir: env.home,
        options: { expired: list.map((r) => r.name) },
        // Recomputed from what is recorded under the lease: a redeploy since the scan keeps its endpoint.
        makePlan: (recorded) => {
          const still = new Set(
            recorded
              .filter((r) => doomed.has(r.address) && r.kind === "endpoint")
              .filter((r) => {
                const at = (r.outputs as Partial<EndpointOutputs>).expires_at;
                return at && Date.parse(at) <= env.clock.now();
              })
              .flatMap((r) => [r.address, `permission.endpoint.${r.name}`]),
          );
          return planChanges(recorded.filter((r) => !still.has(r.address)), recorded, kindLookup.changeKind, {}, kindLookup.removedAfter);
        },
        confirmation: () => undefined,
      },
      { env, reporter: ctx.reporter ?? silentReporter },
    );
    if (outcome.status === "failed") throw new SlipwayError("reap_failed", `expiring endpoints of ${project}/${target} failed: ${outcome.apply?.failed.map((f) => f.error.message).join("; ")}`);
    gone.push(...list.map((r) => `${project}/${target}/${r.name}`));
  }
  return gone;
}
