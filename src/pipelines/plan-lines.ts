// A pipeline stage's plan as text lines (approvals show what they would deploy). A file of its own so
// the CLI can print it without loading the pipeline engine.
import type { PlanSummary } from "./effects.js";

export function planLines(p: PlanSummary): string[] {
  const sign: Record<string, string> = { create: "+", update: "~", replace: "-/+", delete: "-" };
  return [...p.changes.map((c) => `  ${sign[c.action] ?? "?"} ${c.action} ${c.address}`), `  ${p.create} to create, ${p.update} to update, ${p.replace} to replace, ${p.delete} to delete, ${p.noop} unchanged`];
}
