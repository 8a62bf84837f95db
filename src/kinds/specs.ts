// Each kind's spec type by kind name, for code that reads a resource of a known kind (`specOf`).
import type { AppSpec } from "./app/index.js";
import type { ArtifactSpec } from "./artifact/index.js";
import type { ComputeSpec } from "./compute/index.js";
import type { EndpointSpec } from "./endpoint/index.js";
import type { HookSpec } from "./hook/index.js";
import type { JobSpec } from "./job/index.js";
import type { ModelSpec } from "./model/index.js";
import type { ModuleSpec } from "./module/index.js";
import type { PermissionSpec } from "./permission/index.js";
import type { PipelineSpec } from "./pipeline/index.js";
import type { ScheduleSpec } from "./schedule/index.js";
import type { SettingSpec } from "./setting/index.js";

export interface KindSpecs {
  module: ModuleSpec;
  hook: HookSpec;
  setting: SettingSpec;
  artifact: ArtifactSpec;
  compute: ComputeSpec;
  model: ModelSpec;
  job: JobSpec;
  endpoint: EndpointSpec;
  app: AppSpec;
  schedule: ScheduleSpec;
  pipeline: PipelineSpec;
  permission: PermissionSpec;
}
