// Kinds whose runtime effect arrives with later work (jobs, models, endpoints, schedules, pipelines,
// permissions). They are validated, planned and recorded in state today, so plans,
// revisions, phases and rollbacks already cover them; each will get a provider file of its own.
import type { ResourceKind } from "../resources.js";
import type { Provider } from "./provider.js";

export function recordOnlyProvider(kind: ResourceKind): Provider {
  return {
    kind,
    async create() {
      return {};
    },
    async update() {
      return {};
    },
    async delete() {},
    diff: (recorded, desired) => (recorded.spec.module !== desired.spec.module ? "replace" : "update"),
  };
}
