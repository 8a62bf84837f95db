// The SDK's result types back from the documents a server answers with (src/views, the other way), so a
// remote Slipway returns what an embedded one returns. Each field is copied by name, as the views copy
// them. What documents do not carry stays absent: a plan's actions have no `desired` / `recorded` specs
// (they hold secret values), and a failed action's error is a SlipwayError with its code, message and hint.
import type { ArtifactVersion } from "../artifacts/store.js";
import type { LibraryDrift } from "../compute/drift.js";
import type { Plan, PlannedAction } from "../engine/plan.js";
import type { ResourceKind } from "../resources.js";
import { SlipwayError, type ErrorCode } from "../errors.js";
import type { ArtifactListing, ArtifactsOverview, GcResult, InstallResult } from "../operations/artifacts.js";
import type { ArchiveListing } from "../operations/archives.js";
import type { ArchiveKind } from "../store/archives.js";
import type { DeployResult, PlanResult, ValidateResult } from "../operations/deploy.js";
import type { EndpointView } from "../operations/endpoints.js";
import type { AppView } from "../operations/apps.js";
import type { ModelVersionView, ModelView } from "../operations/models.js";
import type { ModelPromotion } from "../operations/promote.js";
import type { HistoryEntry, StatusResult } from "../operations/queries.js";
import type { RunDetails, RunSummary } from "../operations/runs.js";
import type { InferenceRow } from "../serving/inference-log.js";
import type { SettingRow } from "../store/state/state-store.js";
import type { FieldsOf } from "../views/documents.js";
import type { PlanJson } from "../views/progress.js";

type ActionJson = PlanJson["actions"][number];
type DriftJson = FieldsOf<"plan">["drift"][number];
type EntryJson = FieldsOf<"history">["deployments"][number];

export function toValidate(d: FieldsOf<"validate">): ValidateResult {
  return { project: d.project, target: d.target, modules: [...d.modules], resources: d.resources, byKind: { ...d.by_kind } };
}

export function toAction(a: ActionJson): PlannedAction {
  return { address: a.address, kind: a.kind as ResourceKind, module: a.module, phase: a.phase, action: a.action, changes: a.changes.map((c) => ({ ...c })) };
}

export function toPlan(p: PlanJson): Plan {
  return { actions: p.actions.map(toAction), summary: { ...p.summary } };
}

function toDrift(d: DriftJson): LibraryDrift {
  return { resource: d.resource, environment: d.environment, artifact: d.artifact, installed: d.installed, config: d.config, installedBy: d.installed_by, installedAt: d.installed_at };
}

export function toPlanResult(d: FieldsOf<"plan">): PlanResult {
  return { project: d.project, target: d.target, plan: toPlan(d), drift: d.drift.map(toDrift) };
}

export function toDeployResult(d: FieldsOf<"deploy">): DeployResult {
  const plan = toPlan(d);
  const byAddress = new Map(plan.actions.map((a) => [a.address, a]));
  const failed = new Set(d.failed.map((f) => f.address));
  const skipped = new Set(d.skipped);
  const r: DeployResult = { project: d.project, target: d.target, status: d.status, plan };
  if (d.revision !== null) r.revision = d.revision;
  if (d.deployment_id !== null) r.deploymentId = d.deployment_id;
  if (d.log_file !== null) r.logFile = d.log_file;
  if (d.status !== "no-changes") {
    r.apply = {
      ok: d.failed.length === 0,
      done: plan.actions.filter((a) => !failed.has(a.address) && !skipped.has(a.address)),
      failed: d.failed.map((f) => ({ action: byAddress.get(f.address) ?? toAction({ address: f.address, kind: f.address.split(".")[0]!, module: "", phase: 0, action: "update", changes: [] }), error: new SlipwayError(f.code as ErrorCode, f.error, { hint: f.hint ?? undefined }) })),
      skipped: d.skipped.map((s) => byAddress.get(s)!).filter(Boolean),
    };
  }
  if (d.runs.length) r.runs = d.runs.map((x) => ({ job: x.job, run: x.run }));
  return r;
}

export function toHistoryEntry(d: EntryJson): HistoryEntry {
  return {
    id: d.id,
    revision: d.revision,
    operation: d.operation,
    status: d.status,
    user: d.user,
    host: d.host,
    startedAt: d.started_at,
    finishedAt: d.finished_at,
    summary: { ...d.summary },
    options: { ...d.options },
    error: d.error,
  };
}

