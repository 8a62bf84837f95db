import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { kubernetesStatus } from "./states.js";

const job = (status: V1Job["status"] = {}, spec: Partial<NonNullable<V1Job["spec"]>> = {}): V1Job => ({ metadata: { name: "slipway-r1" }, spec: { template: {}, ...spec }, status });
const failed = (reason: string, message = "") => ({ conditions: [{ type: "Failed", status: "True", reason, message }] });
const pod = (status: V1Pod["status"], spec: Partial<NonNullable<V1Pod["spec"]>> = {}, metadata: V1Pod["metadata"] = {}): V1Pod => ({
  metadata: { name: "slipway-r1-abcde", ...metadata },
  spec: { containers: [{ name: "runner", resources: { limits: { memory: "64M" } } }], nodeName: "n7", ...spec },
  status,
});
const waiting = (reason: string, message?: string): V1Pod["status"] => ({ phase: "Pending", containerStatuses: [{ name: "runner", image: "i", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason, message } } }] });
const terminated = (reason: string, exitCode: number): V1Pod["status"] => ({ phase: "Failed", containerStatuses: [{ name: "runner", image: "i", imageID: "", ready: false, restartCount: 0, state: { terminated: { reason, exitCode } } }] });

describe("Kubernetes Job and pod states -> run states", () => {
  it("Pending: alive (queued), with the container's waiting reason and what to do", () => {
    const s = kubernetesStatus("slipway-r1", job(), [pod(waiting("ImagePullBackOff", 'Back-off pulling image "x:1"'))]);
    assert.equal(s.liveness, "alive");
    assert.equal(s.state, "ImagePullBackOff");
    assert.equal(s.outcome, undefined);
    assert.equal(s.reason, 'Kubernetes pod slipway-r1-abcde is pending: ImagePullBackOff (Back-off pulling image "x:1"): check the executor\'s image and that the namespace can pull it (imagePullSecrets)');
    assert.match(kubernetesStatus("j", job(), [pod(waiting("ErrImagePull"))]).reason!, /ErrImagePull: check the executor's image/);
    assert.match(kubernetesStatus("j", job(), [pod(waiting("CreateContainerConfigError", 'secret "s" not found'))]).reason!, /secret "s" not found\): a Secret or ConfigMap the pod reads is missing/);
    // ContainerCreating is no reason to show.
    assert.deepEqual(kubernetesStatus("j", job(), [pod(waiting("ContainerCreating"))]), { liveness: "alive", state: "Pending", reason: "Kubernetes pod slipway-r1-abcde is pending" });
  });

  it("Unschedulable, and no pod yet: alive with the scheduler's words", () => {
    const s = kubernetesStatus("slipway-r1", job(), [pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient nvidia.com/gpu." }] })]);
    assert.deepEqual(s, { liveness: "alive", state: "Unschedulable", reason: "Kubernetes pod slipway-r1-abcde is pending: Unschedulable (0/3 nodes are available: 3 Insufficient nvidia.com/gpu.)" });
    assert.deepEqual(kubernetesStatus("slipway-r1", job(), []), { liveness: "alive", state: "Pending", reason: "Kubernetes Job slipway-r1 is pending: no pod has been created yet" });
  });

  it("Running: alive, nothing to add (the runner records the run)", () => {
    assert.deepEqual(kubernetesStatus("slipway-r1", job({ active: 1 }), [pod({ phase: "Running" })]), { liveness: "alive", state: "Running" });
  });

  it("DeadlineExceeded: failed with the limit; alive while the pod stops (the runner records it)", () => {
    const stopping = kubernetesStatus("slipway-r1", job(failed("DeadlineExceeded"), { activeDeadlineSeconds: 60 }), [pod({ phase: "Running" })]);
    assert.equal(stopping.liveness, "alive");
    assert.equal(stopping.outcome, "failed");
    assert.equal(stopping.reason, "Kubernetes Job slipway-r1 reached its time limit (DeadlineExceeded, activeDeadlineSeconds 60): raise the job's compute.time_limit");
    assert.equal(kubernetesStatus("slipway-r1", job(failed("DeadlineExceeded")), [pod(terminated("Error", 143))]).liveness, "gone");
    // FailureTarget (Kubernetes 1.31+) comes before Failed: the same.
    assert.equal(kubernetesStatus("j", job({ conditions: [{ type: "FailureTarget", status: "True", reason: "DeadlineExceeded" }] }), []).state, "DeadlineExceeded");
  });

  it("OOMKilled: failed, with the memory limit and what to raise", () => {
    const s = kubernetesStatus("slipway-r1", job(failed("BackoffLimitExceeded")), [pod(terminated("OOMKilled", 137))]);
    assert.deepEqual(s, { liveness: "gone", state: "OOMKilled", reason: "Kubernetes Job slipway-r1 ran out of memory (OOMKilled, limit 64M on n7): raise the job's compute.memory", outcome: "failed" });
  });

  it("Evicted: lost, with the kubelet's message", () => {
    const s = kubernetesStatus("slipway-r1", job(failed("BackoffLimitExceeded")), [pod({ phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." })]);
    assert.deepEqual(s, { liveness: "gone", state: "Evicted", reason: "Kubernetes Job slipway-r1's pod slipway-r1-abcde was evicted on n7: The node was low on resource: memory.", outcome: "lost" });
  });

  it("Failed otherwise: the runner's exit; Succeeded without an outcome: lost", () => {
    const s = kubernetesStatus("slipway-r1", job(failed("BackoffLimitExceeded")), [pod(terminated("Error", 1))]);
    assert.equal(s.outcome, "failed");
    assert.match(s.reason!, /failed: its runner ended \(exit code 1, Error\) on n7/);
    const done = kubernetesStatus("slipway-r1", job({ conditions: [{ type: "Complete", status: "True" }] }), []);
    assert.equal(done.outcome, "lost");
    assert.match(done.reason!, /completed, but its runner recorded no outcome/);
  });

  it("the Job deleted: its pod still stopping is alive (the runner records the cancellation); gone, lost", () => {
    assert.equal(kubernetesStatus("slipway-r1", undefined, [pod({ phase: "Running" }, {}, { deletionTimestamp: new Date(0) })]).liveness, "alive");
    const gone = kubernetesStatus("slipway-r1", undefined, []);
    assert.equal(gone.liveness, "gone");
    assert.equal(gone.outcome, "lost");
  });

  it("the newest pod decides", () => {
    const old = pod(terminated("Error", 1), {}, { name: "old", creationTimestamp: new Date(1000) });
    const young = pod({ phase: "Running" }, {}, { name: "young", creationTimestamp: new Date(2000) });
    assert.equal(kubernetesStatus("j", job({ active: 1 }), [young, old]).state, "Running");
  });
});
