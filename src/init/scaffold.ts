// `slipway init`: writes a new project from one of the templates shipped in the package's templates/
// folder. Nothing is overwritten: if any file the template would write exists, nothing is written.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { InvalidInputError, RefusedError } from "../errors.js";
import { packageRoot } from "../util/package-root.js";
import { didYouMean } from "../util/suggest.js";

export const TEMPLATES = {
  minimal: "one module with a hook, a setting and a job; deploys with Node.js alone",
  modules: "a core module and a feature module: dependencies, phases, env files, a secret variable",
  ml: "trains, registers and serves a model (needs python3)",
  release: "dev, qa and prod targets with a schedule and a release pipeline (dev, qa, then prod after an approval)",
} as const;
export type TemplateName = keyof typeof TEMPLATES;
export const TEMPLATE_NAMES = Object.keys(TEMPLATES) as TemplateName[];

/** Project names: lowercase letters, digits, _ and - (as slipway.yaml's `project`). */
export const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export interface InitOptions {
  dir: string;
  template: string;
  /** Default: the folder's name, made into a valid project name. */
  name?: string;
}

export interface InitResult {
  dir: string;
  project: string;
  template: TemplateName;
  files: string[];
}

/** A project name from a folder name: "My Project" -> "my-project". */
export function projectNameFor(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|-+$/g, "");
  return name || "my-project";
}

function templateDir(template: TemplateName): string {
  return join(packageRoot(), "templates", template);
}

function listFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(root, join(dir, e.name)) : [relative(root, join(dir, e.name))]))
    .sort();
}

/** Template files are stored without a leading dot (npm leaves `.gitignore` out of packages). */
function destinationName(file: string): string {
  return file === "gitignore" ? ".gitignore" : file;
}

export function checkTemplate(template: string): TemplateName {
  if ((TEMPLATE_NAMES as string[]).includes(template)) return template as TemplateName;
  throw new InvalidInputError(
    [{ message: `unknown template "${template}"`, hint: didYouMean(template, TEMPLATE_NAMES) ?? `templates: ${TEMPLATE_NAMES.join(", ")}` }],
    "invalid_flag",
  );
}

export function checkProjectName(name: string): string {
  if (PROJECT_NAME.test(name) && name.length <= 100) return name;
  throw new InvalidInputError(
    [{ message: `"${name}" is not a valid project name`, hint: "project names use lowercase letters, digits, _ and -, and start with a letter or digit" }],
    "invalid_flag",
  );
}

export function initProject(options: InitOptions): InitResult {
  const template = checkTemplate(options.template);
  const project = checkProjectName(options.name ?? projectNameFor(options.dir));
  const dir = resolve(options.dir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new InvalidInputError([{ message: `${options.dir} exists and is not a folder`, hint: "choose a new or existing folder" }], "invalid_flag");
  }
  const source = templateDir(template);
  const files = listFiles(source)
    .map((file) => ({ from: join(source, file), to: destinationName(file) }))
    .sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  const existing = files.filter((f) => existsSync(join(dir, f.to))).map((f) => f.to);
  if (existing.length) {
    throw new RefusedError("files_exist", `${options.dir} already has ${existing.length === 1 ? "a file" : "files"} the ${template} template would write: ${existing.join(", ")}; nothing was written`, {
      hint: "init never overwrites files: choose a new folder (slipway init DIR) or move those files away",
      details: { files: existing },
    });
  }
  const values: Record<string, string> = { project, project_id: project.replace(/-/g, "_") };
  for (const f of files) {
    const target = join(dir, f.to);
    mkdirSync(dirname(target), { recursive: true });
    const text = readFileSync(f.from, "utf8").replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
    writeFileSync(target, text, { flag: "wx" });
    if (f.to.endsWith(".sh")) chmodSync(target, 0o755);
  }
  return { dir, project, template, files: files.map((f) => f.to) };
}
