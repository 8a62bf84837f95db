// Which provider handles which resource kind.
import type { ResourceKind } from "../resources.js";
import { endpointProvider } from "./endpoint.js";
import { artifactProvider } from "./artifact.js";
import { computeProvider } from "./compute.js";
import { hookProvider } from "./hook.js";
import { moduleProvider } from "./module.js";
import type { Provider } from "./provider.js";
import { recordOnlyProvider } from "./recorded.js";
import { settingProvider } from "./setting.js";

const providers: Record<ResourceKind, Provider> = {
  module: moduleProvider,
  hook: hookProvider,
  setting: settingProvider,
  artifact: artifactProvider,
  compute: computeProvider,
  job: recordOnlyProvider("job"),
  model: recordOnlyProvider("model"),
  endpoint: endpointProvider,
  schedule: recordOnlyProvider("schedule"),
  pipeline: recordOnlyProvider("pipeline"),
  permission: recordOnlyProvider("permission"),
};

export function providerFor(kind: ResourceKind): Provider {
  return providers[kind];
}
