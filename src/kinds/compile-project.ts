// Compiles a loaded project into the desired resource graph: addresses, phases, typed specs and
// dependencies. The structure (modules, their markers, hooks in order, settings, phases, permissions)
// is here; everything about one kind is in its folder and reached through the registry. Every
// problem (unknown module or resource, cycles, phase order, a kind's own checks) is reported together.
import type { LoadedModule, LoadedProject } from "../config/load.js";
import { dedupe } from "../config/load.js";
import type { Permission } from "../config/schema.js";
import type { PathSegment } from "../config/yaml-source.js";
import { InvalidInputError, type Diagnostic, type SourceLocation } from "../errors.js";
import { address, type DesiredResource, type ResourceKind, type ResourceRuntime } from "../resources.js";
import { relative } from "node:path";
import { moduleEnvironment } from "../config/env-files.js";
import { reportResourceCycle } from "../config/resource-graph.js";
import { findCycle } from "../util/graph.js";
import { hashValue } from "../util/hash.js";
import { didYouMean } from "../util/suggest.js";
import { compileHook } from "./hook/compile.js";
import { kindOf, sectionKinds, specOf } from "./index.js";
import type { CompiledResource, CompileContext, ProjectIndex } from "./kind.js";
import type { KindSpecs } from "./specs.js";
import type { ModuleFile } from "./module-file.js";

export interface CompiledProject {
  project: LoadedProject<ModuleFile>;
  resources: DesiredResource[];
  /** Module name -> names of the modules it depends on. */
  moduleDeps: Map<string, string[]>;
  /** Values never to print: secret variables and secret-looking env-file values. */
  secrets: string[];
}

type Builder = CompiledResource;
type Module = LoadedModule<ModuleFile>;
interface Entry {
  resource: Builder;
  module: Module;
  /** Where the resource is declared in its module file. */
  path: PathSegment[];
}

const locate = (m: LoadedModule, path: PathSegment[], prefer: "key" | "value" = "value"): SourceLocation => m.sourceMap.locate(path, prefer);

/** `earlier` holds problems found while loading; all are thrown together after compiling. */
export function compileProject(project: LoadedProject<ModuleFile>, earlier: Diagnostic[] = []): CompiledProject {
  const c = new ProjectCompiler(project, earlier);
  const moduleDeps = c.moduleGraph();
  for (const m of project.modules) c.module(m, moduleDeps);
  c.references();
  c.links();
  // A cycle across modules (phase problems make cycles too: those are reported instead).
  if (!c.phaseOrder()) c.resourceCycles();
  return c.finish(moduleDeps);
}

/** Collects resources and problems while compiling one project; each step is a method, in order. */
class ProjectCompiler {
  private readonly resources: Builder[] = [];
  private readonly byAddress = new Map<string, Entry>();
  private readonly report = (d: Diagnostic) => this.diagnostics.push(d);

  constructor(
    private readonly project: LoadedProject<ModuleFile>,
    private readonly diagnostics: Diagnostic[],
  ) {}

  /** Module name -> the modules it depends on (unknown ones reported and left out; a cycle reported and broken). */
  moduleGraph(): Map<string, string[]> {
    const moduleNames = this.project.modules.map((m) => m.name);
    const moduleDeps = new Map<string, string[]>();
    for (const m of this.project.modules) {
      const deps = m.config.depends_on ?? [];
      deps.forEach((dep, i) => {
        if (!moduleNames.includes(dep)) {
          this.report({ location: locate(m, ["depends_on", i]), message: `module "${m.name}" depends on unknown module "${dep}"`, hint: didYouMean(dep, moduleNames) ?? `modules in this project: ${moduleNames.join(", ")}` });
        }
      });
      moduleDeps.set(m.name, deps.filter((d) => moduleNames.includes(d)));
    }
    reportModuleCycles(this.project.modules, moduleDeps, this.diagnostics);
    return moduleDeps;
  }

  private add(m: Module, r: Builder, keyPath: PathSegment[]): void {
    const twin = this.byAddress.get(r.address);
    if (twin) {
      this.report({ location: locate(m, keyPath, "key"), message: `${r.address} is declared twice (also in ${twin.resource.location?.file}:${twin.resource.location?.line})`, hint: `${r.kind} names are unique in a project; rename one` });
      return;
    }
    this.byAddress.set(r.address, { resource: r, module: m, path: keyPath });
    this.resources.push(r);
  }

