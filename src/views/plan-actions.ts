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
  return { address: a.address, kind: a.kind, module: a.module, phase: a.phase, action: a.action, changes: a.changes.map(changeView) };
}
