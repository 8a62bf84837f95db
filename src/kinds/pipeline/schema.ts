import { z } from "zod";
import { duration, envName, permissions, phase, scalar } from "../../config/schema.js";

export const STAGE_TYPES = ["run", "deploy", "approval", "wait", "destroy", "notify", "promote", "rollout"] as const;
export const EVENTS = ["approval_waiting", "succeeded", "failed", "deployed", "notify", "promoted", "rolled_back"] as const;

/** NAME@ALIAS, NAME@VERSION or NAME/VERSION: a model version in a target's registry. */
const modelRef = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*([@/][A-Za-z0-9_][A-Za-z0-9_.-]*)?$/, "a model version: NAME@ALIAS, NAME@VERSION or NAME/VERSION (NAME alone: the latest)");
const percent = z.number().gt(0).max(100);

/**
 * One stage. Which keys a type needs or allows is checked by compile (src/kinds/pipeline/index.ts),
 * so a `run` without `job` or a `wait` without `duration` is reported at the stage with file:line.
 */
const stageSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "a stage name: letters, digits, _, . and -, starting with a letter, digit or _")
    .describe('Unique in the pipeline; conditions read its results as stages.NAME (stages["NAME"] when it has a - or a .)'),
  type: z.enum(STAGE_TYPES).describe("run a job, deploy or destroy a target, wait for an approval, wait for a duration, notify, promote a model or artifact version between targets, roll an endpoint out in steps"),
  description: z.string().optional(),
  depends_on: z.array(z.string()).optional().describe("Stages that must succeed first (default: the stage before it in the list; [] for none)"),
  when: z.string().min(1).optional().describe('A condition on earlier results, e.g. "stages.train.registered == true"; false skips the stage'),
  job: z.string().min(1).optional().describe("run: the job (as deployed to the stage's target)"),
  params: z.record(z.string(), scalar).optional().describe("run: parameters of the job (the run's parameters the job declares are passed too)"),
  target: z.string().min(1).optional().describe("run, deploy, destroy: the target (default: the pipeline's); approval: the target it gates"),
  phase: z.number().int().min(0).optional().describe("deploy: deploy --phase N"),
  modules: z.array(z.string().min(1)).min(1).optional().describe("deploy, destroy: only these modules (--module)"),
  mode: z.enum(["create_or_update", "replace"]).optional().describe("deploy: create_or_update (default) applies the plan; replace destroys what is deployed in scope first"),
  force: z.boolean().optional().describe("deploy, destroy: like --force on a protected target"),
  approvers: z.array(z.string().min(1)).min(1).optional().describe('approval: "user:NAME" or "group:NAME" (a bare NAME is a user); default: the gated target\'s approval.approvers'),
  required: z.number().int().min(1).optional().describe("approval: approvals needed (default: the target's approval.required, else 1)"),
  prevent_self_review: z.boolean().optional().describe("approval: whoever triggered the run may not approve it (default true)"),
  timeout: duration.optional().describe("approval: the stage fails when not decided within this long (default 72h)"),
  duration: duration.optional().describe("wait: how long"),
  message: z.string().min(1).optional().describe("notify: the text sent; approval: shown to approvers"),
  model: modelRef.optional().describe("promote: the model version to copy (NAME@ALIAS, NAME@VERSION, NAME/VERSION); rollout: the candidate version, in the endpoint's target"),
  artifact: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*@[^\s/@]+$/, "an artifact version: NAME@VERSION").optional().describe("promote: the artifact version to copy (NAME@VERSION)"),
  from: z.string().min(1).optional().describe("promote: the target whose registry or artifact store holds the version"),
  to: z.string().min(1).optional().describe("promote: the target it is copied to"),
  alias: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "an alias: a letter, then letters, digits, _ and -").optional().describe("promote: the alias pointed at the promoted version in `to`; rollout: the alias pointed at the candidate once it serves 100% (then the endpoint's module is deployed)"),
  endpoint: z.string().min(1).optional().describe("rollout: the endpoint whose traffic shifts to the candidate"),
  steps: z.array(percent).min(1).optional().describe("rollout: the candidate's share at each step, rising, e.g. [10, 50, 100] (default)"),
  bake: duration.optional().describe("rollout: how long each step runs before it is judged (default 5m)"),
  min_requests: z.number().int().min(0).optional().describe("rollout: requests the candidate must answer in a step before it is judged (default 0); a step waits for them"),
  max_error_rate: z.number().min(0).max(1).optional().describe("rollout: the candidate's share of answers with status 5xx above which it is rolled back (default 0.05)"),
  max_latency_ms: z.number().positive().optional().describe("rollout: the candidate's p95 latency (ms) above which it is rolled back"),
  gate: z
    .strictObject({
      metric: z.string().min(1).describe("a metric the registry holds for both versions (metrics.json)"),
      greater_is_better: z.boolean().optional().describe("default true"),
      threshold: z.number().optional().describe("the candidate's metric must be at least this (at most, when greater_is_better is false)"),
      min_absolute_change: z.number().min(0).optional().describe("the candidate must beat the champion by at least this much"),
      min_relative_change: z.number().min(0).optional().describe("…and by at least this fraction of the champion's value (0.01 = 1%)"),
    })
    .optional()
    .describe("rollout: compares the candidate's registry metric with the champion's before any traffic moves; failing it fails the stage"),
});

const smtpSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional().describe("default 587 (465 with secure: true)"),
  secure: z.boolean().optional().describe("TLS from the start (port 465); otherwise STARTTLS when the server offers it"),
  user: z.string().min(1).optional(),
  password_env: envName.optional().describe("the environment variable (or env-file key) holding the password; never the password itself"),
});

const channelSchema = z.strictObject({
  events: z.array(z.enum(EVENTS)).min(1).optional().describe("what to send (default: all of approval_waiting, succeeded, failed, deployed, notify, promoted, rolled_back)"),
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
      smtp: smtpSchema.optional().describe("default: SLIPWAY_SMTP_URL (smtp://user:password@host:port)"),
    })
    .optional(),
});

export const pipelineSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  params: z.record(z.string(), scalar).optional().describe("Parameters with their defaults; `pipelines run --param k=v` sets them"),
  concurrency: z.enum(["queue", "cancel_previous", "skip"]).optional().describe("When a run is triggered while another runs: queue (default), cancel_previous, or skip"),
  stages: z.array(stageSchema).min(1),
  triggers: z
    .strictObject({
      manual: z.boolean().optional().describe("`slipway pipelines run` and the API may start it (default true)"),
      cron: z.string().optional().describe('Five-field cron, e.g. "0 6 * * 1"'),
      timezone: z.string().optional().describe("IANA zone the cron is read in (default UTC)"),
      catch_up: z.enum(["none", "once"]).optional().describe("Cron times missed while no server ran: none (default) or once"),
      after: z
        .strictObject({
          pipeline: z.string().min(1),
          outcome: z.enum(["succeeded", "failed", "any"]).optional().describe("default succeeded"),
        })
        .optional()
        .describe("Runs when a run of that pipeline (on the same target) ends; its results are handed over as upstream"),
      git: z
        .strictObject({
          repo: z.string().min(1).optional().describe("a path or URL (default: the repository holding the project)"),
          branch: z.string().min(1),
          every: duration.optional().describe("how often the server looks (default 1m)"),
        })
        .optional()
        .describe("Runs for each new commit on the branch, polled by the server"),
    })
    .optional(),
  notifications: z.array(channelSchema).optional(),
  permissions: permissions.optional(),
});
export type PipelineBlock = z.infer<typeof pipelineSchema>;
export type StageBlock = PipelineBlock["stages"][number];
export type ChannelBlock = NonNullable<PipelineBlock["notifications"]>[number];