  /**
   * One module: its marker, its declared resources (kind by kind, in registry order, each with its
   * permission resource), its hooks in declared order after them, its settings after the hooks.
   */
  module(m: Module, moduleDeps: Map<string, string[]>): void {
    const { project } = this;
    const phase = m.config.phase ?? 0;
    const depMarkers = (moduleDeps.get(m.name) ?? []).map((d) => address("module", d));
    const env = moduleEnvironment(project, m.name, m.dir);
    const runtime: ResourceRuntime = { cwd: m.dir, env: env.vars, secrets: env.secrets };
    const context = (name: string, path: PathSegment[]): CompileContext => ({
      project,
      module: m,
      name,
      path,
      runtime,
      at: (sub = [], prefer = "value") => locate(m, [...path, ...sub], prefer),
      report: this.report,
    });
    const marker: Builder = {
      address: address("module", m.name),
      kind: "module",
      name: m.name,
      module: m.name,
      phase,
      spec: { dir: relativeDir(project.dir, m.dir), depends_on: moduleDeps.get(m.name) ?? [] },
      dependsOn: [...depMarkers],
      location: locate(m, ["module"]),
    };
    this.add(m, marker, ["module"]);
    const inModule: Builder[] = [];
    const own = (r: Builder, path: PathSegment[]) => {
      r.dependsOn.push(...depMarkers);
      if (r.phase > phase) r.dependsOn.push(marker.address);
      inModule.push(r);
      this.add(m, r, path);
    };

    // Declared resources.
    const sections = (m.config.resources ?? {}) as Record<string, Record<string, Record<string, unknown>> | undefined>;
    for (const kind of sectionKinds()) {
      for (const [name, block] of Object.entries(sections[kind.section!.key] ?? {})) {
        const path = ["resources", kind.section!.key, name];
        const spec = kind.compile ? kind.compile(block, context(name, path)) : { module: m.name, ...block };
        const r: Builder = {
          address: address(kind.kind, name),
          kind: kind.kind,
          name,
          module: m.name,
          phase: typeof block.phase === "number" ? block.phase : phase,
          spec,
          dependsOn: [],
          location: locate(m, path, "key"),
          runtime,
        };
        own(r, path);
        const grants = [...project.permissions, ...((block.permissions as Permission[] | undefined) ?? [])];
        if (kind.permissioned && grants.length > 0) {
          own({ address: address("permission", kind.kind, name), kind: "permission", name: `${kind.kind}.${name}`, module: m.name, phase: r.phase, spec: { resource: r.address, grants }, dependsOn: [r.address], location: r.location }, path);
        }
      }
    }

    // Hooks, in declared order, after the module's declared resources.
    const plain = [...inModule];
    const hooks: Builder[] = [];
    (m.config.hooks ?? []).forEach((hook, i) => {
      const path = ["hooks", i];
      const { spec, assets } = compileHook(hook, context(hook.name, path));
      const hookPhase = hook.phase ?? phase;
      const previous = hooks.at(-1);
      const r: Builder = {
        address: address("hook", m.name, hook.name),
        kind: "hook",
        name: hook.name,
        module: m.name,
        phase: hookPhase,
        spec,
        dependsOn: [...plain.filter((p) => p.phase <= hookPhase).map((p) => p.address), ...(previous ? [previous.address] : [])],
        location: locate(m, path),
        assets,
        runtime,
      };
      hooks.push(r);
      own(r, path);
    });

    // Settings: written once the module's hooks have succeeded; removed after its destroy hooks (the
    // setting kind's removedAfter), and the marker after everything (the module kind's).
    const lastHook = [...hooks].reverse().find((h) => h.phase <= phase);
    for (const [key, value] of Object.entries(m.config.settings ?? {})) {
      own(
        { address: address("setting", m.name, key), kind: "setting", name: key, module: m.name, phase, spec: { module: m.name, key, value: String(value) }, dependsOn: lastHook ? [lastHook.address] : [], location: locate(m, ["settings", key], "key") },
        ["settings", key],
      );
    }
    for (const r of inModule) if (r.phase <= phase) marker.dependsOn.push(r.address);
  }

  /** References between resources: each is a dependency, or an error naming the nearest existing one. */
  references(): void {
    for (const { resource: r, module: m, path } of this.byAddress.values()) {
      for (const ref of kindOf(r.kind).references?.(r.spec) ?? []) {
        const target = address(ref.kind, ref.name);
        if (this.byAddress.has(target)) {
          r.dependsOn.push(target);
          continue;
        }
        const candidates = this.resources.filter((x) => x.kind === ref.kind).map((x) => x.name);
        const section = kindOf(ref.kind).section?.key ?? `${ref.kind}s`;
        this.report({
          location: locate(m, [...path, ...ref.path]),
          message: `${r.address} refers to unknown ${target}`,
          hint: didYouMean(ref.name, candidates) ?? (candidates.length ? `known: ${candidates.slice(0, 10).join(", ")}` : `declare it under resources.${section}`),
        });
      }
    }
  }

