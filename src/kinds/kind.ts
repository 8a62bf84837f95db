// The one contract every resource kind implements (a folder under src/kinds/). The engine, config and
// operations know kinds only through this and the registry in index.ts. See src/kinds/README.md.
import type { z } from "zod";
import type { Provider } from "../engine/provider.js";
import type { Diagnostic, SourceLocation } from "../errors.js";
import type { LoadedModule, LoadedProject } from "../config/load.js";
import type { PathSegment } from "../config/yaml-source.js";
import type { DesiredResource, RecordedResource, ResourceKind, ResourceRuntime } from "../resources.js";
import type { TargetServices } from "./services.js";
import type { KindSpecs } from "./specs.js";

/** What a kind's compile step may read and where it reports problems. */
export interface CompileContext {
  project: LoadedProject;
  module: LoadedModule;
  /** The resource's name (its key in the section). */
  name: string;
  /** Where the block is in the module file, e.g. ["resources", "jobs", "train"]. */
  path: PathSegment[];
  /** The module's folder, environment and secrets. */
  runtime: ResourceRuntime;
  /** file:line:column of a part of the block. */
  at(sub?: PathSegment[], prefer?: "key" | "value"): SourceLocation;
  report(diagnostic: Diagnostic): void;
}

/** Another resource a spec names, and where in the block it is named (for the error if it is missing). */
export interface Reference {
  kind: ResourceKind;
  name: string;
  path: PathSegment[];
}

/** A resource as compiled, before its spec is hashed. */
export type CompiledResource<Spec = Record<string, unknown>> = Omit<DesiredResource<Spec>, "specHash">;

/** Every compiled resource of the project by address, for checks that need more than one resource. */
export interface ProjectIndex {
  get(address: string): CompiledResource | undefined;
  ofKind<K extends ResourceKind>(kind: K): Array<CompiledResource<KindSpecs[K]>>;
}

export interface KindDefinition<Spec = any, Block = any> {
  readonly kind: ResourceKind;
  /**
   * The key under `resources:` in module.yaml where users declare this kind (jobs, endpoints, …), with
   * the block's schema. Kinds without a section (module, hook, setting, permission) are compiled from
   * the module file itself by src/kinds/compile-project.ts.
   */
  readonly section?: { key: string; schema: z.ZodType<Block>; description?: string };
  /** `permissions:` on the block (plus the project's) become a `permission.<kind>.<name>` resource. */
  readonly permissioned?: boolean;
  /** Block -> the typed, fully defaulted spec; problems go to cx.report. */
  compile?(block: Block, cx: CompileContext): Spec;
  /** Resources the spec names; each becomes a dependency, or an error if it does not exist. */
  references?(spec: Spec): Reference[];
  /** Checks and enrichments that need the whole project, after every resource is compiled. */
  link?(resource: CompiledResource<Spec>, project: ProjectIndex, report: (d: Diagnostic) => void, at: (sub: PathSegment[]) => SourceLocation): void;
  readonly provider: Provider<Spec, TargetServices>;
  /**
   * Deletes only: the resources being deleted that this one is removed after although it depends on
   * them (the module marker outlasts its module, settings outlast its hooks). Default: none.
   */
  readonly removedAfter?: (resource: RecordedResource<Spec>, deleting: readonly RecordedResource[]) => string[];
  /** Update in place or replace; the default is update. */
  readonly changeKind?: (recorded: RecordedResource<Spec>, desired: DesiredResource<Spec>) => "update" | "replace";
}

/** Declares a kind with its spec type checked against its provider and compile step. */
export function defineKind<Spec, Block = unknown>(definition: KindDefinition<Spec, Block>): KindDefinition<Spec, Block> {
  return definition;
}
