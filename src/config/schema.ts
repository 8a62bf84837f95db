// The project-file language: the schema of slipway.yaml and the building blocks every kind's schema
// uses (names, durations, phases, permissions). Each kind's own block lives in src/kinds/<kind>/schema.ts;
// src/kinds/module-file.ts assembles module.yaml and the JSON Schema that `slipway schema` prints.
import { z } from "zod";
import { ARCHIVE_KINDS, type ArchiveKind } from "../store/archives.js";
import { S3_BUCKET } from "../store/blobs/s3/s3-blob-store.js";
import { USER_NAME, USER_NAME_MAX, USER_NAME_RULE } from "../env.js";

export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const name = (what: string) =>
  z.string().regex(NAME, `${what} names use letters, digits, "_", "." and "-" and start with a letter or digit`).max(255);
export const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** Names that become environment variables (env keys, params as SLIPWAY_PARAM_<name>). */
export const envName = z.string().min(1).max(255).regex(/^[^=]+$/, 'environment variable names may not contain "="');
export const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as "90s", "30m", "2h" or "7d"')
  .describe('A duration: a number followed by ms, s, m, h or d, e.g. "24h"');
export const phase = z.number().int().min(0).describe("Deploy with `deploy --phase N` to deploy everything with phase <= N");

/** Users, groups and service principals follow the one rule for user names (see env.ts). */
const identity = (what: string) => z.string().min(1).max(USER_NAME_MAX).regex(USER_NAME, `${what} names are ${USER_NAME_RULE}`);

export const PERMISSION_LEVELS = ["CAN_MANAGE", "CAN_RUN", "CAN_QUERY", "CAN_USE", "CAN_VIEW"] as const;
export const permissionSchema = z
  .strictObject({
    level: z.enum(PERMISSION_LEVELS),
    user: identity("user").optional(),
    group: identity("group").optional(),
    service_principal: identity("service principal").optional(),
  })
  .refine((p) => [p.user, p.group, p.service_principal].filter((x) => x !== undefined).length === 1, {
    message: "a permission names exactly one of user, group or service_principal",
  })
  .describe("Who may do what: CAN_MANAGE > CAN_RUN > CAN_QUERY > CAN_VIEW; CAN_USE opens an app");
export const permissions = z.array(permissionSchema);

/** A bucket of an S3-compatible object store (targets.NAME.blobs, an archive kind). */
const s3Backend = z.strictObject({
  type: z.literal("s3").describe("s3: a bucket of an S3-compatible object store (AWS S3, OpenStack Swift's s3api, MinIO, …)"),
  bucket: z.string().regex(S3_BUCKET, 'bucket names are 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit').describe("The bucket (it must exist)"),
  prefix: z
    .string()
    .max(512)
    .regex(/^(?!\/)(?!.*\/\/)(?!(.*\/)?\.\.?(\/|$))[^\\\0]*$/, 'a prefix is a relative key path: no leading "/", no empty, "." or ".." segment')
    .optional()
    .describe('Prepended to every key, e.g. "slipway/prod/" (a "/" is added at its end)'),
  endpoint: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, "an http:// or https:// address")
    .optional()
    .describe("An S3-compatible server's address; AWS S3 when absent"),
  region: z.string().min(1).max(64).optional().describe("Else AWS_REGION or the profile's; us-east-1 with an endpoint"),
  profile: z.string().min(1).optional().describe("A profile of ~/.aws/config and ~/.aws/credentials (else AWS_PROFILE, else the default chain)"),
  path_style: z.boolean().optional().describe("Path-style addresses ENDPOINT/BUCKET/KEY (default: true with an endpoint)"),
});
const archiveStore = z
  .discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("fs").describe("fs: a local folder"),
      path: z.string().min(1).describe("Folder, relative to slipway.yaml or absolute"),
    }),
    s3Backend,
  ])
  .describe("Where one kind of run archive is kept");
export const blobsBackend = z
  .discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("fs").describe("fs: a local folder (the default, SLIPWAY_HOME/blobs)"),
      path: z.string().min(1).optional().describe("Folder"),
    }),
    s3Backend,
  ])
  .describe("Where the target's blobs are kept: hook scripts, revision snapshots and, unless `archives` says otherwise, every archive kind");
