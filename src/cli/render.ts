// Human-readable renderings of plans, results and progress, from the documents (src/views) and the
// progress events (views/progress.ts): embedded and remote commands hold the same documents, so they
// print the same text by construction.
import type { FieldsOf } from "../views/documents.js";
import type { PlanJson, ProgressEvent } from "../views/progress.js";
import type { Output } from "./output.js";

type ActionJson = PlanJson["actions"][number];
type ChangeJson = ActionJson["changes"][number];
export type DriftJson = FieldsOf<"plan">["drift"][number];

const SYMBOL: Record<ActionJson["action"], [string, "green" | "yellow" | "magenta" | "red"]> = {
  create: ["+", "green"],
  update: ["~", "yellow"],
  replace: ["-/+", "magenta"],
  delete: ["-", "red"],
};

export function printPlan(out: Output, plan: PlanJson, heading: string): void {
  if (plan.actions.length === 0) {
    out.line(`${heading}: no changes (${plan.summary.noop} resource(s) up to date).`);
    return;
  }
  out.line(out.style("bold", `${heading}:`));
  for (const a of plan.actions) {
    const [sym, color] = SYMBOL[a.action];
    out.line(`  ${out.style(color, sym.padEnd(3))} ${a.action.padEnd(7)} ${a.address}${a.phase ? out.style("dim", `  (phase ${a.phase})`) : ""}${a.placement ? out.style("dim", `  (${a.placement})`) : ""}`);
    for (const c of a.changes) out.line(out.style("dim", `        ${c.path}: ${show(c, "before")} -> ${show(c, "after")}`));
  }
  out.line(summaryLine(plan));
}

export function summaryLine(plan: PlanJson): string {
  const s = plan.summary;
  return `Plan: ${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.delete} to delete, ${s.noop} unchanged.`;
}

function show(c: ChangeJson, side: "before" | "after"): string {
  if (!Object.hasOwn(c, side)) return "(none)";
  const text = JSON.stringify(c[side]);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One line about an installed library that differs from the config's pin. */
export function describeDrift(d: DriftJson): string {
  const by = d.installed_by ? ` (installed by ${d.installed_by}${d.installed_at ? ` at ${d.installed_at}` : ""})` : "";
  if (d.installed === null) return `${d.resource}: ${d.artifact} ${d.config} is pinned by the config but not installed`;
  if (d.config === null) return `${d.resource}: ${d.artifact} ${d.installed} is installed${by} but not in the config`;
  return `${d.resource}: ${d.artifact} ${d.installed} is installed${by}; the config pins ${d.config}`;
}

export function printDeployOutcome(out: Output, r: FieldsOf<"deploy">, verb: string): void {
  if (r.status === "no-changes") {
    out.line(r.revision ? `Recorded revision ${r.revision} (the state an interrupted run had applied).` : `Nothing to ${verb}.`);
    return;
  }
  // Every planned action was done, failed or not started.
  const done = r.actions.length - r.failed.length - r.skipped.length;
  if (r.status === "failed") {
    for (const f of r.failed) {
      out.err(out.style("red", `error: ${f.address}: ${f.error}`));
      if (f.hint) out.err(`  hint: ${f.hint}`);
    }
    out.err(`${verb} failed: ${done} action(s) done and recorded, ${r.skipped.length} not started. Run ${verb} again to continue.`);
    if (r.log_file) out.err(`output kept in ${r.log_file}`);
    return;
  }
  out.line(out.style("green", `${capitalize(verb)} complete: ${done} action(s) applied${r.revision ? `, revision ${r.revision}` : ""}.`));
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function printRunDetails(out: Output, d: FieldsOf<"runs show">, full = false): void {
  const color = d.status === "succeeded" ? "green" : d.status === "running" || d.status === "queued" ? "yellow" : "red";
  out.line(`${out.style("bold", d.id)}  ${d.job} on ${d.project}/${d.target}: ${out.style(color, d.status)}${d.duration_ms !== null ? ` in ${(d.duration_ms / 1000).toFixed(2)}s` : ""}`);
  if (d.reason && d.status !== "succeeded") out.line(`  ${d.status === "queued" ? "waiting" : "error"}: ${d.reason}`);
  if (Object.keys(d.params).length) out.line(`  params: ${Object.entries(d.params).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  for (const t of d.tasks) {
    const extra = [t.attempts > 1 ? `${t.attempts} attempts` : "", t.cached_from ? `cached from ${t.cached_from}` : "", t.exit_code !== null ? `exit ${t.exit_code}` : "", t.duration_ms !== null ? `${t.duration_ms} ms` : ""].filter(Boolean);
    out.line(`  task ${t.task.padEnd(16)} ${t.status.padEnd(10)} ${extra.join(", ")}`);
  }
  if (d.results !== null) out.line(`  results: ${JSON.stringify(d.results)}`);
  if (d.metrics !== null) out.line(`  metrics: ${JSON.stringify(d.metrics)}`);
  const artifacts = d.provenance?.artifacts as Record<string, { size?: number }> | undefined;
  if (artifacts && typeof artifacts === "object" && Object.keys(artifacts).length) {
    out.line(`  artifacts (slipway archives list artifacts --run ${d.id}):`);
    for (const [path, a] of Object.entries(artifacts)) out.line(`    ${path}${typeof a?.size === "number" ? `  ${a.size} B` : ""}`);
  }
  if (full && d.provenance) {
    out.line("  provenance:");
    for (const [k, v] of Object.entries(d.provenance)) out.line(`    ${k}: ${JSON.stringify(v)}`);
  }
}

/**
 * Prints one progress event as the terminal shows it: hook starts, `done`/`FAILED` lines, hook output
 * (`│ …`), warnings on stderr, plans under `planHeading` when the command shows them.
 */
export function printProgress(out: Output, e: ProgressEvent, planHeading?: (where: string) => string): void {
  if ("info" in e) out.line(e.info);
  else if ("warn" in e) out.err(out.style("yellow", `warning: ${e.warn}`));
  else if ("plan" in e) {
    if (planHeading) printPlan(out, e.plan, planHeading(e.where));
  } else if ("action_started" in e) {
    const a = e.action_started;
    if (a.kind === "hook") out.line(out.style("cyan", `  ${a.action === "delete" ? "destroying" : "running"} ${a.address}`));
  } else if ("action_finished" in e) {
    const a = e.action_finished;
    if (e.ok) out.line(`  ${out.style("green", "done")} ${a.action.padEnd(7)} ${a.address} ${out.style("dim", `(${e.ms} ms)`)}`);
    else out.line(`  ${out.style("red", "FAILED")} ${a.action.padEnd(7)} ${a.address}: ${e.error}`);
  } else if ("output" in e) {
    const text = `    ${out.style("dim", "│")} ${e.output.line}`;
    if (e.output.stream === "stderr") out.err(text);
    else out.line(text);
  }
}
