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
import { findCycle } from "../util/graph.js";
import { hashValue } from "../util/hash.js";
import { didYouMean } from "../util/suggest.js";
import { compileHook } from "./hook/compile.js";
import { kindOf, sectionKinds } from "./index.js";
import type { CompileContext, ProjectIndex } from "./kind.js";
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

type Builder = Omit<DesiredResource, "specHash">;

/** `earlier` holds problems found while loading; all are thrown together after compiling. */
export function compileProject(project: LoadedProject<ModuleFile>, earlier: Diagnostic[] = []): CompiledProject {
  const diagnostics: Diagnostic[] = earlier;
  const report = (d: Diagnostic) => diagnostics.push(d);
  const resources: Builder[] = [];
  const byAddress = new Map<string, { resource: Builder; module: LoadedModule<ModuleFile>; path: PathSegment[] }>();
  const moduleNames = project.modules.map((m) => m.name);
  const moduleDeps = new Map<string, string[]>();
  const locate = (m: LoadedModule, path: PathSegment[], prefer: "key" | "value" = "value"): SourceLocation => m.sourceMap.locate(path, prefer);

  for (const m of project.modules) {
    const deps = m.config.depends_on ?? [];
    deps.forEach((dep, i) => {
      if (!moduleNames.includes(dep)) {
        report({ location: locate(m, ["depends_on", i]), message: `module "${m.name}" depends on unknown module "${dep}"`, hint: didYouMean(dep, moduleNames) ?? `modules in this project: ${moduleNames.join(", ")}` });
      }
    });
    moduleDeps.set(m.name, deps.filter((d) => moduleNames.includes(d)));
  }
  reportModuleCycles(project.modules, moduleDeps, diagnostics);

  const add = (m: LoadedModule<ModuleFile>, r: Builder, keyPath: PathSegment[]): void => {
    const twin = byAddress.get(r.address);
    if (twin) {
      report({ location: locate(m, keyPath, "key"), message: `${r.address} is declared twice (also in ${twin.resource.location?.file}:${twin.resource.location?.line})`, hint: `${r.kind} names are unique in a project; rename one` });
      return;
    }
    byAddress.set(r.address, { resource: r, module: m, path: keyPath });
    resources.push(r);
  };

  for (const m of project.modules) {
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
      report,
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
    add(m, marker, ["module"]);
    const inModule: Builder[] = [];
    const own = (r: Builder) => {
      r.dependsOn.push(...depMarkers);
      if (r.phase > phase) r.dependsOn.push(marker.address);
      inModule.push(r);
    };

    // Declared resources, kind by kind in registry order.
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
        own(r);
        add(m, r, path);
        const grants = [...project.permissions, ...((block.permissions as Permission[] | undefined) ?? [])];
        if (kind.permissioned && grants.length > 0) {
          const p: Builder = {
            address: address("permission", kind.kind, name),
            kind: "permission",
            name: `${kind.kind}.${name}`,
            module: m.name,
            phase: r.phase,
            spec: { resource: r.address, grants },
            dependsOn: [r.address],
            location: r.location,
          };
          own(p);
          add(m, p, path);
        }
      }
    }

    // Hooks, in declared order, after the module's declared resources.
    const plain = [...inModule];
    let previousHook: Builder | undefined;
    const hooks: Builder[] = [];
    (m.config.hooks ?? []).forEach((hook, i) => {
      const path = ["hooks", i];
      const { spec, assets } = compileHook(hook, context(hook.name, path));
      const hookPhase = hook.phase ?? phase;
      const r: Builder = {
        address: address("hook", m.name, hook.name),
        kind: "hook",
        name: hook.name,
        module: m.name,
        phase: hookPhase,
        spec,
        dependsOn: plain.filter((p) => p.phase <= hookPhase).map((p) => p.address),
        location: locate(m, path),
        assets,
        runtime,
      };
      if (previousHook) r.dependsOn.push(previousHook.address);
      previousHook = r;
      hooks.push(r);
      own(r);
      add(m, r, path);
    });

    // Settings: written once the module's hooks have succeeded; removed after its destroy hooks (the
    // setting kind's removedAfter), and the marker after everything (the module kind's).
    const lastHook = [...hooks].reverse().find((h) => h.phase <= phase);
    for (const [key, value] of Object.entries(m.config.settings ?? {})) {
      const r: Builder = {
        address: address("setting", m.name, key),
        kind: "setting",
        name: key,
        module: m.name,
        phase,
        spec: { module: m.name, key, value: String(value) },
        dependsOn: lastHook ? [lastHook.address] : [],
        location: locate(m, ["settings", key], "key"),
      };
      own(r);
      add(m, r, ["settings", key]);
    }
    for (const r of inModule) if (r.phase <= phase) marker.dependsOn.push(r.address);
  }

  // References between resources: each is a dependency, or an error naming the nearest one.
  for (const { resource: r, module: m, path } of byAddress.values()) {
    for (const ref of kindOf(r.kind).references?.(r.spec) ?? []) {
      const target = address(ref.kind, ref.name);
      if (byAddress.has(target)) {
        r.dependsOn.push(target);
        continue;
      }
      const candidates = [...byAddress.values()].filter((x) => x.resource.kind === ref.kind).map((x) => x.resource.name);
      const section = kindOf(ref.kind).section?.key ?? `${ref.kind}s`;
      report({
        location: locate(m, [...path, ...ref.path]),
        message: `${r.address} refers to unknown ${target}`,
        hint: didYouMean(ref.name, candidates) ?? (candidates.length ? `known: ${candidates.slice(0, 10).join(", ")}` : `declare it under resources.${section}`),
      });
    }
  }

  // Checks that need the whole project.
  const index: ProjectIndex = {
    get: (a) => byAddress.get(a)?.resource as DesiredResource | undefined,
    ofKind: <K extends ResourceKind>(kind: K) => resources.filter((r) => r.kind === kind) as unknown as Array<DesiredResource<KindSpecs[K]>>,
  };
  for (const { resource: r, module: m, path } of byAddress.values()) {
    kindOf(r.kind).link?.(r as DesiredResource, index, report, (sub) => locate(m, [...path, ...sub]));
  }

  // A resource may not depend on one that deploys in a later phase.
  for (const { resource: r, module: m } of byAddress.values()) {
    for (const dep of r.dependsOn) {
      const d = byAddress.get(dep)?.resource;
      if (d && d.phase > r.phase) {
        report({ location: r.location ?? locate(m, []), message: `${r.address} (phase ${r.phase}) depends on ${d.address} (phase ${d.phase}), which deploys later`, hint: `raise ${r.address}'s phase to ${d.phase} or lower ${d.address}'s` });
      }
    }
  }

  if (diagnostics.length) throw new InvalidInputError(dedupe(diagnostics));
  // A spec that carries a secret is marked sensitive: plans and listings mask its values on both sides.
  const secrets = new Set(project.secretValues);
  for (const r of resources) for (const s of r.runtime?.secrets ?? []) secrets.add(s);
  const secretList = [...secrets];
  const finished: DesiredResource[] = resources.map((r) => {
    const spec = secretList.length && containsAny(JSON.stringify(r.spec), secretList) ? { ...r.spec, sensitive: true } : r.spec;
    return { ...r, spec, dependsOn: [...new Set(r.dependsOn)], specHash: hashValue(spec) };
  });
  return { project, resources: finished, moduleDeps, secrets: secretList };
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
export function findResource(compiled: CompiledProject, kind: ResourceKind, name: string, what: { noun: string; plural: string; code: string }): DesiredResource {
  const all = compiled.resources.filter((r) => r.kind === kind);
  const found = all.find((r) => r.name === name);
  if (found) return found;
  const names = all.map((r) => r.name);
  throw new InvalidInputError(
    [{ message: `no ${what.noun} "${name}" in ${compiled.project.name}`, hint: didYouMean(name, names) ?? (names.length ? `${what.plural}: ${names.join(", ")}` : `declare one under resources.${kindOf(kind).section?.key ?? kind} in a module.yaml`) }],
    what.code,
  );
}