const archives = z
  .strictObject(Object.fromEntries(ARCHIVE_KINDS.map((k) => [k, archiveStore.optional()])) as Record<ArchiveKind, z.ZodOptional<typeof archiveStore>>)
  .describe("Archive stores per kind; each defaults to a folder under SLIPWAY_HOME/archives");

const retention = z
  .strictObject({
    artifacts: z
      .strictObject({ every: duration.describe('How often, e.g. "24h"') })
      .optional()
      .describe("The server runs `artifacts gc --yes` (each artifact's keep_last) on this cadence"),
  })
  .describe("Retention work the server runs for this target (background work)");

export const backend = z.strictObject({ type: z.string().min(1) }).catchall(scalar).describe("A backend choice, e.g. { type: sqlite }");

/** Slurm's own names: partitions, accounts, QOS (no spaces, commas or option syntax). */
const slurmName = (what: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, `a Slurm ${what} name: letters, digits, "_", ".", "+" and "-"`);

/** Kubernetes names: namespaces, contexts are free text in kubeconfig, but objects are DNS-1123 names. */
const k8sName = (what: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `a Kubernetes ${what} name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit`);

/** A container image reference (a Kubernetes executor's or serving's), with an example in the message. */
const k8sImage = (example: string) =>
  z
    .string()
    .min(1)
    .max(1000)
    .regex(/^[^\s]+$/, `an image reference without spaces, e.g. ${example}`);
// Functions, not shared instances: each setting gets a schema of its own (a JSON schema generator may turn a shared instance into a $ref).
const k8sContext = () => z.string().min(1).max(253).optional().describe("kubernetes: the kubeconfig context to use (default: the kubeconfig's current context)");
const k8sPullPolicy = () => z.enum(["Always", "IfNotPresent", "Never"]);

/** Which keys each executor type accepts (beyond `type` and `max_parallel_tasks`, which all do). */
const EXECUTOR_KEYS = {
  local: ["max_parallel_runs"],
  slurm: ["partition", "account", "qos", "sbatch_args"],
  kubernetes: ["namespace", "image", "context", "service_account", "secret", "image_pull_policy", "volume", "ttl_after_finished"],
} as const;

/** Where a target's runs execute; one object for every type, with the keys each type allows checked below. */
export const executorSchema = z
  .strictObject({
    type: z
      .enum(["local", "slurm", "kubernetes"])
      .describe("local: processes on this machine; slurm: a job per run on a Slurm cluster (sbatch); kubernetes: a Kubernetes Job per run (official client library)"),
    max_parallel_runs: z.number().int().min(1).optional().describe("local only: runs executing at once on this machine (default 4); more wait queued"),
    max_parallel_tasks: z.number().int().min(1).optional().describe("Tasks of one run executing at once (default 4)"),
    partition: slurmName("partition").optional().describe("slurm: the partition runs are submitted to (sbatch --partition); default: the cluster's default partition"),
    account: slurmName("account").optional().describe("slurm: the account charged (sbatch --account)"),
    qos: slurmName("QOS").optional().describe("slurm: the quality of service (sbatch --qos)"),
    sbatch_args: z
      .array(z.string().regex(/^--[a-z][a-z-]*(=.*)?$/, 'an sbatch long option such as "--constraint=haswell"'))
      .optional()
      .describe("slurm: more sbatch options, one per item, passed as they are (e.g. --constraint=haswell)"),
    namespace: k8sName("namespace").max(63).optional().describe("kubernetes (required): the namespace runs' Jobs are created in"),
    image: k8sImage("registry.example.com/ml/slipway-runner:1.4")
      .optional()
      .describe("kubernetes (required): the container image of every run's pod; it must contain Node.js and slipway (`slipway` on PATH)"),
    context: k8sContext(),
    service_account: k8sName("service account").optional().describe("kubernetes: the service account of the runs' pods (default: the namespace's default)"),
    secret: k8sName("Secret").optional().describe("kubernetes: the Secret the pods read secret values from, by key (default: <project>-secrets, as `slipway export` names it)"),
    image_pull_policy: k8sPullPolicy().optional().describe("kubernetes: the pods' imagePullPolicy (default IfNotPresent)"),
    volume: z
      .strictObject({
        claim: k8sName("PersistentVolumeClaim").describe("the PersistentVolumeClaim mounted in every run's pod"),
        path: z.string().regex(/^\/(?!.*\/\.\.?(\/|$))[^\0]*$/, "an absolute path without . or .. segments").describe("where it is mounted: the same path it has on this machine (SLIPWAY_HOME and folder stores under it are shared with the pods)"),
      })
      .optional()
      .describe("kubernetes: a volume shared with this machine at the same path; without it, the target's state and stores must be reachable over the network (PostgreSQL, S3)"),
    ttl_after_finished: duration.optional().describe("kubernetes: finished Jobs are deleted by Kubernetes this long after they end (ttlSecondsAfterFinished; default: kept)"),
  })
  .superRefine((e, ctx) => {
    const allowed = new Set<string>(EXECUTOR_KEYS[e.type]);
    for (const [type, keys] of Object.entries(EXECUTOR_KEYS)) {
      if (type === e.type) continue;
      for (const key of keys) {
        if (allowed.has(key) || e[key] === undefined) continue;
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: key === "max_parallel_runs" ? `${key} applies to the local executor only (${e.type === "slurm" ? "Slurm" : "Kubernetes"} decides how many runs execute at once)` : `${key} applies to executors of type ${type}, not ${e.type}`,
        });
      }
    }
    if (e.type === "kubernetes") {
      for (const key of ["namespace", "image"] as const) {
        if (e[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: `a kubernetes executor needs \`${key}\`` });
      }
    }
  })
  .describe("Where the target's runs execute: { type: local } (default), { type: slurm, partition, account, qos } or { type: kubernetes, namespace, image }");
