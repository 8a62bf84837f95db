import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { slurmStatus, type SlurmJobInfo } from "./states.js";

const job = (state: string, more: Partial<SlurmJobInfo> = {}): SlurmJobInfo => ({ jobId: "42", state, ...more });

describe("Slurm job states -> run states", () => {
  it("PENDING: alive, queued, with Slurm's reason in words", () => {
    assert.deepEqual(slurmStatus(job("PENDING", { reason: "Resources" })), { liveness: "alive", state: "PENDING", reason: "Slurm job 42 is pending: waiting for resources (Resources)" });
    assert.equal(slurmStatus(job("PENDING", { reason: "JobHeldUser" })).reason, "Slurm job 42 is pending: held by its user (JobHeldUser)");
    // A reason without words of ours is shown as Slurm writes it.
    assert.equal(slurmStatus(job("PENDING", { reason: "MaxCpuPerAccount" })).reason, "Slurm job 42 is pending (MaxCpuPerAccount)");
    assert.equal(slurmStatus(job("PENDING")).outcome, undefined);
  });

  it("RUNNING: alive, nothing to add (the runner records the run)", () => {
    assert.deepEqual(slurmStatus(job("RUNNING", { reason: "None" })), { liveness: "alive", state: "RUNNING" });
    for (const state of ["CONFIGURING", "STAGE_OUT", "SIGNALING", "RESIZING", "REQUEUED"]) assert.equal(slurmStatus(job(state)).liveness, "alive", state);
    assert.equal(slurmStatus(job("SUSPENDED")).reason, "Slurm job 42 is suspended");
  });

  it("COMPLETING: alive; at the time limit or a preemption the runner learns the outcome it must record", () => {
    assert.deepEqual(slurmStatus(job("COMPLETING", { reason: "None" })), { liveness: "alive", state: "COMPLETING" });
    const atLimit = slurmStatus(job("COMPLETING", { reason: "TimeLimit", timeLimit: "00:01:00" }));
    assert.equal(atLimit.liveness, "alive");
    assert.equal(atLimit.state, "TIMEOUT");
    assert.equal(atLimit.outcome, "failed");
    assert.match(atLimit.reason!, /time limit \(TIMEOUT, time limit 00:01:00\)/);
    assert.equal(slurmStatus(job("COMPLETING", { reason: "Preempted" })).outcome, "lost");
  });

  it("COMPLETED: gone; a run still open then is lost (its runner recorded nothing)", () => {
    const s = slurmStatus(job("COMPLETED", { exitCode: "0:0" }));
    assert.equal(s.liveness, "gone");
    assert.equal(s.outcome, "lost");
    assert.match(s.reason!, /completed, but its runner recorded no outcome/);
  });

  it("FAILED: gone, failed, with the exit code or signal", () => {
    assert.deepEqual(slurmStatus(job("FAILED", { reason: "NonZeroExitCode", exitCode: "3:0", nodes: "vm" })), {
      liveness: "gone",
      state: "FAILED",
      reason: "Slurm job 42 failed (exit code 3) on vm; see the run's runner.log",
      outcome: "failed",
    });
    assert.match(slurmStatus(job("FAILED", { exitCode: "0:9" })).reason!, /killed by signal 9/);
    assert.match(slurmStatus(job("FAILED", { reason: "JobLaunchFailure", exitCode: "1:0" })).reason!, /\(exit code 1\): JobLaunchFailure/);
  });

  it("TIMEOUT: gone, failed, saying which limit", () => {
    const s = slurmStatus(job("TIMEOUT", { reason: "TimeLimit", timeLimit: "00:01:00" }));
    assert.deepEqual([s.liveness, s.state, s.outcome], ["gone", "TIMEOUT", "failed"]);
    assert.equal(s.reason, "Slurm job 42 reached its time limit (TIMEOUT, time limit 00:01:00): raise the job's compute.time_limit");
  });

  it("CANCELLED: gone, cancelled", () => {
    const s = slurmStatus(job("CANCELLED", { exitCode: "0:15" }));
    assert.deepEqual([s.liveness, s.outcome, s.reason], ["gone", "cancelled", "Slurm job 42 was cancelled in Slurm (scancel)"]);
  });

  it("NODE_FAIL and PREEMPTED: gone, lost (not the job's doing), naming the node", () => {
    const node = slurmStatus(job("NODE_FAIL", { nodes: "n07" }));
    assert.deepEqual([node.liveness, node.outcome, node.reason], ["gone", "lost", "Slurm job 42 ended because its node failed (NODE_FAIL on n07)"]);
    const preempted = slurmStatus(job("PREEMPTED", { nodes: "n07" }));
    assert.deepEqual([preempted.liveness, preempted.outcome, preempted.reason], ["gone", "lost", "Slurm job 42 was preempted (PREEMPTED on n07)"]);
  });

  it("OUT_OF_MEMORY: gone, failed, pointing at compute.memory", () => {
    const s = slurmStatus(job("OUT_OF_MEMORY", { nodes: "vm" }));
    assert.deepEqual([s.liveness, s.outcome], ["gone", "failed"]);
    assert.equal(s.reason, "Slurm job 42 ran out of memory (OUT_OF_MEMORY on vm): raise the job's compute.memory");
  });

  it("the other end states: BOOT_FAIL lost, DEADLINE failed, REVOKED lost, SPECIAL_EXIT failed", () => {
    assert.deepEqual(
      ["BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"].map((s) => [slurmStatus(job(s)).liveness, slurmStatus(job(s)).outcome]),
      [
        ["gone", "lost"],
        ["gone", "failed"],
        ["gone", "lost"],
        ["gone", "failed"],
      ],
    );
  });

  it("a state Slipway does not know: unknown (the heartbeat decides), said as it is", () => {
    assert.deepEqual(slurmStatus(job("SOMETHING_NEW")), { liveness: "unknown", state: "SOMETHING_NEW", reason: "Slurm job 42 is in a state Slipway does not know: SOMETHING_NEW" });
  });
});
