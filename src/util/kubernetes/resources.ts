// A container's requests and limits from what a job asks (cpus, memory, gpus), as `slipway export k8s`
// writes them into a Job and the Kubernetes executor submits them: one rule for both.
import type { V1ResourceRequirements } from "@kubernetes/client-node";

export interface ComputeRequest {
  cpus?: number;
  /** As written in the job: "512M", "4G", "1.5Gi". */
  memory?: string;
  gpus?: number;
}

/** Requests and limits: cpus, memory (as a Kubernetes quantity), gpus as nvidia.com/gpu (a limit only, as Kubernetes wants). */
export function resourcesOf(compute: ComputeRequest | undefined): V1ResourceRequirements | undefined {
  if (!compute || (compute.cpus === undefined && compute.memory === undefined && !compute.gpus)) return undefined;
  const q: Record<string, string> = {};
  if (compute.cpus !== undefined) q.cpu = String(compute.cpus);
  if (compute.memory !== undefined) q.memory = quantity(compute.memory);
  const limits = { ...q, ...(compute.gpus ? { "nvidia.com/gpu": String(compute.gpus) } : {}) };
  return { ...(Object.keys(q).length ? { requests: q } : {}), limits };
}

/** "512M", "4G", "4GB", "2GiB", "1g" as Kubernetes quantities ("512M", "4G", "2Gi"; kilo is "k"). */
export function quantity(size: string): string {
  const m = /^(\d+(?:\.\d+)?)([KMGT])(i?)B?$/i.exec(size);
  if (!m) return size;
  const unit = m[2]!.toUpperCase();
  return `${m[1]}${m[3] ? `${unit}i` : unit === "K" ? "k" : unit}`;
}