export type ExecutorConfig = z.infer<typeof executorSchema>;

/** Where a target's endpoints are served: by this home's gateway (default) or as Deployments and Services on Kubernetes. */
export const servingSchema = z
  .strictObject({
    type: z.enum(["local", "kubernetes"]).describe("local: the gateway of this home's server (default); kubernetes: a Deployment and a Service per endpoint, made at deploy time through the official client library"),
    namespace: k8sName("namespace").max(63).optional().describe("kubernetes (required): the namespace the endpoints' Deployments and Services are made in"),
    image: k8sImage("registry.example.com/ml/shop-serving:1.4")
      .optional()
      .describe("kubernetes (required): the image every endpoint's container runs; its entrypoint serves the Open Inference Protocol on port 8080 (as for `slipway export k8s`)"),
    context: k8sContext(),
    service_account: k8sName("service account").optional().describe("kubernetes: the service account of the endpoints' pods (default: the namespace's default)"),
    secret: k8sName("Secret").optional().describe("kubernetes: the Secret the containers read secret values from, by key (default: <project>-secrets, as `slipway export` names it)"),
    image_pull_policy: k8sPullPolicy().optional().describe("kubernetes: the containers' imagePullPolicy (default IfNotPresent)"),
  })
  .superRefine((s, ctx) => {
    if (s.type === "local") {
      for (const key of ["namespace", "image", "context", "service_account", "secret", "image_pull_policy"] as const) {
        if (s[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `${key} applies to serving of type kubernetes, not local` });
      }
      return;
    }
    for (const key of ["namespace", "image"] as const) {
      if (s[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: `serving of type kubernetes needs \`${key}\`` });
    }
  })
  .describe("Where the target's endpoints are served: { type: local } (default: this home's gateway) or { type: kubernetes, namespace, image }");
export type ServingConfig = z.infer<typeof servingSchema>;

/** The target's own notification events (its TTL); pipelines have theirs in the pipeline's `notifications:`. */
export const TARGET_EVENTS = ["deletion_upcoming", "deletion_done", "deletion_failed"] as const;
export type TargetEvent = (typeof TARGET_EVENTS)[number];

