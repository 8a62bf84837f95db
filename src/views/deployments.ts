// Public JSON of validate, plan, deploy / destroy / rollback, status, history and settings: each field
// named and copied here, so renaming an internal field cannot change a document.
import { ttlInfoSchema, ttlInfoView } from "./ttl.js";
import { kubernetesEndpointSchema, kubernetesEndpointView } from "./endpoints.js";
import { z } from "zod";
import type { LibraryDrift } from "../compute/drift.js";
import type { Plan } from "../engine/plan.js";
import type { ErrorCode } from "../error-codes.js";
import { SlipwayError } from "../errors.js";
import type { DeployResult, PlanResult, ValidateResult } from "../operations/deploy.js";
import type { HistoryEntry, StatusResult } from "../operations/queries.js";
import type { SettingRow } from "../store/state/state-store.js";
import { errorCodeSchema, failureView, type ErrorJson } from "./error.js";
import { actionView, summaryView } from "./plan-actions.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

// ---- validate

export const validateSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    target: z.string(),
    modules: z.array(z.string()),
    resources: z.number().int(),
    by_kind: z.record(z.string(), z.number().int()),
  }),
);

export function validateView(r: ValidateResult): Infer<typeof validateSchema> {
  return { project: r.project, target: r.target, modules: [...r.modules], resources: r.resources, by_kind: { ...r.byKind } };
}

// ---- plan

export const summarySchema = lazy(() =>
  z.strictObject({ create: z.number().int(), update: z.number().int(), replace: z.number().int(), delete: z.number().int(), noop: z.number().int() }),
);

/** `before` / `after` are absent (not null) when the field is absent on that side: null is a value a spec can hold. */
export const changeSchema = lazy(() => z.strictObject({ path: z.string(), before: z.unknown().optional(), after: z.unknown().optional() }));

export const actionSchema = lazy(() =>
  z.strictObject({
    address: z.string(),
    kind: z.string(),
    module: z.string(),
    phase: z.number().int(),
    action: z.enum(["create", "update", "replace", "delete"]),
    changes: z.array(changeSchema()),
    /** Only when the action takes effect outside this home: an endpoint served on Kubernetes ("Kubernetes: Deployment and Service NAMESPACE/NAME"). */
    placement: z.string().optional(),
  }),
);

/**
 * A library installed in a deployed compute environment that differs from the config's pin (a version
 * installed by hand): deploy keeps it, `--reconcile` plans it back to the pin.
 */
export const driftSchema = lazy(() =>
  z.strictObject({
    resource: z.string(),
    environment: z.string(),
    artifact: z.string(),
    /** null: the config pins a version that is not installed. */
    installed: z.string().nullable(),
    /** null: the config does not list the artifact. */
    config: z.string().nullable(),
    installed_by: z.string().nullable(),
    installed_at: z.string().nullable(),
  }),
);

export const planSchema = lazy(() =>
  z.strictObject({ project: z.string(), target: z.string(), summary: summarySchema(), actions: z.array(actionSchema()), drift: z.array(driftSchema()) }),
);

export { actionView, summaryView } from "./plan-actions.js";

function planFields(plan: Plan) {
  return { summary: summaryView(plan.summary), actions: plan.actions.map(actionView) };
}

export function driftView(d: LibraryDrift): Infer<typeof driftSchema> {
  return { resource: d.resource, environment: d.environment, artifact: d.artifact, installed: d.installed, config: d.config, installed_by: d.installedBy, installed_at: d.installedAt };
}

export function planView(r: PlanResult): Infer<typeof planSchema> {
  return { project: r.project, target: r.target, ...planFields(r.plan), drift: r.drift.map(driftView) };
}

// ---- deploy, destroy, rollback (and their failure)

export const deploymentSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    target: z.string(),
    status: z.enum(["succeeded", "failed", "no-changes"]),
    revision: z.number().int().nullable(),
    deployment_id: z.string().nullable(),
    summary: summarySchema(),
    actions: z.array(actionSchema()),
    /** `hint`: what to do about it, when the error says (null otherwise). */
    failed: z.array(z.strictObject({ address: z.string(), code: errorCodeSchema(), error: z.string(), hint: z.string().nullable() })),
    skipped: z.array(z.string()),
    log_file: z.string().nullable(),
    runs: z.array(z.strictObject({ job: z.string(), run: z.string() })),
  }),
);

const codeOf = (e: Error): ErrorCode => (e instanceof SlipwayError ? e.code : "internal");
const hintOf = (e: Error): string | null => {
  const hint = (e as { hint?: unknown }).hint;
  return typeof hint === "string" ? hint : null;
};

export function deploymentView(r: DeployResult): Infer<typeof deploymentSchema> {
  return {
    project: r.project,
    target: r.target,
    status: r.status,
    revision: r.revision ?? null,
    deployment_id: r.deploymentId ?? null,
    ...planFields(r.plan),
    failed: r.apply?.failed.map((f) => ({ address: f.action.address, code: codeOf(f.error), error: f.error.message, hint: hintOf(f.error) })) ?? [],
    skipped: r.apply?.skipped.map((a) => a.address) ?? [],
    log_file: r.logFile ?? null,
    runs: (r.runs ?? []).map((s) => ({ job: s.job, run: s.run })),
  };
}

/**
 * Why a deploy, destroy or rollback failed, as the envelope's `error`: the code of its failed actions
 * when they agree (so `model_version_missing` exits 2 like any invalid input), else `apply_failed`.
 */
