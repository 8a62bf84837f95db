// Compiles a loaded project into the desired resource graph: addresses, phases, specs, dependencies.
// Every cross-reference problem (unknown module or model, cycles, phase order, names) is reported here.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { CronExpressionParser } from "cron-parser";
import { InvalidInputError, type Diagnostic, type SourceLocation } from "../errors.js";
import { address, type DesiredResource, type ResourceKind, type ResourceRuntime } from "../engine/resource.js";
import { hashValue, sha256 } from "../util/hash.js";
import { article, didYouMean } from "../util/suggest.js";
import { moduleEnvironment } from "./env-files.js";
import { dedupe, type LoadedModule, type LoadedProject } from "./load.js";
import { ENDPOINT_NAME, LIBRARY, type Permission } from "./schema.js";
import { reportResourceCycle } from "./resource-graph.js";
import { checkResourcePaths, refuseOutside } from "./safe-paths.js";
import type { PathSegment } from "./yaml-source.js";

export interface CompiledProject {
  project: LoadedProject;
  resources: DesiredResource[];
  /** Module name -> names of the modules it depends on. */
  moduleDeps: Map<string, string[]>;
  /** Values never to print: secret variables and secret-looking env-file values. */
  secrets: string[];
}

type Builder = Omit<DesiredResource, "specHash">;

const RESOURCE_SECTIONS: Array<[section: string, kind: ResourceKind]> = [
  ["artifacts", "artifact"],
  ["compute", "compute"],
  ["models", "model"],
  ["jobs", "job"],
  ["endpoints", "endpoint"],
  ["schedules", "schedule"],
  ["pipelines", "pipeline"],
];
const PERMISSIONED: ReadonlySet<ResourceKind> = new Set(["job", "model", "endpoint", "pipeline"]);

