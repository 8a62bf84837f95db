// Progress as documents: what the engine reports while it works (src/engine/reporter.ts), each event
// copied by name into a JSON object. The CLI prints these events (embedded: straight from the
// operation; remote: as the API streams them, one per line of newline-delimited JSON), so both print
// the same lines by construction. Secrets never travel: the server masks each event before it is sent.
import type { PlannedAction, Plan } from "../engine/plan.js";
import type { Reporter } from "../engine/reporter.js";
import { actionView, summaryView } from "./plan-actions.js";

export type ActionJson = ReturnType<typeof actionView>;

/** A plan as events and documents carry it: its summary and actions (the fields `plan --json` prints). */
export interface PlanJson {
  summary: ReturnType<typeof summaryView>;
  actions: ActionJson[];
}

export type ProgressEvent =
  | { info: string }
  | { warn: string }
  | { plan: PlanJson; where: string }
  | { action_started: ActionJson }
  | { action_finished: ActionJson; ok: boolean; ms: number; error: string | null }
  | { output: { address: string; stream: "stdout" | "stderr"; line: string } };

export function planJson(plan: Plan): PlanJson {
  return { summary: summaryView(plan.summary), actions: plan.actions.map(actionView) };
}

/**
 * A Reporter that turns each call into a ProgressEvent for `emit`. `secrets` receives the values to
 * mask (they are never an event).
 */
export function progressReporter(emit: (event: ProgressEvent) => void, secrets?: (values: readonly string[]) => void): Reporter {
  const action = (a: PlannedAction) => actionView(a);
  return {
    secrets: (values) => secrets?.(values),
    info: (message) => emit({ info: message }),
    warn: (message) => emit({ warn: message }),
    plan: (plan, where) => emit({ plan: planJson(plan), where }),
    actionStarted: (a) => emit({ action_started: action(a) }),
    actionFinished: (a, r) => emit({ action_finished: action(a), ok: r.ok, ms: r.ms, error: r.error ?? null }),
    output: (address, stream, line) => emit({ output: { address, stream, line } }),
  };
}

/** Whether a parsed NDJSON line is a progress event (and not the final document or failure). */
export function isProgressEvent(line: Record<string, unknown>): line is ProgressEvent & Record<string, unknown> {
  return ["info", "warn", "plan", "action_started", "action_finished", "output"].some((k) => Object.hasOwn(line, k));
}
