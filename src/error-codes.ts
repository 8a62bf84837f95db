// The one registry of error codes. Every `code` a SlipwayError can carry is listed here once, with the
// CLI exit code it yields, the HTTP status the server answers with, and one line saying when it
// happens. Constructing an error with a code that is not listed fails typecheck (see errors.ts); the
// CLI takes exit codes only from here (exitCodeOf) and the server will take statuses only from here
// (httpStatusOf). docs/cli.md carries this table; test/contract/docs.test.ts keeps it in sync.

/** 0 success, 1 failure, 2 invalid input (nothing changed), 3 refused (nothing changed). */
export type ExitCode = 0 | 1 | 2 | 3;

export type HttpStatus = 400 | 401 | 403 | 404 | 409 | 413 | 423 | 429 | 500 | 502 | 503;

export interface ErrorCodeInfo {
  readonly exit: Exclude<ExitCode, 0>;
  readonly http: HttpStatus;
  readonly description: string;
}

export const ERROR_CODES = {
  // ---- invalid input: exit 2, nothing was changed
  invalid_usage: { exit: 2, http: 400, description: "the command line could not be parsed: unknown command or option, missing argument or option value" },
  invalid_user: { exit: 2, http: 400, description: "a user, group or service principal name breaks the naming rule (SLIPWAY_USER, tokens, permissions)" },
  invalid_flag: { exit: 2, http: 400, description: "a flag's value is malformed (`--var`, `--param`, `--data`, `--keep-last`, a schema name)" },
  invalid_config: { exit: 2, http: 400, description: "the project files have problems; each is a diagnostic with file, line and column" },
  project_not_found: { exit: 2, http: 404, description: "no `slipway.yaml` in the project folder" },
  unknown_target: { exit: 2, http: 404, description: "`-t` names a target the project does not have" },
  no_target: { exit: 2, http: 400, description: "no `-t` given and no target is marked `default: true`" },
  unknown_module: { exit: 2, http: 404, description: "`--module` names a module the project does not have" },
  unknown_revision: { exit: 2, http: 404, description: "`rollback --to` a revision that does not exist" },
  invalid_backend: { exit: 2, http: 400, description: "unknown or incomplete `state` / `blobs` backend" },
  invalid_home_config: { exit: 2, http: 400, description: "`SLIPWAY_HOME/config.yaml` (the home's backends) has problems; each is a diagnostic with file, line and column" },
  unknown_job: { exit: 2, http: 404, description: "`run` or `bundle` of a job that is not declared (by key or title)" },
  unknown_schedule: { exit: 2, http: 404, description: "`schedules pause`, `unpause` or `wait` of a schedule not deployed to the target" },
  schedule_wait_timeout: { exit: 1, http: 503, description: "`schedules wait`: the schedule did not fire within `--timeout` (is a server running? is it paused?)" },
  unknown_param: { exit: 2, http: 400, description: "`--param` names a parameter the job does not declare" },
  unknown_run: { exit: 2, http: 404, description: "no run with that id, or a run-id prefix that is ambiguous" },
  unknown_task: { exit: 2, http: 404, description: "`logs --task` names a task the run does not have" },
  unknown_archive_kind: { exit: 2, http: 404, description: "`archives list` of a kind that is not one of job_source, stage_logs, persisted_data, artifacts, provenance, cache, misc" },
  unsafe_archive: { exit: 2, http: 400, description: "`run --bundle` with an archive that is refused" },
  unsupported: { exit: 2, http: 400, description: "a job asks for GPUs the target's executor does not have" },
  secret_in_command: { exit: 2, http: 400, description: "a job's command holds a secret value, which would be stored in its bundle" },
  kubernetes_unreachable_store: { exit: 2, http: 400, description: "a target whose runs execute on Kubernetes keeps its state, blobs or archives in local folders its pods cannot reach (not under `executor.volume`); nothing was run" },
  kubernetes_unsupported: { exit: 2, http: 400, description: "a run cannot be carried into a Kubernetes pod as it is (a value holds the control character U+0001); nothing was run" },
  endpoint_on_kubernetes: { exit: 2, http: 409, description: "`endpoints query` of an endpoint served on Kubernetes (`serving: { type: kubernetes }`): the local gateway does not serve it; query its Service in the cluster" },
  unknown_model: { exit: 2, http: 404, description: "a `models` command names a model that is neither declared nor registered" },
  unknown_model_version: { exit: 2, http: 404, description: "no such model version or alias" },
  unknown_artifact_version: { exit: 2, http: 404, description: "`artifacts promote` of a version the source target's store does not hold" },
  invalid_alias: { exit: 2, http: 400, description: "a malformed alias name" },
  model_version_missing: { exit: 2, http: 409, description: "a deploy's endpoint serves a model version or alias that does not exist (yet): run the job that registers it first" },
  unknown_app: { exit: 2, http: 404, description: "`apps logs` of an app not deployed to the target" },
  unknown_endpoint: { exit: 2, http: 404, description: "`endpoints query` or `logs` of an endpoint not deployed to the target" },
  query_rejected: { exit: 2, http: 400, description: "`endpoints query`: the endpoint answered 400 (a malformed request)" },
  unknown_artifact: { exit: 2, http: 404, description: "`artifacts` names an artifact that is not declared" },
  unknown_environment: { exit: 2, http: 404, description: "a compute environment that is not declared" },
  invalid_library: { exit: 2, http: 400, description: "a library that is not `ARTIFACT@VERSION`" },
  unknown_version: { exit: 2, http: 404, description: "an artifact version the target's store does not hold" },
  not_built: { exit: 2, http: 409, description: "`artifacts publish` before `artifacts build` on this machine" },
  stale_build: { exit: 2, http: 409, description: "`artifacts publish` of a build whose type no longer matches the configuration" },
  invalid_package: { exit: 2, http: 400, description: "an artifact's folder is not a package of its type" },
  invalid_request: { exit: 2, http: 400, description: "an API request's body or parameters are malformed (the message names the field)" },
  request_too_large: { exit: 2, http: 413, description: "an API request's body is larger than the server accepts" },
  unknown_route: { exit: 2, http: 404, description: "no API route for that method and path" },
  unknown_user: { exit: 2, http: 404, description: "a user, service principal or group that does not exist" },
  unknown_token: { exit: 2, http: 404, description: "`tokens revoke` of a token id that matches no token (or several)" },
  unknown_source: { exit: 2, http: 404, description: "an API request names a project source (bundle) the server does not have, or a file of it was not uploaded" },
  unknown_project: { exit: 2, http: 404, description: "an API request for a project whose source was never uploaded to the server (plan or deploy with `--server` first)" },
  not_logged_in: { exit: 2, http: 401, description: "`--server` (or SLIPWAY_SERVER) without a token: run `slipway login URL` or set SLIPWAY_TOKEN" },
  unknown_pipeline: { exit: 2, http: 404, description: "a `pipelines` command names a pipeline that is neither declared nor deployed to the target" },
  unknown_stage: { exit: 2, http: 404, description: "`pipelines approve|reject|logs --stage` names a stage the pipeline run does not have" },
  not_an_approval: { exit: 2, http: 400, description: "`pipelines approve|reject --stage` names a stage that is not an approval" },
  export_unsupported: { exit: 2, http: 400, description: "`export k8s` or `export helm`: the project holds a name Kubernetes cannot take (an environment variable or setting key that is not a ConfigMap key)" },
  export_out_unsafe: { exit: 2, http: 400, description: "`export --out` is, or holds where the export writes, a symbolic link or a file that is not a folder" },
  not_installable: { exit: 2, http: 400, description: "installing an artifact that is not a Python wheel" },

  // ---- refused: exit 3, nothing was changed
  lock_held: { exit: 3, http: 423, description: "another writer holds the target's lock (adds `holder`)" },
  state_locked: { exit: 3, http: 423, description: "the SQLite state database stayed locked by another process (migrating or writing) past the busy timeout" },
  lock_contended: { exit: 3, http: 423, description: "the target's lock kept changing hands while being taken" },
  lock_lost: { exit: 3, http: 423, description: "the lock was taken over (`--force-unlock`) while this operation ran" },
  protected: { exit: 3, http: 403, description: "a protected target needs `--force`" },
  confirmation_required: { exit: 3, http: 409, description: "deletes or replaces need `--yes` when there is no terminal to ask" },
  not_confirmed: { exit: 3, http: 409, description: "the confirmation prompt was declined" },
  dependencies_not_deployed: { exit: 3, http: 409, description: "`--module` whose dependencies are not deployed (adds `missing`)" },
  dependents_deployed: { exit: 3, http: 409, description: "`destroy --module` while deployed modules depend on it (adds `dependents`)" },
  not_deployed: { exit: 3, http: 409, description: "`destroy --module` of a module that is not deployed" },
  ttl_not_running: { exit: 3, http: 409, description: "`ttl extend`, `pin` or `unpin` of a target whose TTL clock is not running (no `ttl: { after }`, not deployed since, or already destroyed)" },
  ttl_restarted: { exit: 3, http: 409, description: "a TTL deletion found the target's clock restarted, extended or pinned under its lock: nothing was deleted" },
  run_finished: { exit: 3, http: 409, description: "`cancel` of a run that has finished or is lost" },
  run_elsewhere: { exit: 3, http: 409, description: "`cancel` of a run on another host whose runner did not stop it in time (the request stays recorded)" },
  server_running: { exit: 3, http: 409, description: "`slipway server` while a server for this `SLIPWAY_HOME` runs" },
  version_exists: { exit: 3, http: 409, description: "publishing a published artifact version with other content (adds `artifact`, `version`, `target`, `published_sha256`, `sha256`)" },
  export_out_not_empty: { exit: 3, http: 409, description: "`export --out` names a folder that is not empty and was not written by `slipway export` (pass `--force`)" },
  environment_not_deployed: { exit: 3, http: 409, description: "`artifacts install` or `run` with a compute environment that is not deployed" },
  environment_ephemeral: { exit: 3, http: 409, description: "`artifacts install` into an ephemeral compute environment" },
  unauthenticated: { exit: 3, http: 401, description: "an API request without a valid token (missing, unknown, revoked or expired)" },
  forbidden: { exit: 3, http: 403, description: "the caller lacks the permission level the operation needs (the message names it)" },
  csrf_refused: { exit: 3, http: 403, description: "a change signed in by the dashboard's session cookie without the `X-Slipway-CSRF` header, or from another origin (a forged cross-site request)" },
  rate_limited: { exit: 3, http: 429, description: "too many failed authentications from this address; retry after `retry_after_s`" },
  principal_exists: { exit: 3, http: 409, description: "`users create` of a name that exists" },
  job_not_deployed: { exit: 3, http: 409, description: "`run` of a job the config declares but the target does not have deployed (deploy it, or `run --from-source`)" },
  not_copied: { exit: 3, http: 409, description: "`artifacts build --out`: a build differs from a published version of the same name, so it was not copied (the document lists it under `not_copied`)" },
  query_unauthorized: { exit: 3, http: 401, description: "`endpoints query`: the endpoint answered 401 (no or unknown token)" },
  query_forbidden: { exit: 3, http: 403, description: "`endpoints query`: the endpoint answered 403 (the token's user may not query it)" },
  files_exist: { exit: 3, http: 409, description: "`init` into a folder that has files the template would write (adds `files`); nothing was written" },
  pipeline_not_deployed: { exit: 3, http: 409, description: "`pipelines run` of a pipeline the config declares but the target does not have deployed (deploy it first)" },
  manual_trigger_off: { exit: 3, http: 409, description: "`pipelines run` of a pipeline whose `triggers.manual` is false" },
  pipeline_run_skipped: { exit: 3, http: 409, description: "`pipelines run`: the pipeline's previous run still runs and its `concurrency` is skip (the document is the skipped run)" },
  approval_not_waiting: { exit: 3, http: 409, description: "`pipelines approve|reject` of an approval stage that is not waiting (not reached yet, decided, timed out or skipped)" },
  self_review: { exit: 3, http: 403, description: "`pipelines approve` by the person who triggered the run, on a stage with `prevent_self_review`" },
  already_decided: { exit: 3, http: 409, description: "`pipelines approve|reject` by an approver who has already decided on that stage" },
  cancelled: { exit: 3, http: 409, description: "`init` on a terminal: the input ended (Ctrl-D) before every question was answered; nothing was written" },

  // ---- failures: exit 1
  internal: { exit: 1, http: 500, description: "an unexpected error (set `SLIPWAY_DEBUG=1` for a stack trace)" },
  apply_failed: { exit: 1, http: 500, description: "actions of a deploy, destroy or rollback failed with errors of different kinds (each is in `failed`)" },
  apply_aborted: { exit: 1, http: 500, description: "an apply was stopped before it finished" },
  hook_failed: { exit: 1, http: 500, description: "a hook's deploy or destroy script exited with a non-zero code" },
  hook_script_missing: { exit: 1, http: 500, description: "a hook script recorded in state is neither on disk nor in the blob store" },
  snapshot_missing: { exit: 1, http: 500, description: "a revision's snapshot is missing from the blob store" },
  reap_failed: { exit: 1, http: 500, description: "`endpoints reap` could not destroy an expired endpoint" },
  run_failed: { exit: 1, http: 500, description: "`run --wait` or `logs -f`: the run ended without succeeding (failed, cancelled or lost)" },
  compute_failed: { exit: 1, http: 500, description: "making a compute environment or installing into it failed" },
  environment_missing: { exit: 1, http: 500, description: "a compute environment is not recorded in state" },
  bundle_invalid: { exit: 1, http: 400, description: "a bundle or its manifest is malformed" },
  bundle_unsafe_path: { exit: 1, http: 400, description: "a bundle path would be written outside its folder" },
  bundle_not_found: { exit: 1, http: 404, description: "a bundle is not in the blob store" },
  bundle_corrupt: { exit: 1, http: 500, description: "a bundle's content does not match its hash" },
  bundle_blob_missing: { exit: 1, http: 500, description: "a file of a bundle is missing from the blob store" },
  blob_store_failed: { exit: 1, http: 502, description: "the S3-compatible blob store failed a request (missing bucket, credentials, access denied, unreachable); adds `store`, `error` and the HTTP `status`" },
  archive_unsafe_entry: { exit: 1, http: 400, description: "an archive entry would be written outside its folder; nothing was extracted" },
  workdir_not_empty: { exit: 1, http: 500, description: "a run's working folder exists and is not empty" },
  invalid_model: { exit: 1, http: 400, description: "a model folder's `model.yaml` is missing or invalid" },
  build_failed: { exit: 1, http: 500, description: "an artifact's build tool failed (adds `artifact`, `exit_code`, `output` when the tool ran)" },
  artifact_corrupt: { exit: 1, http: 500, description: "an artifact file does not match its recorded sha256 and size" },
  artifact_content_missing: { exit: 1, http: 500, description: "a published artifact version's content is missing from the store" },
  model_files_missing: { exit: 1, http: 500, description: "`models promote` of a version whose files are missing from the source target's archive" },
  server_unavailable: { exit: 1, http: 503, description: "the local server did not start within 20 s (see `SLIPWAY_HOME/logs/server.log`)" },
  server_error: { exit: 1, http: 502, description: "the local server refused an admin request" },
  server_stop_timeout: { exit: 1, http: 500, description: "`server stop`: the server did not exit within 45 s (its drain plus stopping models)" },
  endpoint_not_served: { exit: 1, http: 503, description: "a deployed endpoint could not be served again by the local server (deploy reports which and why)" },
  app_not_running: { exit: 1, http: 503, description: "a deployed app could not be started again by the local server (deploy reports which and why)" },
  audit_tampered: { exit: 1, http: 500, description: "`audit verify`: an entry of the audit log does not match its hash or its predecessor's (adds `seq`)" },
  server_unreachable: { exit: 1, http: 502, description: "`--server`: the server could not be reached, or answered something that is not Slipway's API" },
  source_changed: { exit: 1, http: 409, description: "`--server`: a project file changed while it was being uploaded; run the command again" },
  not_remote: { exit: 2, http: 400, description: "`--server` on a command that works on this machine only (artifacts build and publish, bundle, run --bundle)" },
  query_failed: { exit: 1, http: 502, description: "`endpoints query`: the endpoint answered neither 2xx nor 400, 401, 403 (for example 404, 500, 503)" },
  pipeline_failed: { exit: 1, http: 500, description: "`pipelines run` (in the foreground) or `status`: the pipeline run ended without succeeding (failed or cancelled)" },
  executor_failed: { exit: 1, http: 502, description: "the target's executor could not take a run: a Slurm command failed or is missing, or the Kubernetes API refused or could not be reached (the message has its error); the run is recorded failed" },
  kubernetes_serving_failed: { exit: 1, http: 502, description: "a target with `serving: { type: kubernetes }`: the Kubernetes API refused an endpoint's Deployment or Service (403 forbidden, 409 conflict, an object Slipway does not manage) or could not be reached; the message has its error and how to fix it" },
  checks_failed: { exit: 1, http: 500, description: "`doctor`: a check failed; each failed check says how to fix it" },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose exit code is E: InvalidInputError takes only exit-2 codes, RefusedError exit-3 ones. */
export type CodeWithExit<E extends ExitCode> = { [K in ErrorCode]: (typeof ERROR_CODES)[K]["exit"] extends E ? K : never }[ErrorCode];

/** The exit code registered for C (a literal type when C is a literal). */
export type ExitOf<C extends ErrorCode> = (typeof ERROR_CODES)[C]["exit"];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The CLI's exit code for an error code; unknown codes are internal errors (1). */
export function exitCodeOf(code: ErrorCode | string): Exclude<ExitCode, 0> {
  return isErrorCode(code) ? ERROR_CODES[code].exit : 1;
}

/** The HTTP status the server answers an error code with; unknown codes are internal errors (500). */
export function httpStatusOf(code: ErrorCode | string): HttpStatus {
  return isErrorCode(code) ? ERROR_CODES[code].http : 500;
}

/** The code of an endpoint's non-2xx answer to `endpoints query` (its exit code follows from the registry). */
export function queryErrorCode(status: number): "query_rejected" | "query_unauthorized" | "query_forbidden" | "query_failed" {
  for (const code of ["query_rejected", "query_unauthorized", "query_forbidden"] as const) if (ERROR_CODES[code].http === status) return code;
  return "query_failed";
}