/** One channel of a target's `notifications:`: the same webhook and e-mail keys as a pipeline's channels. */
function targetChannelSchema() {
  return z.strictObject({
    events: z.array(z.enum(TARGET_EVENTS)).min(1).optional().describe("what to send (default: all of deletion_upcoming, deletion_done, deletion_failed)"),
    webhook: z
      .strictObject({
        url: z.string().regex(/^https?:\/\/\S+$/, "an http:// or https:// URL"),
        secret_env: envName.optional().describe("the environment variable (or env-file key) holding the HMAC-SHA256 signing secret"),
      })
      .optional(),
    email: z
      .strictObject({
        to: z.array(z.string().regex(/^[^\s@]+@[^\s@]+$/, "an e-mail address")).min(1),
        from: z.string().min(1).optional().describe("default slipway@<host name>"),
        smtp: z
          .strictObject({
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535).optional().describe("default 587 (465 with secure: true)"),
            secure: z.boolean().optional(),
            user: z.string().min(1).optional(),
            password_env: envName.optional().describe("the environment variable (or env-file key) holding the password; never the password itself"),
          })
          .optional()
          .describe("default: SLIPWAY_SMTP_URL (smtp://user:password@host:port)"),
      })
      .optional(),
  }).refine((c) => !!c.webhook !== !!c.email, "a notification channel needs exactly one of webhook or email");
}
export type TargetChannel = z.infer<ReturnType<typeof targetChannelSchema>>;

export const targetSchema = z.strictObject({
  default: z.boolean().optional().describe("Used when -t/--target is not given"),
  mode: z.enum(["development", "production"]).optional().describe("development: no approvals, TTL allowed"),
  env_files: z.array(z.string().min(1)).optional().describe("Env files read after application.env and before module.env"),
  ttl: z
    .union([
      duration,
      z.strictObject({
        after: duration.describe("How long after the last deploy what is deployed is destroyed"),
        scope: z.enum(["target", "endpoints"]).optional().describe("target (default): everything deployed to the target is destroyed; endpoints: each endpoint, like `ttl: 24h`"),
        notify_before: duration.optional().describe("scope target: send deletion_upcoming this long before the deletion"),
      }),
    ])
    .optional()
    .describe("`ttl: 24h`: endpoints in this target are destroyed this long after their last deploy; `ttl: { after: 24h, notify_before: 1h }`: the whole target is"),
  notifications: z
    .array(targetChannelSchema())
    .optional()
    .describe("Channels for the target's own events (deletion_upcoming, deletion_done, deletion_failed of its ttl)"),
  protected: z.boolean().optional().describe("destroy needs --force as well as confirmation"),
  approval: z
    .strictObject({ approvers: z.array(z.string().min(1)).min(1), required: z.number().int().min(1).optional() })
    .optional(),
  variables: z.record(z.string(), scalar).optional().describe("Per-target variable values"),
  state: backend.optional(),
  blobs: blobsBackend.optional(),
  executor: executorSchema.optional(),
  serving: servingSchema.optional(),
  archives: archives.optional().describe("Overrides the project's archive stores for this target"),
  retention: retention.optional().describe("Overrides the project's retention for this target"),
});

export const variableSchema = z.strictObject({
  description: z.string().optional(),
  default: scalar.optional(),
  secret: z.boolean().optional().describe("Never printed: masked in plans, logs and output"),
});

export const projectFileSchema = z
  .strictObject({
    project: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "project names use lowercase letters, digits, _ and -").max(100),
    description: z.string().optional(),
    include: z.array(z.string().min(1)).optional().describe("Globs of module.yaml files, relative to slipway.yaml"),
    variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "variable names are identifiers"), variableSchema).optional(),
    targets: z.record(name("target"), targetSchema).refine((t) => Object.keys(t).length > 0, "at least one target is needed"),
    permissions: permissions.optional().describe("Default permissions for every resource"),
    archives: archives.optional(),
    retention: retention.optional(),
  })
  .describe("slipway.yaml: the root of a Slipway project");

/** The part of a module file every kind may read: its name, dependencies and phase; the rest is the kinds'. */
export interface ModuleFileBase {
  module: string;
  depends_on?: string[];
  phase?: number;
}

export type ProjectFile = z.infer<typeof projectFileSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type Permission = z.infer<typeof permissionSchema>;

/** Versions as they appear in store keys and file names: PEP 440, semver and the like. */
export const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/;
/** A library of a compute environment: an artifact of the project at one version. */
export const LIBRARY = /^([A-Za-z0-9][A-Za-z0-9_.-]*)@([A-Za-z0-9][A-Za-z0-9._+!-]*)$/;
export const ARTIFACT_TYPES = ["python_wheel", "npm", "archive"] as const;
export type ArtifactType = (typeof ARTIFACT_TYPES)[number];