export function toStatus(d: FieldsOf<"status">): StatusResult {
  const s: StatusResult = {
    project: d.project,
    target: d.target,
    protected: d.protected,
    modules: d.modules.map((m) => ({ name: m.name, deployed: m.deployed, ...(m.deployed_at !== null ? { deployedAt: m.deployed_at } : {}), resources: m.resources, dependsOn: [...m.depends_on] })),
    resources: { ...d.resources },
    pending: { ...d.pending },
    drift: d.drift.map(toDrift),
    endpoints: d.endpoints.map((e) => ({ name: e.name, url: e.url, deployedAt: e.deployed_at, expiresAt: e.expires_at, serving: e.serving, ...(e.kubernetes ? { kubernetes: kubernetesFrom(e.kubernetes) } : {}) })),
    permissions: d.permissions.map((g) => ({ resource: g.resource, level: g.level, principalKind: g.principal_kind, principal: g.principal, source: g.source })),
    ttl: d.ttl
      ? {
          scope: d.ttl.scope,
          after: d.ttl.after,
          notifyBefore: d.ttl.notify_before,
          status: d.ttl.status,
          deployedAt: d.ttl.deployed_at,
          deployedBy: d.ttl.deployed_by,
          dueAt: d.ttl.due_at,
          remainingMs: d.ttl.remaining_ms,
          extendedMs: d.ttl.extended_ms,
          pinnedBy: d.ttl.pinned_by,
          pinnedAt: d.ttl.pinned_at,
          attempts: d.ttl.attempts,
          lastError: d.ttl.last_error,
          nextAttemptAt: d.ttl.next_attempt_at,
          finishedAt: d.ttl.finished_at,
          deliveries: d.ttl.notifications.map((n) => ({ ...n })),
          endpoints: d.ttl.endpoints.map((e) => ({ name: e.name, expiresAt: e.expires_at })),
        }
      : null,
  };
  if (d.revision !== null) s.revision = d.revision;
  if (d.last_deployment) s.lastDeployment = toHistoryEntry(d.last_deployment);
  if (d.lock) s.lock = { user: d.lock.user, host: d.lock.host, pid: d.lock.pid, operation: d.lock.operation, since: d.lock.since, expiresAt: d.lock.expires_at };
  return s;
}

export function toSettings(d: FieldsOf<"settings list">): SettingRow[] {
  return d.settings.map((s) => ({ module: s.module, key: s.key, value: s.value }) as SettingRow);
}

export function toRunSummary(d: FieldsOf<"runs">["runs"][number]): RunSummary {
  return {
    id: d.id,
    job: d.job,
    project: d.project,
    target: d.target,
    status: d.status,
    params: { ...d.params },
    createdAt: d.created_at,
    startedAt: d.started_at,
    finishedAt: d.finished_at,
    durationMs: d.duration_ms,
    error: d.reason,
    trigger: d.trigger,
    triggerRef: d.schedule,
  };
}

export function toRunDetails(d: FieldsOf<"runs show">): RunDetails {
  return {
    ...toRunSummary(d),
    bundle: d.bundle,
    executor: d.executor,
    handle: { ...d.handle },
    tasks: d.tasks.map((t) => ({ task: t.task, status: t.status, attempts: t.attempts, exitCode: t.exit_code, startedAt: t.started_at, finishedAt: t.finished_at, durationMs: t.duration_ms, cachedFrom: t.cached_from, error: t.error })),
    results: d.results,
    metrics: d.metrics,
    provenance: d.provenance as Record<string, unknown> | null,
  };
}

export function toModelVersion(v: FieldsOf<"models show">): ModelVersionView {
  return {
    model: v.model,
    version: v.version,
    registeredName: v.registered_name,
    flavor: v.flavor,
    aliases: [...v.aliases],
    metrics: { ...v.metrics },
    tags: { ...v.tags },
    lineage: { ...v.lineage },
    files: { ...v.files },
    manifest: { ...v.manifest },
    createdAt: v.created_at,
    promotedFrom: v.promoted_from ? { ...v.promoted_from } : null,
  };
}

export function toModels(d: FieldsOf<"models list">): ModelView[] {
  return d.models.map((m) => ({ model: m.model, registeredName: m.registered_name, latestVersion: m.latest_version, versions: m.versions, aliases: { ...m.aliases } }));
}

