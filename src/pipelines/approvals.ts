// Approval rules, enforced whoever asks (the embedded CLI as the local user, the API as the token's
// actor): the stage must be waiting, the person must be a listed approver (by user or group), may
// decide once, and with prevent_self_review may not approve a run they triggered. Whether they hold
// CAN_MANAGE on the gated target is asked by the operation (ctx.authorize) before this.
import { RefusedError, SlipwayError } from "../errors.js";
import type { StageSpec } from "../kinds/pipeline/index.js";
import type { ApprovalRow, PipelineRunRow, PipelineStageRow } from "../store/state/pipeline-store.js";

export interface Approver {
  name: string;
  groups: readonly string[];
}

/** Whether the person is one of the stage's approvers ("user:NAME", "group:NAME", or a bare user NAME; group `users` is everyone). */
export function isApprover(stage: StageSpec, who: Approver): boolean {
  return (stage.approvers ?? []).some((a) => {
    const m = /^(user|group):(.*)$/.exec(a);
    if (!m) return a === who.name;
    return m[1] === "user" ? m[2] === who.name : m[2] === "users" || who.groups.includes(m[2]!);
  });
}

/** Throws when the person may not decide on this stage now; the reasons are refusals (exit 3, 403/409). */
export function checkDecision(run: PipelineRunRow, stage: StageSpec, row: PipelineStageRow, decisions: readonly ApprovalRow[], who: Approver, decision: "approve" | "reject"): void {
  const where = `stage ${stage.name} of pipeline run ${run.id}`;
  if (stage.type !== "approval") throw new SlipwayError("not_an_approval", `${where} is a ${stage.type} stage, not an approval`, { hint: `approval stages of ${run.pipeline}: see \`slipway pipelines status ${run.id}\`` });
  if (row.status !== "waiting") {
    throw new RefusedError("approval_not_waiting", `${where} is not waiting for approval (it is ${row.status})`, { hint: row.status === "pending" ? "it waits once the stages before it have succeeded" : "a decided, timed-out or skipped approval cannot change" });
  }
  if (!isApprover(stage, who)) {
    throw new SlipwayError("forbidden", `${who.name} is not an approver of ${where}`, { hint: `its approvers: ${(stage.approvers ?? []).join(", ")}`, details: { approvers: stage.approvers ?? [] } });
  }
  if (decision === "approve" && stage.prevent_self_review !== false && run.user === who.name) {
    throw new RefusedError("self_review", `${who.name} triggered run ${run.id} and may not approve it (prevent_self_review)`, { hint: "another approver must approve it" });
  }
  if (decisions.some((d) => d.stage === stage.name && d.user === who.name)) throw new RefusedError("already_decided", `${who.name} has already decided on ${where}`, { hint: "each approver decides once" });
}

/** The stage's outcome from its decisions: rejected by anyone, approved by enough, else undecided. */
export function tally(stage: StageSpec, decisions: readonly ApprovalRow[]): { outcome: "approved" | "rejected" | "undecided"; approvedBy: string[]; rejectedBy?: ApprovalRow } {
  const mine = decisions.filter((d) => d.stage === stage.name);
  const rejectedBy = mine.find((d) => d.decision === "reject");
  const approvedBy = mine.filter((d) => d.decision === "approve").map((d) => d.user);
  if (rejectedBy) return { outcome: "rejected", approvedBy, rejectedBy };
  return { outcome: approvedBy.length >= (stage.required ?? 1) ? "approved" : "undecided", approvedBy };
}
