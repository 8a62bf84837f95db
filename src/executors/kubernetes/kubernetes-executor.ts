// The Kubernetes executor: each run is a batch/v1 Job (a sweep, one Job per run) whose pod starts the
// same runner the local and Slurm executors start, from the executor's image. The runner reads the
// bundle from the job_source archive store and records into the target's state like anywhere, so those
// must be reachable from the pod: network stores, or folders on a volume shared at the same path
// (checked before a run is recorded: `check`). Tracked from the Job and its pod, logs from the pod log
// API, cancelled by deleting the Job (propagationPolicy Background).
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../../clock.js";
import type { ExecutorConfig } from "../../config/schema.js";
import { objectName } from "../../util/kubernetes/names.js";
import { INSTRUCTIONS_FILE, type Executor, type ExecutorStatus, type RunHandle, type SubmitRequest, type TargetPlaces } from "../executor.js";
import { kubeClient, type KubeClient } from "./client.js";
import { jobBody, jobName, type KubernetesSettings } from "./job-body.js";
import { kubernetesStatus } from "./states.js";
import { assertReachable, isUnder, placesOf, transportInstructions, withAbsolutePaths, type TransportedInstructions } from "./transport.js";

/** How long a cancelled run's pod has to stop (the runner records the cancellation and archives) before cancel returns. */
export const CANCEL_GRACE_MS = 30_000;

export function kubernetesExecutor(config: ExecutorConfig | undefined): Executor {
  const settings: KubernetesSettings = { ...config };
  const clients = new Map<string, Promise<KubeClient>>();
  const client = (context: string | undefined) => {
    const key = context ?? "";
    let c = clients.get(key);
    if (!c) {
      c = kubeClient(context);
      c.catch(() => clients.delete(key));
      clients.set(key, c);
    }
    return c;
  };
  const where = (handle: RunHandle) => ({
    namespace: typeof handle.namespace === "string" ? handle.namespace : undefined,
    job: typeof handle.job === "string" ? handle.job : undefined,
    context: typeof handle.context === "string" ? handle.context : undefined,
    run: typeof handle.run === "string" ? handle.run : undefined,
  });

  async function submit(request: SubmitRequest): Promise<RunHandle> {
    const file = join(request.runDir, INSTRUCTIONS_FILE);
    const instructions = JSON.parse(readFileSync(file, "utf8")) as TransportedInstructions;
    const volume = settings.volume?.path;
    const transport = transportInstructions(withAbsolutePaths(instructions), `run ${request.runId} of job ${request.job ?? "?"}`);
    const body = jobBody(settings, {
      runId: request.runId,
      project: instructions.project,
      target: instructions.target,
      job: request.job,
      resources: request.resources ?? {},
      instructions: transport.text,
      secretKeys: transport.secretKeys,
      secretName: settings.secret ?? objectName(instructions.project, "secrets"),
      // The shared home when it is on the volume; else the image's own (its runs folder is the pod's).
      home: volume && isUnder(instructions.home, volume) ? instructions.home : undefined,
      usesS3: instructions.blobs?.type === "s3" || Object.values(instructions.archives).some((a) => a?.type === "s3"),
    });
    const api = await client(settings.context);
    await api.createJob(settings.namespace!, body);
    // The instructions went with the Job; the local copy (which holds the secrets) goes now.
    rmSync(file, { force: true });
    return { executor: "kubernetes", namespace: settings.namespace!, job: body.metadata!.name!, run: request.runId, ...(settings.context ? { context: settings.context } : {}) };
  }

  async function status(handle: RunHandle): Promise<ExecutorStatus> {
    const { namespace, job, context, run } = where(handle);
    if (!namespace || !job || !run) return { liveness: "unknown" };
    try {
      const api = await client(context);
      const [found, pods] = await Promise.all([api.readJob(namespace, job), api.listPods(namespace, `slipway.dev/run=${run}`)]);
      return kubernetesStatus(job, found, pods);
    } catch (e) {
      // The API cannot be asked (down, unreachable, credentials expired): the run's heartbeat decides.
      return { liveness: "unknown", reason: (e as Error).message };
    }
  }

  return {
    name: "kubernetes",
    capabilities: { gpus: true, cancel: true, logsFollow: true, attach: false, arrays: false },
    submit,
    status,
    check(places: TargetPlaces): void {
      assertReachable(placesOf(places), settings.volume?.path, places.target);
    },
    async readOutput(handle: RunHandle): Promise<string | undefined> {
      const { namespace, context, run } = where(handle);
      if (!namespace || !run) return undefined;
      const api = await client(context);
      const pods = await api.listPods(namespace, `slipway.dev/run=${run}`);
      const pod = pods.at(-1)?.metadata?.name;
      return pod ? api.podLog(namespace, pod) : undefined;
    },
    async cancel(handle: RunHandle, _taskProcessGroups: number[], clock: Clock): Promise<void> {
      const { namespace, job, context, run } = where(handle);
      if (!namespace || !job || !run) return;
      const api = await client(context);
      // Deleting the Job stops its pod (SIGTERM, then SIGKILL after the pod's grace period): the runner
      // records the cancellation, stops its tasks and archives what the run made.
      await api.deleteJob(namespace, job);
      const deadline = clock.now() + CANCEL_GRACE_MS;
      const stopping = async () => (await api.listPods(namespace, `slipway.dev/run=${run}`)).some((p) => p.status?.phase === "Running" || p.status?.phase === "Pending");
      while (clock.now() < deadline && (await stopping().catch(() => false))) await clock.sleep(200);
    },
  };
}
