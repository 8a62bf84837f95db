// Public API of the `slipway` package.
export { Slipway, Run, Archives, Artifacts, Models, Endpoints, Apps, type SlipwayOptions, type ApplyOptions, type RunOptions } from "./sdk/slipway.js";
export type { ArtifactListing, ArtifactsOverview, BuildResult, GcResult, GcPlan, InstallResult, PublishResult, VersionListing } from "./operations/artifacts.js";
export type { ArtifactVersion } from "./artifacts/store.js";
export type { UseSite } from "./operations/artifact-usage.js";
export type { BundleSummary, RunDetails, RunSummary, TaskSummary } from "./operations/runs.js";
export type { ArchiveGroup, ArchiveListing } from "./operations/archives.js";
export type { BlobEntry } from "./store/blobs/blob-store.js";
export type { ModelView, ModelVersionView } from "./operations/models.js";
export type { EndpointView } from "./operations/endpoints.js";
export type { AppView, AppLogs } from "./operations/apps.js";
export type { InferenceRow } from "./serving/inference-log.js";
export { SlipwayError, InvalidInputError, RefusedError, type Diagnostic, type SourceLocation } from "./errors.js";
export { ERROR_CODES, exitCodeOf, httpStatusOf, type ErrorCode, type ExitCode } from "./error-codes.js";
export type { Reporter } from "./engine/reporter.js";
export type { Plan, PlannedAction, PlanSummary, FieldChange } from "./engine/plan.js";
export type { DeployResult, PlanResult, ValidateResult } from "./operations/deploy.js";
export type { StatusResult, HistoryEntry } from "./operations/queries.js";
export { jsonSchema } from "./kinds/module-file.js";