  /** Each kind's checks that need the whole project. */
  links(): void {
    const index: ProjectIndex = {
      get: (a) => this.byAddress.get(a)?.resource,
      ofKind: <K extends ResourceKind>(kind: K) => this.resources.filter((r) => r.kind === kind).map((r) => ({ ...r, spec: specOf(r, kind) })),
    };
    for (const { resource: r, module: m, path } of this.byAddress.values()) {
      kindOf(r.kind).link?.(r, index, this.report, (sub) => locate(m, [...path, ...sub]));
    }
  }

  /** A cycle through references and module dependencies together (each alone was checked where declared). */
  resourceCycles(): void {
    reportResourceCycle(this.resources, this.diagnostics);
  }

  /** A resource may not depend on one that deploys in a later phase. Returns whether anything was reported. */
  phaseOrder(): boolean {
    const before = this.diagnostics.length;
    for (const { resource: r, module: m } of this.byAddress.values()) {
      for (const dep of r.dependsOn) {
        const d = this.byAddress.get(dep)?.resource;
        if (d && d.phase > r.phase) {
          this.report({ location: r.location ?? locate(m, []), message: `${r.address} (phase ${r.phase}) depends on ${d.address} (phase ${d.phase}), which deploys later`, hint: `raise ${r.address}'s phase to ${d.phase} or lower ${d.address}'s` });
        }
      }
    }
    return this.diagnostics.length > before;
  }

  /** Throws every problem at once, or hashes the specs (marking those that carry a secret as sensitive). */
  finish(moduleDeps: Map<string, string[]>): CompiledProject {
    if (this.diagnostics.length) throw new InvalidInputError(dedupe(this.diagnostics));
    // A spec that carries a secret is marked sensitive: plans and listings mask its values on both sides.
    const secrets = new Set(this.project.secretValues);
    for (const r of this.resources) for (const s of r.runtime?.secrets ?? []) secrets.add(s);
    const secretList = [...secrets];
    const resources: DesiredResource[] = this.resources.map((r) => {
      const spec = secretList.length && containsAny(JSON.stringify(r.spec), secretList) ? { ...r.spec, sensitive: true } : r.spec;
      return { ...r, spec, dependsOn: [...new Set(r.dependsOn)], specHash: hashValue(spec) };
    });
    return { project: this.project, resources, moduleDeps, secrets: secretList };
  }
}

/** The compiled project's resources of one kind, typed as that kind. */
export function resourcesOfKind<K extends ResourceKind>(compiled: CompiledProject, kind: K): Array<DesiredResource<KindSpecs[K]>> {
  return compiled.resources.filter((r) => r.kind === kind).map((r) => ({ ...r, spec: specOf(r, kind) }));
}

function relativeDir(projectDir: string, dir: string): string {
  return relative(projectDir, dir) || ".";
}

function containsAny(text: string, values: readonly string[]): boolean {
  return values.some((v) => v.length > 0 && text.includes(JSON.stringify(v).slice(1, -1)));
}

function reportModuleCycles(modules: LoadedModule[], deps: Map<string, string[]>, diagnostics: Diagnostic[]): void {
  const cycle = findCycle(modules.map((m) => m.name), (n) => deps.get(n) ?? []);
  if (!cycle) return;
  const first = modules.find((m) => m.name === cycle[0])!;
  diagnostics.push({ location: first.sourceMap.locate(["depends_on"], "key"), message: `modules depend on each other in a cycle: ${cycle.join(" -> ")}`, hint: "remove one of these depends_on entries" });
  // Break the cycle so later checks do not loop on it.
  deps.set(cycle[0]!, (deps.get(cycle[0]!) ?? []).filter((d) => d !== cycle[1]));
}

/**
 * A declared resource by kind and name, or invalid input naming the nearest one (`what` is how users
 * call the kind, `code` the error code).
 */
export function findResource<K extends ResourceKind>(compiled: CompiledProject, kind: K, name: string, what: { noun: string; plural: string; code: NonNullable<ConstructorParameters<typeof InvalidInputError>[1]> }): DesiredResource<KindSpecs[K]> {
  const all = resourcesOfKind(compiled, kind);
  const found = all.find((r) => r.name === name);
  if (found) return found;
  const names = all.map((r) => r.name);
  throw new InvalidInputError(
    [{ message: `no ${what.noun} "${name}" in ${compiled.project.name}`, hint: didYouMean(name, names) ?? (names.length ? `${what.plural}: ${names.join(", ")}` : `declare one under resources.${kindOf(kind).section?.key ?? kind} in a module.yaml`) }],
    what.code,
  );
}
