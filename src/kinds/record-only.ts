// A provider for kinds whose effect is their record in state (jobs, models, schedules, pipelines,
// permissions): validated, planned and recorded, so plans, revisions, phases and rollbacks cover them.
// Each gets a real provider when its runtime arrives (schedules fire from the server, for example).
import type { Provider } from "../engine/provider.js";
import type { TargetServices } from "./services.js";

export function recordOnly<Spec>(): Provider<Spec, TargetServices> {
  return {
    stateOnly: true,
    async create() {
      return {};
    },
    async update() {
      return {};
    },
    async delete() {},
  };
}

/** A resource that moves to another module is another resource. */
export function replaceOnModuleChange(recorded: { spec: { module?: string } }, desired: { spec: { module?: string } }): "update" | "replace" {
  return recorded.spec.module !== desired.spec.module ? "replace" : "update";
}
