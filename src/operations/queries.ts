// Read-only views of a target: status, history, settings.
import { ttlInfo, type TtlInfo } from "./ttl.js";
import type { RecordedResource } from "../resources.js";
import { kindLookup, specOf } from "../kinds/index.js";
import { iso } from "../clock.js";
import { planChanges, type PlanSummary } from "../engine/plan.js";
import { resolveServedAliases } from "../kinds/endpoint/refresh.js";
import { endpointServing, type Serving } from "../serving/reconcile.js";
import { kubernetesReadiness, type KubernetesEndpointView } from "./endpoints.js";
import type { DeploymentRow, SettingRow } from "../store/state/state-store.js";
import { libraryDrift, type LibraryDrift } from "../compute/drift.js";
import { authorizeFor, compileFor, withStores, type ControlPlaneAccess, type OperationContext, type ProjectOptions } from "./context.js";

export interface ModuleStatus {
  name: string;
  deployed: boolean;
  deployedAt?: string;
  resources: number;
  dependsOn: string[];
}

export interface StatusResult {
  project: string;
  target: string;
  protected: boolean;
  revision?: number;
  lastDeployment?: HistoryEntry;
  lock?: { user: string; host: string; pid: number; operation: string; since: string; expiresAt: string };
  modules: ModuleStatus[];
  resources: Record<string, number>;
  /** What `deploy` would do now. */
  pending: PlanSummary;
  /**
   * Libraries installed in deployed compute environments that differ from the config's pins (a
   * version installed by hand): deploy keeps them, `deploy --reconcile` installs the pins.
   */
  drift: LibraryDrift[];
  /** Deployed endpoints, when each expires under the target's TTL, and whether the local server serves it now. */
  /** serving: the gateway's, or for an endpoint served on Kubernetes its Deployment's readiness (with the detail in `kubernetes`). */
  endpoints: Array<{ name: string; url: string; deployedAt: string; expiresAt: string | null; serving: Serving | "unknown"; kubernetes?: KubernetesEndpointView }>;
  /**
   * Who may do what on the target: the config's grants as deployed (per resource), grants made through
   * the control plane, and the owner (CAN_MANAGE). Sorted by resource (the target first), level, principal.
   */
  permissions: TargetGrant[];
  /** The target's `ttl`: when what is deployed is destroyed (the countdown), pins, a failing deletion. */
  ttl: TtlInfo | null;
}

export interface TargetGrant {
  /** An address (`job.train`), or null for the whole target. */
  resource: string | null;
  level: string;
  principalKind: "user" | "group" | "service_principal";
  principal: string;
  /** config: the deployed `permissions:`; granted: `slipway permissions grant`; owner: the target's owner. */
  source: "config" | "granted" | "owner";
}

export interface HistoryEntry {
  id: string;
  revision: number | null;
  operation: string;
  status: string;
  user: string;
  host: string;
  startedAt: string;
  finishedAt: string | null;
  summary: PlanSummary;
  options: Record<string, unknown>;
  error: string | null;
}

export async function status(options: ProjectOptions, ctx: OperationContext): Promise<StatusResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "status");
  const { project } = compiled;
  return withStores(compiled, ctx.env, async (stores) => {
    const state = stores.state.forTarget(project.name, project.target.name);
    const [recorded, lock, deployments, latest, installs, firstDeployer, controlPlane] = await Promise.all([
      state.listResources(),
      state.getLock(),
      state.listDeployments(1),
      state.latestRevision(),
      stores.state.compute(project.name, project.target.name).listInstalls(),
      state.firstDeployer(),
      ctx.controlPlaneAccess?.(project.name, project.target.name),
    ]);
    await resolveServedAliases(compiled.resources, stores.state.models(project.name, project.target.name));
    const endpointRecords = recorded.filter((r) => r.kind === "endpoint");
    const onKubernetes = await kubernetesReadiness(endpointRecords);
    const { server, serving } = await endpointServing(
      ctx.env,
      endpointRecords.filter((r) => !onKubernetes.has(r.name)).map((r) => r.name),
    );
    const resources: Record<string, number> = {};
    const perModule = new Map<string, number>();
    for (const r of recorded) {
      resources[r.kind] = (resources[r.kind] ?? 0) + 1;
      perModule.set(r.module, (perModule.get(r.module) ?? 0) + 1);
    }
    const markers = new Map(recorded.filter((r) => r.kind === "module").map((r) => [r.module, r]));
    const names = [...new Set([...project.modules.map((m) => m.name), ...perModule.keys()])];
    const modules = names.map((name) => {
      const marker = markers.get(name);
      return {
        name,
        deployed: !!marker,
        deployedAt: marker?.outputs.deployed_at as string | undefined,
        resources: perModule.get(name) ?? 0,
        dependsOn: compiled.moduleDeps.get(name) ?? (marker ? specOf(marker, "module").depends_on : []),
      };
    });
    return {
      project: project.name,
      target: project.target.name,
      protected: project.target.protected,
      revision: latest?.revision ?? undefined,
      lastDeployment: deployments[0] && toHistory(deployments[0]),
      lock: lock && { user: lock.owner_user, host: lock.owner_host, pid: lock.owner_pid, operation: lock.operation, since: lock.acquired_at, expiresAt: iso(lock.expires_at) },
      modules,
      resources,
      pending: planChanges(compiled.resources, recorded, kindLookup.changeKind).summary,
      drift: libraryDrift(compiled.resources, recorded, installs),
      endpoints: recorded
        .filter((r) => r.kind === "endpoint")
        // The running server's address when there is one (it may have restarted on another port).
        .map((r) => {
          const base = { name: r.name, deployedAt: String(r.outputs.deployed_at ?? r.updatedAt), expiresAt: (r.outputs.expires_at as string | null | undefined) ?? null };
          const k = onKubernetes.get(r.name);
          // On Kubernetes: its Service's in-cluster address and its Deployment's readiness (the gateway does not serve it).
          if (k) return { ...base, url: String(r.outputs.url ?? ""), serving: k.state === "ready" ? ("ready" as const) : k.state === "unknown" ? ("unknown" as const) : ("not_ready" as const), kubernetes: k };
          return { ...base, url: server ? `${server.url}/serving-endpoints/${r.name}/invocations` : String(r.outputs.url ?? ""), serving: serving.get(r.name) ?? "no_server" };
        }),
      permissions: targetGrants(recorded, controlPlane, firstDeployer),
      ttl: await ttlInfo(compiled, stores, ctx.env.clock.now()),
    };
  });
}

