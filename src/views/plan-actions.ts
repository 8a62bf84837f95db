// A plan's summary and actions as documents carry them (schemas: ./deployments.ts). A file without zod:
// progress events (./progress.ts) are made from these in every command that plans.
import type { z } from "zod";
import type { FieldChange, PlannedAction, PlanSummary } from "../engine/plan.js";
import type { actionSchema, changeSchema, summarySchema } from "./deployments.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

export function summaryView(s: PlanSummary): Infer<typeof summarySchema> {
  return { create: s.create, update: s.update, replace: s.replace, delete: s.delete, noop: s.noop };
}

function changeView(c: FieldChange): Infer<typeof changeSchema> {
  const out: Infer<typeof changeSchema> = { path: c.path };
  if (c.before !== undefined) out.before = c.before;
  if (c.after !== undefined) out.after = c.after;
  return out;
}

export function actionView(a: PlannedAction): Infer<typeof actionSchema> {
  const where = placement(a);
  return { address: a.address, kind: a.kind, module: a.module, phase: a.phase, action: a.action, changes: a.changes.map(changeView), ...(where ? { placement: where } : {}) };
}

/**
 * Where an action takes effect when it is not this home: an endpoint served on Kubernetes (its spec's
 * `kubernetes`, or for a delete what its record says). Read from the data, without loading the kinds.
 */
function placement(a: PlannedAction): string | undefined {
  if (a.kind !== "endpoint") return undefined;
  type Place = { namespace?: unknown; name?: unknown };
  const k = (a.action === "delete" ? (a.recorded?.outputs as { kubernetes?: Place } | undefined)?.kubernetes : (a.desired?.spec as { kubernetes?: Place } | undefined)?.kubernetes) ?? undefined;
  if (!k || typeof k.namespace !== "string" || typeof k.name !== "string") return undefined;
  return `Kubernetes: Deployment and Service ${k.namespace}/${k.name}`;
}