export function deploymentFailure(r: DeployResult, verb: string): ErrorJson | undefined {
  if (r.status !== "failed") return undefined;
  const failed = r.apply?.failed ?? [];
  const codes = new Set(failed.map((f) => codeOf(f.error)));
  const code: ErrorCode = codes.size === 1 ? [...codes][0]! : "apply_failed";
  const only = failed.length === 1 ? failed[0] : undefined;
  const message = only ? `${only.action.address}: ${only.error.message}` : failed.length ? `${failed.length} actions failed: ${failed.map((f) => f.action.address).join(", ")}` : `the ${verb} failed`;
  const hint = only && only.error instanceof SlipwayError && only.error.hint ? only.error.hint : `what finished is recorded; run ${verb} again to continue`;
  return failureView(code, message, hint);
}

// ---- history, status

export const deploymentEntrySchema = lazy(() =>
  z.strictObject({
    id: z.string(),
    revision: z.number().int().nullable(),
    operation: z.string(),
    status: z.string(),
    user: z.string(),
    host: z.string(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    summary: summarySchema(),
    /** What was asked, as recorded: phase, modules, with_deps, rollback_to, expired. */
    options: z.record(z.string(), z.unknown()),
    error: z.string().nullable(),
  }),
);

export function deploymentEntryView(d: HistoryEntry): Infer<typeof deploymentEntrySchema> {
  return {
    id: d.id,
    revision: d.revision,
    operation: d.operation,
    status: d.status,
    user: d.user,
    host: d.host,
    started_at: d.startedAt,
    finished_at: d.finishedAt,
    summary: summaryView(d.summary),
    options: { ...d.options },
    error: d.error,
  };
}

export const historySchema = lazy(() => z.strictObject({ project: z.string(), target: z.string(), deployments: z.array(deploymentEntrySchema()) }));

export function historyView(h: { project: string; target: string; deployments: HistoryEntry[] }): Infer<typeof historySchema> {
  return { project: h.project, target: h.target, deployments: h.deployments.map(deploymentEntryView) };
}

export const statusSchema = lazy(() =>
  z.strictObject({
    project: z.string(),
    target: z.string(),
    protected: z.boolean(),
    revision: z.number().int().nullable(),
    last_deployment: deploymentEntrySchema().nullable(),
    lock: z.strictObject({ user: z.string(), host: z.string(), pid: z.number().int(), operation: z.string(), since: z.string(), expires_at: z.string() }).nullable(),
    modules: z.array(z.strictObject({ name: z.string(), deployed: z.boolean(), deployed_at: z.string().nullable(), resources: z.number().int(), depends_on: z.array(z.string()) })),
    resources: z.record(z.string(), z.number().int()),
    pending: summarySchema(),
    drift: z.array(driftSchema()),
    /** serving: the gateway's (ready, not_ready, restoring, not_served, no_server), or for an endpoint served on Kubernetes its Deployment's (ready, not_ready, unknown when the API cannot be asked; `kubernetes` has the detail). */
    endpoints: z.array(
      z.strictObject({
        name: z.string(),
        url: z.string(),
        deployed_at: z.string(),
        expires_at: z.string().nullable(),
        serving: z.enum(["ready", "not_ready", "restoring", "not_served", "no_server", "unknown"]),
        kubernetes: kubernetesEndpointSchema().optional(),
      }),
    ),
    /**
     * Who may do what on the target: `resource` an address, or null for the whole target; `source`
     * config (the deployed `permissions:`), granted (`slipway permissions grant`) or owner (CAN_MANAGE).
     */
    permissions: z.array(
      z.strictObject({
        resource: z.string().nullable(),
        level: z.string(),
        principal_kind: z.enum(["user", "group", "service_principal"]),
        principal: z.string(),
        source: z.enum(["config", "granted", "owner"]),
      }),
    ),
    /** The target's ttl (null without one): see `ttl show`. */
    ttl: ttlInfoSchema().nullable(),
  }),
);

export function statusView(s: StatusResult): Infer<typeof statusSchema> {
  return {
    project: s.project,
    target: s.target,
    protected: s.protected,
    revision: s.revision ?? null,
    last_deployment: s.lastDeployment ? deploymentEntryView(s.lastDeployment) : null,
    lock: s.lock ? { user: s.lock.user, host: s.lock.host, pid: s.lock.pid, operation: s.lock.operation, since: s.lock.since, expires_at: s.lock.expiresAt } : null,
    modules: s.modules.map((m) => ({ name: m.name, deployed: m.deployed, deployed_at: m.deployedAt ?? null, resources: m.resources, depends_on: [...m.dependsOn] })),
    resources: { ...s.resources },
    pending: summaryView(s.pending),
    drift: s.drift.map(driftView),
    endpoints: s.endpoints.map((e) => ({ name: e.name, url: e.url, deployed_at: e.deployedAt, expires_at: e.expiresAt, serving: e.serving, ...(e.kubernetes ? { kubernetes: kubernetesEndpointView(e.kubernetes) } : {}) })),
    permissions: s.permissions.map((g) => ({ resource: g.resource, level: g.level, principal_kind: g.principalKind, principal: g.principal, source: g.source })),
    ttl: s.ttl ? ttlInfoView(s.ttl) : null,
  };
}

// ---- settings

export const settingsSchema = lazy(() =>
  z.strictObject({ project: z.string(), target: z.string(), settings: z.array(z.strictObject({ module: z.string(), key: z.string(), value: z.string() })) }),
);

export function settingsView(r: { project: string; target: string; settings: SettingRow[] }): Infer<typeof settingsSchema> {
  return { project: r.project, target: r.target, settings: r.settings.map((s) => ({ module: s.module, key: s.key, value: s.value })) };
}