export async function history(options: ProjectOptions & { limit?: number }, ctx: OperationContext): Promise<{ project: string; target: string; deployments: HistoryEntry[] }> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "history");
  return withStores(compiled, ctx.env, async (stores) => {
    const state = stores.state.forTarget(compiled.project.name, compiled.project.target.name);
    return { project: compiled.project.name, target: compiled.project.target.name, deployments: (await state.listDeployments(options.limit ?? 50)).map(toHistory) };
  });
}

export async function listSettings(options: ProjectOptions & { module?: string }, ctx: OperationContext): Promise<{ project: string; target: string; settings: SettingRow[] }> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "settings list");
  return withStores(compiled, ctx.env, async (stores) => {
    const state = stores.state.forTarget(compiled.project.name, compiled.project.target.name);
    const [settings, recorded] = await Promise.all([state.listSettings(options.module), state.listResources()]);
    const sensitive = new Set(recorded.filter((r) => r.kind === "setting" && r.spec.sensitive).map((r) => `${r.spec.module}\u0000${r.spec.key}`));
    return {
      project: compiled.project.name,
      target: compiled.project.target.name,
      settings: settings.map((row) => (sensitive.has(`${row.module}\u0000${row.key}`) ? { ...row, value: "***" } : row)),
    };
  });
}

function toHistory(d: DeploymentRow): HistoryEntry {
  return {
    id: d.id,
    revision: d.revision,
    operation: d.operation,
    status: d.status,
    user: d.user,
    host: d.host,
    startedAt: d.started_at,
    finishedAt: d.finished_at,
    summary: JSON.parse(d.summary),
    options: JSON.parse(d.options),
    error: d.error,
  };
}

const PRINCIPALS = ["user", "group", "service_principal"] as const;

/** The target's grants from its three sources (see StatusResult.permissions), without duplicates. */
function targetGrants(recorded: RecordedResource[], controlPlane: ControlPlaneAccess | undefined, firstDeployer: string | null): TargetGrant[] {
  const out = new Map<string, TargetGrant>();
  const add = (g: TargetGrant) => out.set(JSON.stringify([g.resource, g.level, g.principalKind, g.principal, g.source]), g);
  for (const r of recorded) {
    if (r.kind !== "permission") continue;
    const spec = specOf(r, "permission");
    for (const g of spec.grants) {
      const kind = PRINCIPALS.find((k) => (g as Record<string, unknown>)[k] !== undefined);
      if (kind) add({ resource: spec.resource, level: g.level, principalKind: kind, principal: String((g as Record<string, unknown>)[kind]), source: "config" });
    }
  }
  for (const g of controlPlane?.grants ?? []) {
    const kind = PRINCIPALS.find((k) => k === g.principal_kind);
    if (kind) add({ resource: g.resource || null, level: g.level, principalKind: kind, principal: g.principal, source: "granted" });
  }
  // The owner: the user whose deploy claimed the target, else its first deployer (as the authorizer decides).
  const owner = controlPlane?.owner ?? firstDeployer;
  if (owner) add({ resource: null, level: "CAN_MANAGE", principalKind: "user", principal: owner, source: "owner" });
  return [...out.values()].sort((a, b) => (a.resource ?? "").localeCompare(b.resource ?? "") || a.level.localeCompare(b.level) || a.principalKind.localeCompare(b.principalKind) || a.principal.localeCompare(b.principal) || a.source.localeCompare(b.source));
}
