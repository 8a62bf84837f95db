// Loads a project: slipway.yaml, its includes and the chosen target, with variables resolved and
// every string interpolated. All problems are collected and thrown together (exit code 2).
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { globSync } from "tinyglobby";
import { InvalidInputError, type Diagnostic, type SourceLocation } from "../errors.js";
import { didYouMean } from "../util/suggest.js";
import { validateAgainst } from "./diagnose.js";
import { interpolate, type InterpolationScope } from "./interpolate.js";
import { archiveConfigFor, type ArchiveConfig } from "../store/archives.js";
import type { z } from "zod";
import { projectFileSchema, type ModuleFileBase, type Permission, type TargetConfig } from "./schema.js";
import { refuseOutside } from "./safe-paths.js";
import { withHomeBackends, type HomeConfig } from "./home-config.js";
import { parseYamlWithPositions, projectFileProblem, readProjectFile, type SourceMap } from "./yaml-source.js";

export const PROJECT_FILE = "slipway.yaml";

export interface LoadOptions<M extends ModuleFileBase = ModuleFileBase> {
  /** The schema of module.yaml (assembled from the kinds, which live above this layer). */
  moduleSchema: z.ZodType<M>;
  /** The project folder (holding slipway.yaml). */
  dir: string;
  /** -t/--target; the target marked `default: true` when absent. */
  target?: string;
  /** --var NAME=value. */
  vars?: Record<string, string>;
  /** SLIPWAY_VAR_<NAME> values. */
  envVars?: Record<string, string>;
  /**
   * Where to collect problems that do not stop loading (schema, references). When given, the caller
   * throws after its own checks so every problem is reported at once; otherwise loadProject throws.
   */
  diagnostics?: Diagnostic[];
  user: string;
  env: Record<string, string | undefined>;
  /**
   * How messages show the project folder: files are shown relative to the current folder, or, when
   * this is given, under it (the server shows the caller's own path, e.g. "." or "../demo").
   */
  shownDir?: string;
  /** SLIPWAY_HOME/config.yaml's backends: the target's `state`, `blobs` and `executor` when it names none. */
  homeBackends?: HomeConfig;
}

export interface LoadedModule<M extends ModuleFileBase = ModuleFileBase> {
  name: string;
  file: string;
  dir: string;
  config: M;
  sourceMap: SourceMap;
}

export interface LoadedTarget {
  name: string;
  config: TargetConfig;
  mode: "development" | "production";
  protected: boolean;
}

export interface LoadedProject<M extends ModuleFileBase = ModuleFileBase> {
  dir: string;
  file: string;
  name: string;
  target: LoadedTarget;
  targetNames: string[];
  /** Every target's configuration as validated (values interpolated for the chosen target): pipelines read other targets' approval rules. */
  targetConfigs: Record<string, TargetConfig>;
  /** Resolved variable values, by name. */
  variables: Record<string, string>;
  /** Values never to print (secret variables). */
  secretValues: string[];
  permissions: Permission[];
  /** Archive stores configured for this target (project-level, overridden per target; with `blobs: { type: s3 }`, the other kinds in that bucket). */
  archives: ArchiveConfig;
  /** Retention work the server runs (project-level, overridden per target). */
  retention: { artifacts?: { every: string } };
  modules: LoadedModule<M>[];
  sourceMap: SourceMap;
}

