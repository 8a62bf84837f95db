// Row types of the state database, shared by every dialect (Kysely's `DB` type).

export interface ResourcesTable {
  project: string;
  target: string;
  address: string;
  kind: string;
  name: string;
  module: string;
  phase: number;
  spec_hash: string;
  spec: string; // JSON
  depends_on: string; // JSON array of addresses
  outputs: string; // JSON
  created_at: string;
  updated_at: string;
}

export interface DeploymentsTable {
  id: string;
  project: string;
  target: string;
  /** deploy | destroy | rollback */
  operation: string;
  /** running | succeeded | failed | interrupted */
  status: string;
  /** Set when the deployment succeeded and changed the recorded state. */
  revision: number | null;
  user: string;
  host: string;
  pid: number;
  started_at: string;
  finished_at: string | null;
  /** JSON: counts per action. */
  summary: string;
  /** Blob key of the state snapshot after a successful deployment. */
  snapshot: string | null;
  /** Hash of the recorded state after the deployment (addresses + spec hashes). */
  state_hash: string | null;
  error: string | null;
  /** JSON: options the deployment ran with (phase, modules, rollback_to). */
  options: string;
}

export interface JournalTable {
  deployment_id: string;
  seq: number;
  address: string;
  action: string;
  /** started | done | failed */
  status: string;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  /** Process group of a script the action started, so a crashed apply can stop its orphans. */
  child_pid: number | null;
}

export interface SettingsTable {
  project: string;
  target: string;
  module: string;
  key: string;
  value: string;
  updated_at: string;
}

export interface LocksTable {
  project: string;
  target: string;
  token: string;
  operation: string;
  owner_user: string;
  owner_host: string;
  owner_pid: number;
  acquired_at: string;
  heartbeat_at: string;
  /** Epoch milliseconds, compared in code so both dialects behave the same. */
  expires_at: number;
}

export interface RunsTable {
  id: string;
  project: string;
  target: string;
  job: string;
  /** queued | running | succeeded | failed | cancelled | lost */
  status: string;
  params: string; // JSON
  /** Content hash of the bundle (job source + resolved config + runner). */
  bundle: string;
  config_hash: string;
  executor: string;
  /** JSON: what the executor needs to find the run again (pid, process group, job id …). */
  handle: string;
  user: string;
  host: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Epoch ms of the runner's last sign of life. */
  heartbeat_at: number | null;
  error: string | null;
  results: string | null; // JSON
  metrics: string | null; // JSON
  provenance: string | null; // JSON
  options: string; // JSON: keep_workdir, no_cache
  /** Why it started: manual | schedule | deploy (run_on_deploy). */
  trigger: string;
  /** What started it, for a trigger that has a name: the schedule's name. */
  trigger_ref: string | null;
}

/** A cancellation asked by a process on another host than the run's (its runner stops when it reads it). */
export interface RunCancelRequestsTable {
  run_id: string;
  requested_at: string;
  /** The user who asked. */
  requested_by: string;
  /** The host (SLIPWAY_HOST_ID or hostname) the request came from. */
  host: string;
  /** What the run records as its error when it ends cancelled. */
  reason: string;
}

export interface RunTasksTable {
  run_id: string;
  task: string;
  /** pending | running | succeeded | failed | cached | skipped | cancelled | lost */
  status: string;
  attempts: number;
  exit_code: number | null;
  /** Process group of the running attempt. */
  pid: number | null;
  started_at: string | null;
  finished_at: string | null;
  /** The run whose outputs a cache hit reused. */
  cached_from: string | null;
  cache_key: string | null;
  /** JSON: the output files this task wrote (path -> sha256). */
  outputs: string | null;
  error: string | null;
}

export interface TaskCacheTable {
  cache_key: string;
  run_id: string;
  task: string;
  outputs: string; // JSON: path -> sha256
  created_at: string;
}

export interface ModelVersionsTable {
  project: string;
  target: string;
  /** The model's key in module.yaml (resources.models.<model>). */
  model: string;
  version: number;
  /** The configured registered name (models.<model>.name), e.g. a catalog-qualified name. */
  registered_name: string;
  flavor: string;
  /** JSON: the model folder's model.yaml. */
  manifest: string;
  /** JSON: path -> sha256 of the model folder's files (content in the persisted_data archive). */
  files: string;
  metrics: string; // JSON
  tags: string; // JSON
  run_id: string | null;
  job: string | null;
  bundle: string | null;
  created_at: string;
  /** JSON {target, version, at}: the version of another target's registry this one was promoted from. */
  promoted_from: string | null;
}

export interface ModelAliasesTable {
  project: string;
  target: string;
  model: string;
  alias: string;
  version: number;
  updated_at: string;
}

