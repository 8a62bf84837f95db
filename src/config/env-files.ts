// The environment a module's hooks and jobs see, later winning: application.env, the target's
// env_files, the module's module.env, then SLIPWAY_PROJECT/TARGET/MODULE and SLIPWAY_VAR_<NAME>.
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseEnv } from "node:util";
import type { LoadedProject } from "./load.js";
import { pathOutsideReason } from "./safe-paths.js";
import { projectFileProblem } from "./yaml-source.js";

export interface ModuleEnvironment {
  /** The merged variables (without the process environment). */
  vars: Record<string, string>;
  /** Values that must never be printed: secret variables and secret-looking env-file entries. */
  secrets: string[];
}

const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_?KEY)/i;

/** Env files read for a loaded project, by path: application.env and the site files are shared by every module. */
const readFiles = new WeakMap<LoadedProject, Map<string, Record<string, string> | undefined>>();

function readEnvFile(project: LoadedProject, file: string): Record<string, string> | undefined {
  let files = readFiles.get(project);
  if (!files) readFiles.set(project, (files = new Map()));
  // Only a readable file inside the project (validation reports the others: a folder, too large, a link out).
  const usable = (f: string) => existsSync(f) && !projectFileProblem(f, f) && !pathOutsideReason(project.dir, project.dir, relative(project.dir, f));
  if (!files.has(file)) files.set(file, usable(file) ? parseEnvFile(readFileSync(file, "utf8")) : undefined);
  return files.get(file);
}

/**
 * Node's parseEnv, except that a variable named __proto__ is kept (parseEnv drops it): the name is
 * swapped for a placeholder no file contains before parsing, and swapped back in names and values.
 */
export function parseEnvFile(text: string): Record<string, string> {
  let placeholder = "__slipway_proto__";
  while (text.includes(placeholder)) placeholder = `_${placeholder}_`;
  const swapped = text.replace(/^(\s*(?:export\s+)?)__proto__(?=\s*=)/gm, `$1${placeholder}`);
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(parseEnv(swapped) as Record<string, string>)) {
    out[key === placeholder ? "__proto__" : key] = value.split(placeholder).join("__proto__");
  }
  return out;
}

export function moduleEnvironment(project: LoadedProject, moduleName: string, moduleDir: string): ModuleEnvironment {
  const vars: Record<string, string> = Object.create(null); // names are data: __proto__ too
  const secrets = new Set(project.secretValues);
  const files = [join(project.dir, "application.env"), ...(project.target.config.env_files ?? []).map((f) => join(project.dir, f)), join(moduleDir, "module.env")];
  for (const file of files) {
    const parsed = readEnvFile(project, file);
    for (const [key, value] of Object.entries(parsed ?? {})) {
      vars[key] = value;
      if (SECRET_NAME.test(key) && value.length >= 4) secrets.add(value);
    }
  }
  vars.SLIPWAY_PROJECT = project.name;
  vars.SLIPWAY_TARGET = project.target.name;
  vars.SLIPWAY_MODULE = moduleName;
  for (const [name, value] of Object.entries(project.variables)) vars[`SLIPWAY_VAR_${name}`] = value;
  return { vars, secrets: [...secrets] };
}

/** The target's own environment (application.env, then its env_files): what its notifications read secrets from. */
export function targetEnvironment(project: LoadedProject): Record<string, string> {
  const vars: Record<string, string> = Object.create(null);
  for (const file of [join(project.dir, "application.env"), ...(project.target.config.env_files ?? []).map((f) => join(project.dir, f))]) {
    for (const [key, value] of Object.entries(readEnvFile(project, file) ?? {})) vars[key] = value;
  }
  return vars;
}