export function loadProject<M extends ModuleFileBase>(options: LoadOptions<M>): LoadedProject<M> {
  const dir = resolve(options.dir);
  const file = join(dir, PROJECT_FILE);
  if (!existsSync(file)) {
    throw new InvalidInputError(
      [{ message: `no ${PROJECT_FILE} in ${dir}`, hint: "run slipway in a project folder, or pass --project DIR" }],
      "project_not_found",
    );
  }
  const show = (f: string) => (options.shownDir !== undefined ? join(options.shownDir, relative(dir, f)) : relative(process.cwd(), f) || f);
  const displayFile = show(file);
  const read = readProjectFile(file, displayFile);
  if ("problem" in read) throw new InvalidInputError([read.problem]);
  const text = read.text;
  const diagnostics: Diagnostic[] = options.diagnostics ?? [];

  // First pass, uninterpolated: the project name, the targets and the variables decide the scope.
  const raw = parseYamlWithPositions(text, displayFile);
  if (raw.diagnostics.length) throw new InvalidInputError(raw.diagnostics);
  const rawDoc = (raw.value ?? {}) as Record<string, unknown>;
  const rawTargets = isRecord(rawDoc.targets) ? rawDoc.targets : {};
  const targetNames = Object.keys(rawTargets);
  const targetName = chooseTarget(options.target, rawTargets, raw.sourceMap.locate(["targets"]));
  const projectName = typeof rawDoc.project === "string" ? rawDoc.project : "";

  const rawVariables = isRecord(rawDoc.variables) ? rawDoc.variables : {};
  const rawTargetVars = isRecord(rawTargets[targetName]) && isRecord((rawTargets[targetName] as Record<string, unknown>).variables)
    ? ((rawTargets[targetName] as Record<string, unknown>).variables as Record<string, unknown>)
    : {};
  const resolver = new VariableResolver(rawVariables, rawTargetVars, options.envVars ?? {}, options.vars ?? {}, raw.sourceMap, targetName, diagnostics);
  const scope: InterpolationScope = {
    project: projectName,
    target: targetName,
    user: options.user,
    variable: (n) => resolver.get(n),
    variableNames: () => Object.keys(rawVariables),
    env: options.env,
  };
  resolver.scope = scope;
  for (const name of Object.keys(options.vars ?? {})) {
    if (!Object.hasOwn(rawVariables, name)) {
      diagnostics.push({ message: `--var ${name}: no variable "${name}" is declared`, hint: didYouMean(name, Object.keys(rawVariables)) ?? "declare it under `variables:` in slipway.yaml" });
    }
  }
  const variables = resolver.all();

  // Second pass: interpolated and validated.
  const parsed = parseYamlWithPositions(text, displayFile, (s, loc) => interpolate(s, scope, loc, diagnostics));
  const project = validateAgainst(projectFileSchema, parsed.value, parsed.sourceMap, diagnostics).data;

  const modules: LoadedModule<M>[] = [];
  const includes = (project?.include ?? []) as string[];
  const seen = new Map<string, LoadedModule<M>>();
  const loadedFiles = new Set<string>();
  includes.forEach((pattern, index) => {
    const where = parsed.sourceMap.locate(["include", index]);
    if (refuseOutside(diagnostics, { root: dir, base: dir, path: pattern, location: where, what: "include", relativeTo: "relative to slipway.yaml" })) return;
    const matched = globSync(pattern, { cwd: dir, absolute: true, onlyFiles: true }).sort();
    const files = matched.filter((f) => !refuseOutside(diagnostics, { root: dir, base: dir, path: relative(dir, f), location: where, what: `include "${pattern}" matches`, relativeTo: "relative to slipway.yaml" }));
    if (matched.length === 0) {
      diagnostics.push({ location: where, message: `include "${pattern}" matches no file`, hint: "check the glob; it is relative to slipway.yaml" });
    }
    for (const moduleFile of files) {
      // One file reached twice (overlapping patterns, a link inside the project) is one module.
      const real = realpathSync(moduleFile);
      if (loadedFiles.has(real)) continue;
      loadedFiles.add(real);
      const loaded = loadModule(moduleFile, show(moduleFile), options.moduleSchema, scope, diagnostics);
      if (!loaded) continue;
      const twin = seen.get(loaded.name);
      if (twin) {
        diagnostics.push({ location: loaded.sourceMap.locate(["module"]), message: `module "${loaded.name}" is declared twice (also in ${twin.sourceMap.file})`, hint: "give each module a unique name" });
        continue;
      }
      seen.set(loaded.name, loaded);
      modules.push(loaded);
    }
  });

  const declared = project?.targets[targetName];
  const target = declared && withHomeBackends(declared, options.homeBackends ?? {});
  if (target?.env_files) {
    target.env_files.forEach((envFile, i) => {
      const location = parsed.sourceMap.locate(["targets", targetName, "env_files", i]);
      if (refuseOutside(diagnostics, { root: dir, base: dir, path: envFile, location, what: "env file", relativeTo: "relative to slipway.yaml" })) return;
      if (existsSync(join(dir, envFile))) {
        const problem = projectFileProblem(join(dir, envFile), show(join(dir, envFile)));
        if (problem) diagnostics.push(problem);
      } else {
        diagnostics.push({ location, message: `env file "${envFile}" does not exist`, hint: `create ${envFile} next to slipway.yaml or remove it from env_files` });
      }
    });
  }
  // The env files read without being named follow the same rule: no symbolic link out of the project.
  for (const implicit of [join(dir, "application.env"), ...modules.map((m) => join(m.dir, "module.env"))]) {
    if (!existsSync(implicit)) continue;
    const shown = show(implicit);
    if (refuseOutside(diagnostics, { root: dir, base: dir, path: relative(dir, implicit), location: { file: shown, line: 1, column: 1 }, what: "env file", relativeTo: "relative to the project" })) continue;
    const problem = projectFileProblem(implicit, shown);
    if (problem) diagnostics.push(problem);
  }
  const defaults = targetNames.filter((t) => (rawTargets[t] as Record<string, unknown> | null)?.default === true);
  if (defaults.length > 1) {
    diagnostics.push({ location: parsed.sourceMap.locate(["targets", defaults[1]!, "default"], "key"), message: `more than one default target (${defaults.join(", ")})`, hint: "mark exactly one target with `default: true`" });
  }

  if (!project || !target || (diagnostics.length && !options.diagnostics)) throw new InvalidInputError(dedupe(diagnostics));
  const secretValues = Object.entries(project.variables ?? {})
    .filter(([, v]) => v.secret)
    .map(([n]) => variables[n])
    .filter((v): v is string => !!v);
  return {
    dir,
    file,
    name: project.project,
    target: { name: targetName, config: target, mode: target.mode ?? "development", protected: target.protected ?? false },
    targetNames,
    targetConfigs: { ...project.targets },
    variables,
    secretValues,
    permissions: project.permissions ?? [],
    archives: archiveConfigFor({ ...project.archives, ...target.archives }, target.blobs),
    retention: { ...project.retention, ...target.retention },
    modules,
    sourceMap: parsed.sourceMap,
  };
}