export interface AccessTokensTable {
  /** sha256 of the token; the token itself is shown once and never stored. */
  token_hash: string;
  user: string;
  groups: string; // JSON array
  description: string | null;
  created_at: string;
  /** ISO time after which the token is refused (null: never). */
  expires_at: string | null;
  /** Set when the token was revoked. */
  revoked_at: string | null;
}

/** Users and service principals of the control plane (src/server/auth). */
export interface PrincipalsTable {
  name: string;
  /** user | service_principal */
  kind: string;
  /** 1 for administrators (they manage users, groups and every grant). */
  admin: number;
  created_at: string;
  created_by: string;
}

export interface GroupMembersTable {
  group_name: string;
  member: string;
  added_at: string;
}

/** Grants made through the API: on a project (target and resource ""), a target (resource "") or one resource. */
export interface GrantsTable {
  project: string;
  target: string;
  resource: string;
  /** user | group | service_principal */
  principal_kind: string;
  principal: string;
  level: string;
  created_at: string;
  created_by: string;
}

/** The user whose deploy through the server first claimed a target: CAN_MANAGE on it. */
export interface TargetOwnersTable {
  project: string;
  target: string;
  owner: string;
  since: string;
}

/** The append-only audit log; each entry's hash covers its fields and the previous entry's hash. */
export interface AuditLogTable {
  seq: number;
  at: string;
  actor: string;
  action: string;
  project: string;
  target: string;
  resource: string;
  client: string;
  /** ok, or the error code */
  outcome: string;
  /** JSON object */
  detail: string;
  prev_hash: string;
  hash: string;
}

export interface ComputeEnvironmentsTable {
  project: string;
  target: string;
  /** The compute resource's name. */
  name: string;
  /** "" for a deployed environment; the run id for a run's instance of an ephemeral one. */
  instance: string;
  /** The virtual environment's folder. */
  path: string;
  /** The interpreter it was made from, as resolved (e.g. python3, /usr/bin/python3). */
  python: string;
  /** e.g. 3.11.2 */
  python_version: string;
  ephemeral: number;
  run_id: string | null;
  created_at: string;
}

export interface ComputeInstallsTable {
  project: string;
  target: string;
  environment: string;
  instance: string;
  artifact: string;
  version: string;
  sha256: string;
  /** The distribution name the installer knows it by (e.g. the wheel's project name). */
  package: string;
  filename: string;
  installed_at: string;
  installed_by: string;
}

export interface ScheduleFiresTable {
  project: string;
  target: string;
  schedule: string;
  /** The due time (ISO, UTC). The row is the claim on it: one per due time, whoever inserts it fires. */
  due_at: string;
  /** claimed | started | skipped | queued | failed */
  status: string;
  /** The run it started (picked when claiming, so a takeover never starts a second one). */
  run_id: string | null;
  /** host:pid of the server that claimed it. */
  owner: string;
  claimed_at: string;
  /** Epoch ms: a claim still `claimed` after this may be taken over (its server died). */
  expires_at: number;
  message: string | null;
}

export interface ScheduleStatesTable {
  project: string;
  target: string;
  schedule: string;
  /** `schedules pause` (1) or `unpause` (0): overrides the config's `paused`. */
  paused: number;
  updated_at: string;
  updated_by: string;
}

export interface BackgroundLeasesTable {
  /** The unit of work and its due time, e.g. `retention/proj/dev@2026-01-02T00:00:00.000Z`. */
  key: string;
  owner: string;
  acquired_at: string;
  /** Epoch ms; renewed while the work runs. An unfinished lease past it may be taken over. */
  expires_at: number;
  finished_at: string | null;
  /** ok | failed */
  outcome: string | null;
}

export interface BackgroundStatusTable {
  /** A loop (`schedules`, `ttl`, `lost-runs`) or a unit of one (`retention/proj/dev`). */
  unit: string;
  owner: string | null;
  last_started_at: string | null;
  last_finished_at: string | null;
  /** ok | failed */
  last_outcome: string | null;
  last_message: string | null;
  next_at: string | null;
}

export interface BackgroundTargetsTable {
  project: string;
  target: string;
  /** The project folder it was last deployed from. */
  dir: string;
  /** JSON: the target's retention settings, or null. */
  retention: string | null;
  updated_at: string;
}

export interface PipelineRunsTable {
  id: string;
  project: string;
  target: string;
  pipeline: string;
  /** queued | running | waiting | succeeded | failed | cancelled | skipped */
  status: string;
  /** manual | cron | after | git */
  trigger: string;
  /** The cron due time, the upstream run id, or the commit. */
  trigger_ref: string | null;
  /** Unique per pipeline when set (cron:<due>, after:<run>, git:<commit>): a trigger starts one run. */
  trigger_key: string | null;
  params: string; // JSON
  /** JSON: the pipeline's spec as deployed when the run was triggered. */
  spec: string;
  /** The project folder deploy and run stages compile. */
  dir: string;
  /** JSON: the upstream run (after-trigger): pipeline, run, outcome, params, stages' results. */
  upstream: string | null;
  /** Who triggered it (manual), or the schedule/pipeline/branch's deployer. */
  user: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  message: string | null;
  /** The process advancing it and until when (epoch ms), renewed while it works. */
  owner: string | null;
  lease_expires_at: number | null;
}