/** `earlier` holds problems found while loading; all are thrown together after compiling. */
export function compileProject(project: LoadedProject, earlier: Diagnostic[] = []): CompiledProject {
  const diagnostics: Diagnostic[] = earlier;
  const resources: Builder[] = [];
  const byAddress = new Map<string, { resource: Builder; module: LoadedModule }>();
  const moduleNames = project.modules.map((m) => m.name);
  const moduleDeps = new Map<string, string[]>();
  const modulePhase = new Map<string, number>();
  const locate = (m: LoadedModule, path: PathSegment[], prefer: "key" | "value" = "value"): SourceLocation => m.sourceMap.locate(path, prefer);

  for (const m of project.modules) {
    modulePhase.set(m.name, m.config.phase ?? 0);
    const deps = m.config.depends_on ?? [];
    deps.forEach((dep, i) => {
      if (!moduleNames.includes(dep)) {
        diagnostics.push({ location: locate(m, ["depends_on", i]), message: `module "${m.name}" depends on unknown module "${dep}"`, hint: didYouMean(dep, moduleNames) ?? `modules in this project: ${moduleNames.join(", ")}` });
      }
    });
    moduleDeps.set(m.name, deps.filter((d) => moduleNames.includes(d)));
  }
  reportModuleCycles(project.modules, moduleDeps, diagnostics);

  const add = (m: LoadedModule, r: Builder, keyPath: PathSegment[]): void => {
    const twin = byAddress.get(r.address);
    if (twin) {
      diagnostics.push({ location: locate(m, keyPath, "key"), message: `${r.address} is declared twice (also in ${twin.resource.location?.file}:${twin.resource.location?.line})`, hint: `${r.kind} names are unique in a project; rename one` });
      return;
    }
    byAddress.set(r.address, { resource: r, module: m });
    resources.push(r);
  };

  for (const m of project.modules) {
    const phase = modulePhase.get(m.name)!;
    const depMarkers = (moduleDeps.get(m.name) ?? []).map((d) => address("module", d));
    const env = moduleEnvironment(project, m.name, m.dir);
    const runtime: ResourceRuntime = { cwd: m.dir, env: env.vars, secrets: env.secrets };
    const rel = (p: string) => relative(project.dir, p) || ".";
    const marker: Builder = {
      address: address("module", m.name),
      kind: "module",
      name: m.name,
      module: m.name,
      phase,
      spec: { dir: rel(m.dir), depends_on: moduleDeps.get(m.name) ?? [] },
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

    // Declared resources.
    const sections = (m.config.resources ?? {}) as Record<string, Record<string, Record<string, unknown>> | undefined>;
    for (const [section, kind] of RESOURCE_SECTIONS) {
      for (const [name, block] of Object.entries(sections[section] ?? {})) {
        const path = ["resources", section, name];
        const { permissions, ...spec } = block as Record<string, unknown> & { permissions?: Permission[]; phase?: number };
        const r: Builder = {
          address: address(kind, name),
          kind,
          name,
          module: m.name,
          phase: typeof spec.phase === "number" ? spec.phase : phase,
          spec: { module: m.name, ...spec },
          dependsOn: [],
          location: locate(m, path, "key"),
          runtime,
        };
        delete r.spec.phase;
        checkResource(project, m, kind, name, block, path, diagnostics);
        own(r);
        add(m, r, path);
        const grants = [...project.permissions, ...(permissions ?? [])];
        if (kind === "endpoint") {
          // The server enforces access itself, and a target's TTL applies to its endpoints.
          r.spec.access = grants;
          if (project.target.config.ttl) r.spec.ttl = project.target.config.ttl;
        }
        if (PERMISSIONED.has(kind) && grants.length > 0) {
          const p: Builder = {
            address: address("permission", kind, name),
            kind: "permission",
            name: `${kind}.${name}`,
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
      const assets: Record<string, string> = {};
      const script = (field: "deploy" | "destroy"): { path: string; sha256: string } | undefined => {
        const file = hook[field];
        if (!file) return undefined;
        if (refuseOutside(diagnostics, { root: project.dir, base: m.dir, path: file, location: locate(m, [...path, field]), what: `hook "${hook.name}": ${field} script`, relativeTo: "relative to module.yaml" })) return undefined;
        const full = join(m.dir, file);
        if (!existsSync(full) || !statSync(full).isFile()) {
          diagnostics.push({ location: locate(m, [...path, field]), message: `hook "${hook.name}": ${field} script "${file}" does not exist`, hint: `create ${rel(full)} or fix the path (relative to module.yaml)` });
          return undefined;
        }
        const content = readFileSync(full, "utf8");
        const hash = sha256(content);
        assets[hash] = content;
        return { path: file, sha256: hash };
      };
      const hookPhase = hook.phase ?? phase;
      const r: Builder = {
        address: address("hook", m.name, hook.name),
        kind: "hook",
        name: hook.name,
        module: m.name,
        phase: hookPhase,
        spec: { module: m.name, dir: rel(m.dir), deploy: script("deploy"), destroy: script("destroy"), env_sha256: hashValue(env.vars) },
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

    // Settings: written once the module's hooks have succeeded, removed first on destroy.
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

  // References between resources.
  for (const { resource: r, module: m } of byAddress.values()) {
    const refs = references(r);
    for (const ref of refs) {
      if (byAddress.has(ref.address)) {
        r.dependsOn.push(ref.address);
      } else {
        const candidates = [...byAddress.keys()].filter((a) => a.startsWith(`${ref.address.split(".")[0]}.`)).map((a) => a.split(".").slice(1).join("."));
        diagnostics.push({ location: locate(m, ref.path), message: `${r.address} refers to unknown ${ref.address}`, hint: didYouMean(ref.address.split(".").slice(1).join("."), candidates) ?? (candidates.length ? `known: ${candidates.slice(0, 10).join(", ")}` : `declare it under resources.${SECTION_OF.get(ref.address.split(".")[0] as ResourceKind) ?? `${ref.address.split(".")[0]}s`}`) });
      }
    }
  }

  // An endpoint's error for a missing model version names the jobs that register that model.
  for (const { resource: r } of byAddress.values()) {
    if (r.kind !== "endpoint") continue;
    for (const s of r.spec.served as Array<{ model: string; registered_by?: string[] }>) {
      s.registered_by = resources.filter((j) => j.kind === "job" && (j.spec.registers as { model?: string } | undefined)?.model === s.model).map((j) => j.name);
    }
  }

  // Only wheels can be installed into a compute environment.
  for (const { resource: r, module: m } of byAddress.values()) {
    if (r.kind !== "compute") continue;
    ((r.spec.libraries ?? []) as string[]).forEach((lib, i) => {
      const artifact = byAddress.get(address("artifact", LIBRARY.exec(lib)?.[1] ?? ""))?.resource;
      if (artifact && artifact.spec.type !== "python_wheel") {
        diagnostics.push({ location: locate(m, ["resources", "compute", r.name, "libraries", i]), message: `compute.${r.name}: ${artifact.name} is ${article(String(artifact.spec.type))} artifact; only python_wheel artifacts can be installed into a compute environment` });
      }
    });
  }

  const beforePhases = diagnostics.length;
  // A resource may not depend on one that deploys in a later phase.
  for (const { resource: r, module: m } of byAddress.values()) {
    for (const dep of r.dependsOn) {
      const d = byAddress.get(dep)?.resource;
      if (d && d.phase > r.phase) {
        diagnostics.push({ location: r.location ?? locate(m, []), message: `${r.address} (phase ${r.phase}) depends on ${d.address} (phase ${d.phase}), which deploys later`, hint: `raise ${r.address}'s phase to ${d.phase} or lower ${d.address}'s` });
      }
    }
  }

  // A cycle across modules (phase problems make cycles too: those are reported above instead).
  if (diagnostics.length === beforePhases) reportResourceCycle(resources, diagnostics);
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

function containsAny(text: string, values: readonly string[]): boolean {
  return values.some((v) => v.length > 0 && text.includes(JSON.stringify(v).slice(1, -1)));
}

interface Reference {
  address: string;
  path: PathSegment[];
}

const SECTION_OF = new Map(RESOURCE_SECTIONS.map(([section, kind]) => [kind, section]));

function references(r: Builder): Reference[] {
  const base = ["resources", SECTION_OF.get(r.kind) ?? `${r.kind}s`, r.name];
  const s = r.spec as Record<string, any>;
  switch (r.kind) {
    case "endpoint":
      return (s.served as Array<{ model: string }>).map((sv, i) => ({ address: address("model", sv.model), path: [...base, "served", i, "model"] }));
    case "schedule":
      return [{ address: address("job", s.job), path: [...base, "job"] }];
    case "job": {
      const refs: Reference[] = s.registers ? [{ address: address("model", s.registers.model), path: [...base, "registers", "model"] }] : [];
      if (s.compute?.environment) refs.push({ address: address("compute", s.compute.environment), path: [...base, "compute", "environment"] });
      return refs;
    }
    case "compute":
      return ((s.libraries ?? []) as string[]).flatMap((lib, i) => {
        const m = LIBRARY.exec(lib);
        return m ? [{ address: address("artifact", m[1]!), path: [...base, "libraries", i] }] : [];
      });
    case "pipeline":
      return (s.stages as Array<{ job?: string }>).flatMap((st, i) => (st.job ? [{ address: address("job", st.job), path: [...base, "stages", i, "job"] }] : []));
    default:
      return [];
  }
}

function checkResource(project: LoadedProject, m: LoadedModule, kind: ResourceKind, name: string, block: Record<string, any>, path: PathSegment[], diagnostics: Diagnostic[]): void {
  const at = (sub: PathSegment[] = [], prefer: "key" | "value" = "value") => m.sourceMap.locate([...path, ...sub], prefer);
  const pathsInside = checkResourcePaths(project.dir, m.dir, kind, name, block, at, diagnostics);
  if (kind === "endpoint") {
    if (name.length > 63 || !ENDPOINT_NAME.test(name)) {
      diagnostics.push({
        location: at([], "key"),
        message: `endpoint name "${name}" is invalid: ${name.length > 63 ? `${name.length} characters, at most 63 allowed` : "only lowercase letters, digits and '-' are allowed, starting and ending with a letter or digit"}`,
        hint: `try "${name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63)}"`,
      });
    }
    const served = block.served as Array<{ percent?: number }>;
    if (served.some((s) => s.percent !== undefined)) {
      const total = served.reduce((sum, s) => sum + (s.percent ?? 0), 0);
      if (Math.abs(total - 100) > 1e-9) diagnostics.push({ location: at(["served"]), message: `endpoint "${name}": served percentages add up to ${total}, not 100`, hint: "make the `percent` values sum to 100" });
    }
    if (block.replicas && block.replicas.min > block.replicas.max) diagnostics.push({ location: at(["replicas"]), message: `endpoint "${name}": replicas.min (${block.replicas.min}) is above replicas.max (${block.replicas.max})` });
  }
  if (kind === "schedule" || (kind === "pipeline" && block.triggers?.cron)) {
    const cron = kind === "schedule" ? block.cron : block.triggers.cron;
    const sub = kind === "schedule" ? ["cron"] : ["triggers", "cron"];
    if (cron.trim().split(/\s+/).length !== 5) {
      diagnostics.push({ location: at(sub), message: `cron "${cron}" must have five fields (minute hour day-of-month month day-of-week)`, hint: 'for example "0 2 * * *" for 02:00 every day' });
    } else {
      try {
        CronExpressionParser.parse(cron, block.timezone ? { tz: block.timezone } : {});
      } catch (e) {
        diagnostics.push({ location: at(sub), message: `cron "${cron}" is invalid: ${(e as Error).message}`, hint: 'for example "0 2 * * *" for 02:00 every day' });
      }
    }
  }
  if (kind === "job") {
    if (pathsInside && block.source && !existsSync(join(m.dir, block.source))) {
      diagnostics.push({ location: at(["source"]), message: `job "${name}": source folder "${block.source}" does not exist`, hint: "the path is relative to module.yaml" });
    }
    const tasks = (block.tasks ?? {}) as Record<string, { depends_on?: string[] }>;
    const taskNames = Object.keys(tasks);
    for (const [task, t] of Object.entries(tasks)) {
      (t.depends_on ?? []).forEach((dep, i) => {
        if (!taskNames.includes(dep)) diagnostics.push({ location: at(["tasks", task, "depends_on", i]), message: `task "${task}" of job "${name}" depends on unknown task "${dep}"`, hint: didYouMean(dep, taskNames) ?? `tasks: ${taskNames.join(", ")}` });
      });
    }
    const cycle = findCycle(taskNames, (t) => (tasks[t]?.depends_on ?? []).filter((d) => taskNames.includes(d)));
    if (cycle) diagnostics.push({ location: at(["tasks", cycle[0]!], "key"), message: `tasks of job "${name}" depend on each other in a cycle: ${cycle.join(" -> ")}`, hint: "remove one of these depends_on entries" });
  }
  if (kind === "artifact") {
    if (pathsInside && (!existsSync(join(m.dir, block.path)) || !statSync(join(m.dir, block.path)).isDirectory())) {
      diagnostics.push({ location: at(["path"]), message: `artifact "${name}": folder "${block.path}" does not exist`, hint: "the path is relative to module.yaml" });
    }
    if (block.version !== undefined && block.type !== "archive") {
      diagnostics.push({
        location: at(["version"], "key"),
        message: `artifact "${name}": ${article(String(block.type))} takes its version from its package metadata, not from \`version\``,
        hint: block.type === "npm" ? "set the version in package.json and remove `version` here" : "set the version in pyproject.toml (or setup.cfg / setup.py) and remove `version` here",
      });
    }
  }
  if (kind === "compute") {
    const seen = new Map<string, number>();
    ((block.libraries ?? []) as string[]).forEach((lib, i) => {
      const artifact = LIBRARY.exec(lib)?.[1];
      if (!artifact) return;
      if (seen.has(artifact)) diagnostics.push({ location: at(["libraries", i]), message: `compute "${name}" lists ${artifact} twice (libraries ${seen.get(artifact)} and ${i})`, hint: "an environment holds one version of each library" });
      seen.set(artifact, i);
    });
  }
  if (kind === "pipeline") {
    (block.stages as Array<{ target?: string }>).forEach((st, i) => {
      if (st.target && !project.targetNames.includes(st.target)) diagnostics.push({ location: at(["stages", i, "target"]), message: `pipeline "${name}": unknown target "${st.target}"`, hint: didYouMean(st.target, project.targetNames) ?? `targets: ${project.targetNames.join(", ")}` });
    });
  }
}

function reportModuleCycles(modules: LoadedModule[], deps: Map<string, string[]>, diagnostics: Diagnostic[]): void {
  const cycle = findCycle(modules.map((m) => m.name), (n) => deps.get(n) ?? []);
  if (!cycle) return;
  const first = modules.find((m) => m.name === cycle[0])!;
  diagnostics.push({ location: first.sourceMap.locate(["depends_on"], "key"), message: `modules depend on each other in a cycle: ${cycle.join(" -> ")}`, hint: "remove one of these depends_on entries" });
  // Break the cycle so later checks do not loop on it.
  deps.set(cycle[0]!, (deps.get(cycle[0]!) ?? []).filter((d) => d !== cycle[1]));
}

/** The first cycle found, as a path that starts and ends with the same node. */
export function findCycle(nodes: string[], edges: (n: string) => string[]): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const next of edges(n)) {
      if (state.get(next) === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of nodes) {
    if (!state.has(n)) {
      const found = visit(n);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * A declared resource by kind and name, or invalid input naming the nearest one (`what` is how users
 * call the kind, `section` where it is declared, `code` the error code).
 */
export function findResource(compiled: CompiledProject, kind: ResourceKind, name: string, what: { noun: string; plural: string; section: string; code: string }): DesiredResource {
  const all = compiled.resources.filter((r) => r.kind === kind);
  const found = all.find((r) => r.name === name);
  if (found) return found;
  const names = all.map((r) => r.name);
  throw new InvalidInputError(
    [{ message: `no ${what.noun} "${name}" in ${compiled.project.name}`, hint: didYouMean(name, names) ?? (names.length ? `${what.plural}: ${names.join(", ")}` : `declare one under resources.${what.section} in a module.yaml`) }],
    what.code,
  );
}
