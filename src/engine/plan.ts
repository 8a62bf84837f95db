// The plan: a pure function of (desired resources, recorded state, scope). It touches no provider: the
// only thing it asks a kind is whether a change is an update or a replace (`changeKind`, handed in).
// Deletes are ordered in reverse dependency order, everything else in dependency order.
import type { DesiredResource, RecordedResource, ResourceKind, ResourceRuntime } from "../resources.js";
import { topologicalOrder } from "../util/graph.js";
import type { ChangeKind, RemovedAfter } from "./provider.js";

export type ActionType = "create" | "update" | "replace" | "delete";

export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface PlannedAction {
  address: string;
  kind: ResourceKind;
  module: string;
  phase: number;
  action: ActionType;
  /** For update and replace: the spec fields that differ. */
  changes: FieldChange[];
  desired?: DesiredResource;
  recorded?: RecordedResource;
  /** For deletes: the folder and environment to run destroy scripts with (set by the operation). */
  runtime?: ResourceRuntime;
  /** For deletes: the other deletes that must finish first (dependents, and what it outlasts). */
  after?: string[];
}

export interface PlanSummary {
  create: number;
  update: number;
  replace: number;
  delete: number;
  noop: number;
}

export interface Plan {
  /** Deletes first (dependents before what they depend on), then the rest in dependency order. */
  actions: PlannedAction[];
  summary: PlanSummary;
}

export interface PlanScope {
  /** Deploy only resources with phase <= this; deployed resources of later phases are deleted. */
  phase?: number;
  /** Only these modules are planned; others are left exactly as they are. */
  modules?: ReadonlySet<string>;
}

/** `removedAfter` orders deletes beyond dependencies (the kinds registry's `kindLookup.removedAfter`). */
export function planChanges(
  desired: readonly DesiredResource[],
  recorded: readonly RecordedResource[],
  changeKind: (kind: ResourceKind) => ChangeKind,
  scope: PlanScope = {},
  removedAfter?: RemovedAfter,
): Plan {
  const inModules = (module: string) => !scope.modules || scope.modules.has(module);
  const wanted = desired.filter((d) => inModules(d.module) && (scope.phase === undefined || d.phase <= scope.phase));
  const wantedByAddress = new Map(wanted.map((d) => [d.address, d]));
  const recordedByAddress = new Map(recorded.map((r) => [r.address, r]));
  const summary: PlanSummary = { create: 0, update: 0, replace: 0, delete: 0, noop: 0 };

  const forward: PlannedAction[] = [];
  for (const d of topologicalOrder(wanted)) {
    const r = recordedByAddress.get(d.address);
    const base = { address: d.address, kind: d.kind, module: d.module, phase: d.phase, desired: d };
    if (!r) {
      forward.push({ ...base, action: "create", changes: [] });
      summary.create++;
    } else if (r.specHash !== d.specHash || r.phase !== d.phase || !sameList(r.dependsOn, d.dependsOn)) {
      const action = r.kind === d.kind ? changeKind(d.kind)(r, d) : "replace";
      const changes = r.spec.sensitive || d.spec.sensitive ? maskChanges(diffFields(r.spec, d.spec)) : diffFields(r.spec, d.spec);
      if (r.phase !== d.phase) changes.push({ path: "phase", before: r.phase, after: d.phase });
      forward.push({ ...base, action, changes, recorded: r });
      summary[action]++;
    } else {
      summary.noop++;
    }
  }

  const doomed = recorded.filter((r) => !wantedByAddress.has(r.address) && inModules(r.module));
  const deletes = deleteOrder(doomed, removedAfter).map(
    ({ resource: r, after }): PlannedAction => ({ address: r.address, kind: r.kind, module: r.module, phase: r.phase, action: "delete", changes: [], recorded: r, after }),
  );
  summary.delete = deletes.length;
  return { actions: [...deletes, ...forward], summary };
}

export function isEmpty(plan: Plan): boolean {
  return plan.actions.length === 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

export { topologicalOrder };

export function reverseTopologicalOrder<T extends { address: string; dependsOn: readonly string[] }>(nodes: readonly T[]): T[] {
  return topologicalOrder(nodes).reverse();
}

/**
 * The order of deletes: a resource goes after everything that depends on it, except that a resource
 * that `removedAfter` says outlasts some it depends on (a module's marker, which depends on its
 * module's resources) goes after them instead; they still go after everything that depends on it
 * (another module's resources go before this module's hooks, as before).
 */
export function deleteOrder(doomed: readonly RecordedResource[], removedAfter?: RemovedAfter): Array<{ resource: RecordedResource; after: string[] }> {
  const set = new Set(doomed.map((r) => r.address));
  const outlasts = new Map(doomed.map((r) => [r.address, new Set((removedAfter?.(r, doomed) ?? []).filter((a) => set.has(a) && a !== r.address))]));
  const after = new Map<string, Set<string>>(doomed.map((r) => [r.address, new Set(outlasts.get(r.address))]));
  const dependents = new Map<string, string[]>(doomed.map((r) => [r.address, []]));
  for (const y of doomed) {
    for (const x of y.dependsOn) {
      // y depends on x: x waits for y, unless y is to outlast x.
      if (!set.has(x) || outlasts.get(y.address)!.has(x)) continue;
      after.get(x)!.add(y.address);
      dependents.get(x)!.push(y.address);
    }
  }
  // What x outlasts waits for x's dependents too (another module's resources, and x's own module's
  // resources of a later phase: both depend on the marker). Among the latter, which x outlasts and
  // which are dependents of x themselves, their own dependencies decide: making each wait for the
  // others would be a cycle.
  for (const [x, ys] of outlasts) {
    const ds = dependents.get(x)!;
    for (const y of ys) for (const d of ds) if (d !== y && !(ys.has(d) && ds.includes(y))) after.get(y)!.add(d);
  }
  const nodes = reverseTopologicalOrder(doomed).map((r) => ({ address: r.address, dependsOn: [...after.get(r.address)!], resource: r }));
  return topologicalOrder(nodes).map((n) => ({ resource: n.resource, after: n.dependsOn }));
}

/** Field-level differences between two specs, as dotted paths. */
export function diffFields(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => diffFields(b, after[i], path ? `${path}.${i}` : String(i)));
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    const out: FieldChange[] = [];
    for (const key of [...keys].sort()) out.push(...diffFields(before[key], after[key], path ? `${path}.${key}` : key));
    return out;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: path || "(value)", before, after }];
}

/** A sensitive resource shows which fields changed, never their values. */
function maskChanges(changes: FieldChange[]): FieldChange[] {
  return changes.map((c) => (c.path === "sensitive" ? c : { path: c.path, before: c.before === undefined ? undefined : "***", after: c.after === undefined ? undefined : "***" }));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
