// Human-readable renderings of plans and results. The --json documents come from src/views.
import type { FieldChange, Plan, PlannedAction } from "../engine/plan.js";
import type { DeployResult } from "../operations/deploy.js";
import type { RunDetails } from "../operations/runs.js";
import type { Output } from "./output.js";

const SYMBOL: Record<PlannedAction["action"], [string, "green" | "yellow" | "magenta" | "red"]> = {
  create: ["+", "green"],
  update: ["~", "yellow"],
  replace: ["-/+", "magenta"],
  delete: ["-", "red"],
};

export function printPlan(out: Output, plan: Plan, heading: string): void {
  if (plan.actions.length === 0) {
    out.line(`${heading}: no changes (${plan.summary.noop} resource(s) up to date).`);
    return;
  }
  out.line(out.style("bold", `${heading}:`));
  for (const a of plan.actions) {
    const [sym, color] = SYMBOL[a.action];
    out.line(`  ${out.style(color, sym.padEnd(3))} ${a.action.padEnd(7)} ${a.address}${a.phase ? out.style("dim", `  (phase ${a.phase})`) : ""}`);
    for (const c of a.changes) out.line(out.style("dim", `        ${c.path}: ${show(c, "before")} -> ${show(c, "after")}`));
  }
  out.line(summaryLine(plan));
}

export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  return `Plan: ${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.delete} to delete, ${s.noop} unchanged.`;
}

function show(c: FieldChange, side: "before" | "after"): string {
  const v = c[side];
  if (v === undefined) return "(none)";
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function printDeployOutcome(out: Output, r: DeployResult, verb: string): void {
  if (r.status === "no-changes") {
    out.line(r.revision ? `Recorded revision ${r.revision} (the state an interrupted run had applied).` : `Nothing to ${verb}.`);
    return;
  }
  if (r.status === "failed") {
    for (const f of r.apply?.failed ?? []) {
      out.err(out.style("red", `error: ${f.action.address}: ${f.error.message}`));
      const hint = (f.error as { hint?: string }).hint;
      if (hint) out.err(`  hint: ${hint}`);
    }
    out.err(`${verb} failed: ${r.apply?.done.length ?? 0} action(s) done and recorded, ${r.apply?.skipped.length ?? 0} not started. Run ${verb} again to continue.`);
    if (r.logFile) out.err(`output kept in ${r.logFile}`);
    return;
  }
  out.line(out.style("green", `${capitalize(verb)} complete: ${r.apply?.done.length ?? 0} action(s) applied${r.revision ? `, revision ${r.revision}` : ""}.`));
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function printRunDetails(out: Output, d: RunDetails, full = false): void {
  const color = d.status === "succeeded" ? "green" : d.status === "running" || d.status === "queued" ? "yellow" : "red";
  out.line(`${out.style("bold", d.id)}  ${d.job} on ${d.project}/${d.target}: ${out.style(color, d.status)}${d.durationMs !== null ? ` in ${(d.durationMs / 1000).toFixed(2)}s` : ""}`);
  if (d.error && d.status !== "succeeded") out.line(`  ${d.status === "queued" ? "waiting" : "error"}: ${d.error}`);
  if (Object.keys(d.params).length) out.line(`  params: ${Object.entries(d.params).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  for (const t of d.tasks) {
    const extra = [t.attempts > 1 ? `${t.attempts} attempts` : "", t.cachedFrom ? `cached from ${t.cachedFrom}` : "", t.exitCode !== null ? `exit ${t.exitCode}` : "", t.durationMs !== null ? `${t.durationMs} ms` : ""].filter(Boolean);
    out.line(`  task ${t.task.padEnd(16)} ${t.status.padEnd(10)} ${extra.join(", ")}`);
  }
  if (d.results !== null) out.line(`  results: ${JSON.stringify(d.results)}`);
  if (d.metrics !== null) out.line(`  metrics: ${JSON.stringify(d.metrics)}`);
  if (full && d.provenance) {
    out.line("  provenance:");
    for (const [k, v] of Object.entries(d.provenance)) out.line(`    ${k}: ${JSON.stringify(v)}`);
  }
}