/** The target names slipway.yaml declares, in order (read without interpolating or validating). */
export function targetNamesOf(dir: string): string[] {
  const file = join(resolve(dir), PROJECT_FILE);
  if (!existsSync(file)) return [];
  const read = readProjectFile(file, file);
  if ("problem" in read) return [];
  const raw = parseYamlWithPositions(read.text, file);
  const doc = (raw.value ?? {}) as Record<string, unknown>;
  return isRecord(doc.targets) ? Object.keys(doc.targets) : [];
}

function loadModule<M extends ModuleFileBase>(file: string, displayFile: string, moduleSchema: z.ZodType<M>, projectScope: InterpolationScope, diagnostics: Diagnostic[]): LoadedModule<M> | undefined {
  const read = readProjectFile(file, displayFile);
  if ("problem" in read) {
    diagnostics.push(read.problem);
    return undefined;
  }
  const text = read.text;
  // The module's own name feeds ${module.name}; it is read before interpolating the rest.
  const moduleName = /^module:\s*["']?([A-Za-z0-9_-]+)/m.exec(text)?.[1];
  const scope: InterpolationScope = { ...projectScope, module: moduleName };
  const parsed = parseYamlWithPositions(text, displayFile, (s, loc) => interpolate(s, scope, loc, diagnostics));
  diagnostics.push(...parsed.diagnostics);
  if (parsed.value === undefined) return undefined; // a syntax error: nothing to check further
  const config = validateAgainst(moduleSchema, parsed.value, parsed.sourceMap, diagnostics).data;
  if (!config) return undefined;
  return { name: config.module, file, dir: dirname(file), config, sourceMap: parsed.sourceMap };
}

function chooseTarget(requested: string | undefined, targets: Record<string, unknown>, where: SourceLocation): string {
  const names = Object.keys(targets);
  if (requested !== undefined) {
    if (names.includes(requested)) return requested;
    throw new InvalidInputError([
      { message: `unknown target "${requested}"`, hint: didYouMean(requested, names) ?? `targets in this project: ${names.join(", ") || "(none)"}` },
    ], "unknown_target");
  }
  const defaults = names.filter((n) => (targets[n] as Record<string, unknown> | null)?.default === true);
  if (defaults.length >= 1) return defaults[0]!;
  if (names.length === 1) return names[0]!;
  throw new InvalidInputError([
    { location: where, message: names.length ? `no target given and none is marked default` : "the project has no targets", hint: names.length ? `pass -t one of ${names.join(", ")}, or set \`default: true\` on one` : "add a target under `targets:`" },
  ], "no_target");
}

/** Resolves variables lazily (values may reference other variables), detecting cycles. */
class VariableResolver {
  scope!: InterpolationScope;
  private readonly resolved = new Map<string, string>();
  private readonly resolving: string[] = [];

  constructor(
    private readonly declared: Record<string, unknown>,
    private readonly targetValues: Record<string, unknown>,
    private readonly envValues: Record<string, string>,
    private readonly cliValues: Record<string, string>,
    private readonly sourceMap: SourceMap,
    private readonly targetName: string,
    private readonly diagnostics: Diagnostic[],
  ) {
    for (const name of Object.keys(targetValues)) {
      if (!Object.hasOwn(declared, name)) {
        diagnostics.push({
          location: sourceMap.locate(["targets", targetName, "variables", name], "key"),
          message: `target "${targetName}" sets undeclared variable "${name}"`,
          hint: didYouMean(name, Object.keys(declared)) ?? "declare it under `variables:`",
        });
      }
    }
  }

  get(name: string): string | undefined {
    if (!Object.hasOwn(this.declared, name)) return undefined;
    const done = this.resolved.get(name);
    if (done !== undefined) return done;
    if (this.resolving.includes(name)) {
      this.diagnostics.push({ location: this.sourceMap.locate(["variables", name], "key"), message: `variables refer to each other in a cycle: ${[...this.resolving, name].join(" -> ")}`, hint: "break the cycle with a literal value" });
      return "";
    }
    this.resolving.push(name);
    try {
      let raw: unknown;
      let path: (string | number)[];
      if (Object.hasOwn(this.cliValues, name)) {
        return this.remember(name, this.cliValues[name]!);
      } else if (Object.hasOwn(this.envValues, name)) {
        return this.remember(name, this.envValues[name]!);
      } else if (Object.hasOwn(this.targetValues, name)) {
        raw = this.targetValues[name];
        path = ["targets", this.targetName, "variables", name];
      } else {
        const decl = this.declared[name];
        raw = isRecord(decl) ? decl.default : undefined;
        path = ["variables", name, "default"];
      }
      if (raw === undefined || raw === null) {
        this.diagnostics.push({
          location: this.sourceMap.locate(["variables", name], "key"),
          message: `variable "${name}" has no value for target "${this.targetName}"`,
          hint: `give it a default, set targets.${this.targetName}.variables.${name}, export SLIPWAY_VAR_${name}, or pass --var ${name}=…`,
        });
        return this.remember(name, "");
      }
      const text = String(raw);
      return this.remember(name, interpolate(text, this.scope, this.sourceMap.locate(path), this.diagnostics));
    } finally {
      this.resolving.pop();
    }
  }

  all(): Record<string, string> {
    const out: Record<string, string> = Object.create(null);
    for (const name of Object.keys(this.declared)) out[name] = this.get(name) ?? "";
    return out;
  }

  private remember(name: string, value: string): string {
    this.resolved.set(name, value);
    return value;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.location?.file}:${d.location?.line}:${d.location?.column}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
