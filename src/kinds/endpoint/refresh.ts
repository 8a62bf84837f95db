// Endpoints that serve a model by alias follow the alias: before planning, each such served entry
// gets the version its alias points at now, so moving `champion` shows up in the plan as an update
// of the endpoint (and deploy rolls it out). An alias that does not exist yet is left unresolved;
// applying the endpoint then fails with a message naming the job that registers the model.
import type { DesiredResource } from "../../resources.js";
import type { ModelStore } from "../../store/state/model-store.js";
import { hashValue } from "../../util/hash.js";
import { specOf } from "../index.js";

export async function resolveServedAliases(resources: DesiredResource[], models: ModelStore): Promise<void> {
  const endpoints = resources.filter((r) => r.kind === "endpoint");
  if (endpoints.length === 0) return;
  const aliases = await models.aliases();
  for (const r of endpoints) {
    let changed = false;
    for (const s of specOf(r, "endpoint").served) {
      if (s.alias === undefined) continue;
      const hit = aliases.find((a) => a.model === s.model && a.alias === s.alias);
      if (hit && s.resolved_version !== hit.version) {
        s.resolved_version = hit.version;
        changed = true;
      }
    }
    if (changed) r.specHash = hashValue(r.spec);
  }
}
