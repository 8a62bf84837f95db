// A run's Kubernetes Job and its pod -> what Slipway makes of them: is the runner still there, how did
// the run end when the runner could not say so itself, and the reason shown to people. Pure: unit-tested
// for every state (ImagePullBackOff, Unschedulable, Running, DeadlineExceeded, OOMKilled, Evicted, …).
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { ExecutorStatus } from "../executor.js";

/** Container waiting reasons that need a person (the pod will not start by itself), with what to do. */
const STUCK: Record<string, string> = {
  ImagePullBackOff: "check the executor's image and that the namespace can pull it (imagePullSecrets)",
  ErrImagePull: "check the executor's image and that the namespace can pull it (imagePullSecrets)",
  InvalidImageName: "fix the executor's image",
  CreateContainerConfigError: "a Secret or ConfigMap the pod reads is missing: create the executor's secret in the namespace",
  CreateContainerError: "see `kubectl describe pod` for why the container could not be created",
};

export function kubernetesStatus(jobName: string, job: V1Job | undefined, pods: V1Pod[]): ExecutorStatus {
  const what = `Kubernetes Job ${jobName}`;
  const pod = newest(pods);
  const podName = pod?.metadata?.name ?? "?";
  if (!job) {
    // Deleted with propagationPolicy Background (a cancel): its pod is still being stopped, and the
    // runner records the cancellation itself.
    if (pod && running(pod)) return { liveness: "alive", state: "Terminating", reason: `${what} was deleted; its pod ${podName} is stopping` };
    return { liveness: "gone", state: "Deleted", reason: `${what} no longer exists (deleted outside Slipway, or removed by ttl_after_finished before its runner recorded an outcome)`, outcome: "lost" };
  }
  const conditions = (job.status?.conditions ?? []).filter((c) => c.status === "True");
  const failed = conditions.find((c) => c.type === "Failed" || c.type === "FailureTarget");
  if (failed?.reason === "DeadlineExceeded") {
    const limit = job.spec?.activeDeadlineSeconds !== undefined ? `, activeDeadlineSeconds ${job.spec.activeDeadlineSeconds}` : "";
    // The pod is being stopped (SIGTERM): the runner asks, and records this instead of a cancellation.
    return { liveness: pod && running(pod) ? "alive" : "gone", state: "DeadlineExceeded", reason: `${what} reached its time limit (DeadlineExceeded${limit}): raise the job's compute.time_limit`, outcome: "failed" };
  }
  const ended = pod ? podEnding(what, pod) : undefined;
  if (ended) return ended;
  if (failed) return { liveness: "gone", state: "Failed", reason: `${what} failed (${failed.reason ?? "Failed"}${failed.message ? `: ${failed.message}` : ""})`, outcome: "failed" };
  if (conditions.some((c) => c.type === "Complete" || c.type === "SuccessCriteriaMet")) {
    return { liveness: "gone", state: "Succeeded", reason: `${what} completed, but its runner recorded no outcome (see \`kubectl logs job/${jobName}\`)`, outcome: "lost" };
  }
  if (job.spec?.suspend) return { liveness: "alive", state: "Suspended", reason: `${what} is suspended` };
  if (!pod) return { liveness: "alive", state: "Pending", reason: `${what} is pending: no pod has been created yet` };
  const phase = pod.status?.phase ?? "Pending";
  if (phase === "Pending") return { liveness: "alive", ...pending(pod) };
  if (phase === "Running") return { liveness: "alive", state: "Running" };
  if (phase === "Succeeded") return { liveness: "gone", state: "Succeeded", reason: `${what} completed, but its runner recorded no outcome (see \`kubectl logs job/${jobName}\`)`, outcome: "lost" };
  return { liveness: "unknown", state: phase, reason: `${what}'s pod ${podName} is in a phase Slipway does not know: ${phase}` };
}

/** Why a pending pod waits: a container's waiting reason, or the scheduler's. */
function pending(pod: V1Pod): { state: string; reason: string } {
  const name = `Kubernetes pod ${pod.metadata?.name ?? "?"}`;
  const waiting = (pod.status?.containerStatuses ?? []).map((c) => c.state?.waiting).find((w) => w?.reason && w.reason !== "ContainerCreating");
  if (waiting?.reason) {
    const fix = STUCK[waiting.reason];
    return { state: waiting.reason, reason: `${name} is pending: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ""}${fix ? `: ${fix}` : ""}` };
  }
  const unscheduled = (pod.status?.conditions ?? []).find((c) => c.type === "PodScheduled" && c.status === "False");
  if (unscheduled) return { state: unscheduled.reason ?? "Pending", reason: `${name} is pending: ${unscheduled.reason ?? "not scheduled"}${unscheduled.message ? ` (${unscheduled.message})` : ""}` };
  return { state: "Pending", reason: `${name} is pending${pod.status?.reason ? ` (${pod.status.reason})` : ""}` };
}

/** A pod that ended without its runner recording the outcome: evicted, out of memory, the runner killed or crashed. */
function podEnding(job: string, pod: V1Pod): ExecutorStatus | undefined {
  const name = pod.metadata?.name ?? "?";
  const node = pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : "";
  if (pod.status?.reason === "Evicted") {
    return { liveness: running(pod) ? "alive" : "gone", state: "Evicted", reason: `${job}'s pod ${name} was evicted${node}${pod.status.message ? `: ${pod.status.message}` : ""}`, outcome: "lost" };
  }
  const terminated = (pod.status?.containerStatuses ?? []).map((c) => c.state?.terminated).find((t) => t);
  if (terminated?.reason === "OOMKilled") {
    const limit = pod.spec?.containers?.[0]?.resources?.limits?.memory;
    return { liveness: "gone", state: "OOMKilled", reason: `${job} ran out of memory (OOMKilled${limit ? `, limit ${limit}` : ""}${node}): raise the job's compute.memory`, outcome: "failed" };
  }
  if (pod.status?.phase === "Failed") {
    const how = terminated ? (terminated.signal ? `killed by signal ${terminated.signal}` : `exit code ${terminated.exitCode}`) : "no exit status";
    return { liveness: "gone", state: "Failed", reason: `${job} failed: its runner ended (${how}${terminated?.reason ? `, ${terminated.reason}` : ""})${node}; see \`kubectl logs ${name}\``, outcome: "failed" };
  }
  return undefined;
}

function running(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Running" || phase === "Pending";
}

function newest(pods: V1Pod[]): V1Pod | undefined {
  const time = (p: V1Pod) => {
    const t = p.metadata?.creationTimestamp as unknown;
    return t instanceof Date ? t.getTime() : typeof t === "string" ? Date.parse(t) : 0;
  };
  return [...pods].sort((a, b) => time(b) - time(a))[0];
}
