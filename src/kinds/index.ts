// The registry of resource kinds: one line per kind folder. Everything above the kinds layer (the
// plan, apply, config compilation, operations) reaches a kind only through this list.
import type { ChangeKind, KindLookup, Provider } from "../engine/provider.js";
import type { DesiredResource, RecordedResource, ResourceKind } from "../resources.js";
import { appKind } from "./app/index.js";
import { artifactKind } from "./artifact/index.js";
import { computeKind } from "./compute/index.js";
import { endpointKind } from "./endpoint/index.js";
import { hookKind } from "./hook/index.js";
import { jobKind } from "./job/index.js";
import type { KindDefinition } from "./kind.js";
import { modelKind } from "./model/index.js";
import { moduleKind } from "./module/index.js";
import { permissionKind } from "./permission/index.js";
import { pipelineKind } from "./pipeline/index.js";
import { scheduleKind } from "./schedule/index.js";
import type { TargetServices } from "./services.js";
import type { KindSpecs } from "./specs.js";
import { settingKind } from "./setting/index.js";

/** In the order their sections appear in module.yaml's `resources:` and in compiled projects. */
export type { KindSpecs } from "./specs.js";

export const KINDS = [moduleKind, hookKind, settingKind, artifactKind, computeKind, modelKind, jobKind, endpointKind, appKind, scheduleKind, pipelineKind, permissionKind] as const;

const byKind = new Map<ResourceKind, KindDefinition>(KINDS.map((k) => [k.kind, k as KindDefinition]));

export function kindOf(kind: ResourceKind): KindDefinition {
  const definition = byKind.get(kind);
  if (!definition) throw new Error(`no kind "${kind}" is registered in src/kinds/index.ts`);
  return definition;
}

/** The kinds declared under `resources:` in module.yaml, in section order. */
export function sectionKinds(): KindDefinition[] {
  return KINDS.filter((k) => (k as KindDefinition).section) as KindDefinition[];
}

const update: ChangeKind = () => "update";

/** What the engine needs from the kinds (providers and the update-or-replace decision). */
export const kindLookup: KindLookup<TargetServices> = {
  provider: (kind) => kindOf(kind).provider as Provider<any, TargetServices>,
  changeKind: (kind) => (kindOf(kind).changeKind as ChangeKind | undefined) ?? update,
  removedAfter: (resource, deleting) => kindOf(resource.kind).removedAfter?.(resource, deleting) ?? [],
};

/** A resource's spec as its kind's type; the one place a stored spec is given its type. */
export function specOf<K extends ResourceKind>(resource: Pick<DesiredResource | RecordedResource, "kind" | "address" | "spec">, kind: K): KindSpecs[K] {
  if (resource.kind !== kind) throw new Error(`${resource.address} is a ${resource.kind}, not a ${kind}`);
  return resource.spec as unknown as KindSpecs[K];
}
