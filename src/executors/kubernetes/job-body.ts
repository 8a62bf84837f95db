// The batch/v1 Job of one run: one pod (restartPolicy Never, backoffLimit 0: the runner does the
// retries) whose container runs `slipway internal-runner --pod RUN` from the executor's image. The
// job's compute becomes requests and limits (the rule `slipway export` uses), its time limit
// activeDeadlineSeconds; labels name project, target, job and run. The runner's instructions travel
// as SLIPWAY_RUN_INSTRUCTIONS with secrets as markers, their values read from the Secret by key
// (transport.ts). Pure: the tests read the body the fake API server received.
import type { V1Container, V1EnvVar, V1Job, V1Volume } from "@kubernetes/client-node";
import type { ExecutorConfig } from "../../config/schema.js";
import { parseDuration } from "../../util/duration.js";
import { k8sLiteral, secretEnv } from "../../util/kubernetes/environment.js";
import { dnsLabel } from "../../util/kubernetes/names.js";
import { resourcesOf } from "../../util/kubernetes/resources.js";
import type { RunResources } from "../executor.js";

export type KubernetesSettings = Pick<ExecutorConfig, "namespace" | "image" | "context" | "service_account" | "secret" | "image_pull_policy" | "volume" | "ttl_after_finished">;

/** The command of every run's container: nothing a user wrote is part of it. */
export const RUNNER_COMMAND = ["slipway", "internal-runner", "--pod"];
/** The container variable holding the runner's instructions. */
export const INSTRUCTIONS_VARIABLE = "SLIPWAY_RUN_INSTRUCTIONS";
/** The container's name in every run's pod. */
export const CONTAINER = "runner";
/** AWS credentials, read from the Secret when it has them (optional keys: a pod may get them another way, e.g. IRSA). */
const AWS_KEYS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

export interface JobInput {
  runId: string;
  project: string;
  target: string;
  job?: string;
  resources: RunResources;
  /** The instructions as transported (JSON, secrets as markers). */
  instructions: string;
  secretKeys: string[];
  secretName: string;
  /** SLIPWAY_HOME in the pod: the shared home (under the volume), or absent for the image's default. */
  home?: string;
  /** Whether a store is in S3 (the pod then reads AWS credentials from the Secret when it has them). */
  usesS3: boolean;
}

export function jobName(runId: string): string {
  return dnsLabel(`slipway-${runId}`);
}

export function runLabels(input: Pick<JobInput, "project" | "target" | "job" | "runId">): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "slipway",
    "slipway.dev/project": dnsLabel(input.project),
    "slipway.dev/target": dnsLabel(input.target),
    ...(input.job ? { "slipway.dev/job": dnsLabel(input.job) } : {}),
    "slipway.dev/run": dnsLabel(input.runId),
  };
}

export function jobBody(settings: KubernetesSettings, input: JobInput): V1Job {
  const labels = runLabels(input);
  const env: V1EnvVar[] = [
    ...secretEnv(input.secretKeys, input.secretName),
    ...(input.usesS3 ? secretEnv(AWS_KEYS.filter((k) => !input.secretKeys.includes(k)), input.secretName, true) : []),
    ...(input.home ? [{ name: "SLIPWAY_HOME", value: k8sLiteral(input.home) }] : []),
    // Kubernetes expands $(NAME) in values: every "$" is doubled so the text arrives as written.
    { name: INSTRUCTIONS_VARIABLE, value: k8sLiteral(input.instructions) },
  ];
  const container: V1Container = {
    name: CONTAINER,
    image: settings.image!,
    imagePullPolicy: settings.image_pull_policy ?? "IfNotPresent",
    command: [...RUNNER_COMMAND, input.runId],
    env,
  };
  const resources = resourcesOf(input.resources);
  if (resources) container.resources = resources;
  const volumes: V1Volume[] = [];
  if (settings.volume) {
    volumes.push({ name: "shared", persistentVolumeClaim: { claimName: settings.volume.claim } });
    container.volumeMounts = [{ name: "shared", mountPath: settings.volume.path }];
  }
  const limit = input.resources.timeLimitMs;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: jobName(input.runId), namespace: settings.namespace, labels, annotations: { "slipway.dev/run-id": input.runId } },
    spec: {
      backoffLimit: 0,
      ...(limit !== undefined ? { activeDeadlineSeconds: Math.max(1, Math.ceil(limit / 1000)) } : {}),
      ...(settings.ttl_after_finished ? { ttlSecondsAfterFinished: Math.ceil(parseDuration(settings.ttl_after_finished) / 1000) } : {}),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          ...(settings.service_account ? { serviceAccountName: settings.service_account } : {}),
          containers: [container],
          ...(volumes.length ? { volumes } : {}),
        },
      },
    },
  };
}