export interface PipelineStagesTable {
  run_id: string;
  stage: string;
  type: string;
  /** pending | running | waiting | succeeded | failed | skipped | cancelled */
  status: string;
  started_at: string | null;
  finished_at: string | null;
  /** Epoch ms: when a wait ends, when an approval times out. */
  due_at: number | null;
  /** A run stage's job run. */
  job_run: string | null;
  /** JSON: what the stage produced (conditions read it as stages.NAME.*). */
  outputs: string | null;
  /** JSON: approval (approvers, required, plan summary), deploy (plan summary, revision). */
  details: string | null;
  message: string | null;
  /** The stage's own log lines (deploy, destroy, approval, wait, notify; a run stage's are its job run's). */
  log: string | null;
}

export interface PipelineApprovalsTable {
  run_id: string;
  stage: string;
  user: string;
  /** approve | reject */
  decision: string;
  comment: string | null;
  at: string;
}

export interface PipelineNotificationsTable {
  run_id: string;
  /** approval_waiting:<stage>, deployed:<stage>, notify:<stage>, succeeded, failed */
  event: string;
  /** The channel's index in the pipeline's notifications. */
  channel: number;
  /** sending | sent | failed */
  status: string;
  attempts: number;
  at: string;
  message: string | null;
}

export interface PipelineSlotsTable {
  project: string;
  target: string;
  pipeline: string;
  /** The run holding the pipeline (running or waiting); null when none. */
  active_run: string | null;
}

export interface PipelineGitHeadsTable {
  project: string;
  target: string;
  pipeline: string;
  repo: string;
  branch: string;
  commit: string;
  seen_at: string;
}

export interface Database {
  resources: ResourcesTable;
  deployments: DeploymentsTable;
  journal: JournalTable;
  settings: SettingsTable;
  locks: LocksTable;
  runs: RunsTable;
  run_tasks: RunTasksTable;
  run_cancel_requests: RunCancelRequestsTable;
  task_cache: TaskCacheTable;
  model_versions: ModelVersionsTable;
  model_aliases: ModelAliasesTable;
  access_tokens: AccessTokensTable;
  compute_environments: ComputeEnvironmentsTable;
  compute_installs: ComputeInstallsTable;
  principals: PrincipalsTable;
  group_members: GroupMembersTable;
  grants: GrantsTable;
  target_owners: TargetOwnersTable;
  audit_log: AuditLogTable;
  schedule_fires: ScheduleFiresTable;
  schedule_states: ScheduleStatesTable;
  background_leases: BackgroundLeasesTable;
  background_status: BackgroundStatusTable;
  background_targets: BackgroundTargetsTable;
  pipeline_runs: PipelineRunsTable;
  pipeline_stages: PipelineStagesTable;
  pipeline_approvals: PipelineApprovalsTable;
  pipeline_notifications: PipelineNotificationsTable;
  pipeline_slots: PipelineSlotsTable;
  pipeline_git_heads: PipelineGitHeadsTable;
  target_ttls: TargetTtlsTable;
  target_ttl_deliveries: TargetTtlDeliveriesTable;
}

/** A target-wide TTL's clock and deletion (src/operations/ttl.ts). */
export interface TargetTtlsTable {
  project: string;
  target: string;
  /** The project folder of the last deploy (the deletion compiles it, like `slipway destroy`). */
  dir: string;
  deployed_by: string;
  deployed_at: string;
  after: string;
  notify_before: string | null;
  /** JSON: the target's `notifications:` as last deployed. */
  channels: string;
  /** Bumped by each deploy: a deletion planned for an older generation is cancelled. */
  generation: number;
  /** When the target is destroyed (ms since the epoch): the last deploy + after + extensions. */
  due_ms: number;
  extended_ms: number;
  pinned_by: string | null;
  pinned_at: string | null;
  /** armed (counting down) | retrying (a deletion failed; retried at next_attempt_ms) | expired (destroyed by the TTL) | destroyed (by a person). */
  status: string;
  attempts: number;
  next_attempt_ms: number | null;
  last_error: string | null;
  finished_at: string | null;
  updated_at: string;
}

export interface TargetTtlDeliveriesTable {
  project: string;
  target: string;
  generation: number;
  event: string;
  channel: number;
  description: string;
  /** sending | sent | failed */
  status: string;
  attempts: number;
  error: string | null;
  at: string;
}