export function toApps(d: FieldsOf<"apps list">): AppView[] {
  return d.apps.map((a) => ({ name: a.name, url: a.url, state: a.state, message: a.message, configVersion: a.config_version, bundle: a.bundle, replicas: a.replicas, readyReplicas: a.ready_replicas, restarts: a.restarts, pids: [...a.pids], anonymous: a.anonymous, deployedAt: a.deployed_at, owner: a.owner, recentLogs: [...a.recent_logs] }));
}

export function toEndpoints(d: FieldsOf<"endpoints list">): EndpointView[] {
  return d.endpoints.map((e) => ({ name: e.name, url: e.url, configVersion: e.config_version, served: e.served.map((s) => ({ ...s })), deployedAt: e.deployed_at, expiresAt: e.expires_at, owner: e.owner, ...(e.kubernetes ? { kubernetes: kubernetesFrom(e.kubernetes) } : {}) }));
}

export function toInferenceRows(d: FieldsOf<"endpoints logs">): InferenceRow[] {
  return d.requests.map((r) => ({ ...r }));
}

export function toArtifactListing(d: Extract<FieldsOf<"artifacts list">, { versions: unknown[] }>): ArtifactListing {
  return {
    project: d.project,
    target: d.target,
    artifact: d.artifact,
    type: d.type,
    keepLast: d.keep_last,
    store: d.store,
    versions: d.versions.map((v) => {
      const out: ArtifactVersion & { in_use: Array<{ by: string; reason: string }> } = {
        project: v.project,
        target: v.target,
        artifact: v.artifact,
        version: v.version,
        type: v.type as ArtifactVersion["type"],
        package: v.package,
        filename: v.filename,
        sha256: v.sha256,
        size: v.size,
        created_at: v.created_at,
        published_by: v.published_by,
        in_use: v.in_use.map((u) => ({ by: u.by, reason: u.reason })),
      };
      if (v.source_sha256 !== null) out.source_sha256 = v.source_sha256;
      if (v.promoted_from !== null) out.promoted_from = { ...v.promoted_from };
      return out as ArtifactListing["versions"][number];
    }),
  };
}

export function toArtifactsOverview(d: Extract<FieldsOf<"artifacts list">, { artifacts: unknown[] }>): ArtifactsOverview {
  return {
    project: d.project,
    target: d.target,
    store: d.store,
    artifacts: d.artifacts.map((a) => ({ artifact: a.artifact, type: a.type, path: a.path, keepLast: a.keep_last, versions: a.versions, bytes: a.bytes, latest: a.latest && { ...a.latest }, built: a.built && { ...a.built } })),
  };
}

export function toInstall(d: FieldsOf<"artifacts install">): InstallResult {
  return { ...d };
}

export function toGc(d: FieldsOf<"artifacts gc">): GcResult {
  return {
    project: d.project,
    target: d.target,
    artifacts: d.artifacts.map((a) => ({ artifact: a.artifact, keepLast: a.keep_last, versions: a.versions })),
    delete: d.delete.map((x) => ({ ...x })),
    keptInUse: d.kept_in_use.map((k) => ({ artifact: k.artifact, version: k.version, in_use: k.in_use.map((u) => ({ ...u })) })) as GcResult["keptInUse"],
    kept: d.kept,
    staleInstalls: d.stale_installs.map((s) => ({ ...s })),
    strandedEnvironments: d.stranded_environments.map((e) => ({ ...e })),
    dryRun: d.dry_run,
    freedBytes: d.freed_bytes,
  };
}

export function toModelPromotion(p: FieldsOf<"models promote">): ModelPromotion {
  return { model: p.model, from: { ...p.from }, to: { ...p.to }, promoted: p.promoted, alias: p.alias, copied: { ...p.copied }, version: toModelVersion(p.version) };
}

export function toArchiveListing(d: FieldsOf<"archives list">): ArchiveListing {
  return {
    kind: d.kind as ArchiveKind,
    location: d.location,
    run: d.run,
    count: d.count,
    bytes: d.bytes,
    groups: d.groups.map((g) => ({ name: g.name, count: g.count, bytes: g.bytes, modified: g.modified, entries: g.entries.map((e) => ({ key: e.key, size: e.size, modified: e.modified })) })),
    hidden: d.hidden,
  };
}

/** An endpoint served on Kubernetes, from its document part. */
function kubernetesFrom(k: { namespace: string; name: string; state: "ready" | "progressing" | "missing" | "unknown"; replicas: number; ready_replicas: number; reason?: string }) {
  return { namespace: k.namespace, name: k.name, state: k.state, replicas: k.replicas, readyReplicas: k.ready_replicas, ...(k.reason !== undefined ? { reason: k.reason } : {}) };
}
