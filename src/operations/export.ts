// `slipway export k8s|helm`: the compiled target as Kubernetes manifests or a Helm chart, written to a
// folder. It reads the project only (no state, no stores). The folder is refused when it is not empty
// and not one an earlier export wrote (a marker file says so) unless --force; the files a previous
// export listed are removed first, so a resource removed from the project is not left behind. Writing
// never follows a symbolic link, and every path stays inside the folder. As a last guard, no file is
// written if any text holds a secret value.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { RefusedError, SlipwayError } from "../errors.js";
import { exportFiles, type ExportFormat } from "../export/files.js";
import { objectName } from "../util/kubernetes/names.js";
import { compileFor, type OperationContext, type ProjectOptions } from "./context.js";

export const MARKER = ".slipway-export.json";

export interface ExportRequest extends ProjectOptions {
  format: ExportFormat;
  /** Default: ./k8s-<target> or ./helm-<target>, in the current folder. */
  out?: string;
  image?: string;
  imagePullPolicy?: string;
  secretName?: string;
  force?: boolean;
}

export interface ExportResult {
  format: ExportFormat;
  project: string;
  target: string;
  out: string;
  image: string;
  files: Array<{ path: string; kinds: string[]; names: string[]; address: string | null }>;
  /** Files of the previous export that this one no longer writes (removed). */
  removed: string[];
  secret: { name: string; keys: string[] };
  /** How to apply what was written. */
  apply: string;
}

export async function exportProject(req: ExportRequest, ctx: OperationContext): Promise<ExportResult> {
  const compiled = compileFor(req, ctx);
  const project = compiled.project.name;
  const target = compiled.project.target.name;
  const image = req.image ?? `${project}:latest`;
  const out = resolve(req.out ?? `${req.format}-${target}`);
  const built = exportFiles(compiled, { format: req.format, image, imagePullPolicy: req.imagePullPolicy ?? "IfNotPresent", secretName: req.secretName ?? objectName(project, "secrets") });

  // Last guard: a secret value in any file means a bug above; nothing is written.
  const secrets = compiled.secrets.filter((s) => s.length >= 4);
  for (const f of built.files) {
    if (secrets.some((s) => f.content.includes(s))) throw new SlipwayError("internal", `the export's ${f.path} would hold a secret value; nothing was written`, { hint: "report this as a bug" });
  }

  const previous = prepareOut(out, req.force ?? false);
  const paths = built.files.map((f) => f.path);
  const removed = previous.filter((p) => !paths.includes(p));
  for (const p of previous) {
    // A marker names files; a folder on the way that is a link is not followed (a forged marker must not delete elsewhere).
    const file = inside(out, p);
    if (file && foldersOnly(out, dirname(file)) && existsSync(file) && lstatSync(file).isFile()) rmSync(file);
  }
  for (const f of built.files) {
    const file = inside(out, f.path)!;
    safeMkdir(out, dirname(file));
    if (existsSync(file) && !lstatSync(file).isFile()) throw new SlipwayError("export_out_unsafe", `${file} is not a regular file`, { hint: "remove it, or choose another --out" });
    rmSync(file, { force: true }); // a link in its place is removed, not followed
    writeFileSync(file, f.content, { flag: "wx" });
  }
  rmSync(join(out, MARKER), { force: true }); // a link in its place is removed, not followed
  writeFileSync(join(out, MARKER), `${JSON.stringify({ written_by: "slipway export", format: req.format, project, target, files: paths }, null, 2)}\n`, { flag: "wx" });

  const apply =
    req.format === "k8s"
      ? `kubectl apply -n NAMESPACE -f ${shown(out)}`
      : `helm upgrade --install ${objectName(project, target)} ${shown(out)} --namespace NAMESPACE --create-namespace`;
  return {
    format: req.format,
    project,
    target,
    out,
    image,
    files: built.files.map((f) => ({ path: f.path, kinds: f.kinds, names: f.names, address: f.address ?? null })),
    removed,
    secret: built.secret,
    apply,
  };
}

function shown(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel && !rel.startsWith("..") ? rel : dir;
}

/** `p` (relative, "/"-separated) inside `root`, or undefined when it would leave it. */
function inside(root: string, p: string): string | undefined {
  const file = resolve(root, ...p.split("/"));
  return file.startsWith(root + sep) ? file : undefined;
}

/** True when every existing step from `root` down to `dir` is a real folder (no symbolic link). */
function foldersOnly(root: string, dir: string): boolean {
  let at = root;
  for (const part of relative(root, dir).split(sep).filter(Boolean)) {
    at = join(at, part);
    if (!existsSync(at)) return true;
    if (!lstatSync(at).isDirectory()) return false;
  }
  return true;
}

/** Creates `dir` under `root` one level at a time, refusing a symbolic link or a file on the way. */
function safeMkdir(root: string, dir: string): void {
  let at = root;
  for (const part of relative(root, dir).split(sep).filter(Boolean)) {
    at = join(at, part);
    if (!existsSync(at)) mkdirSync(at);
    else if (!lstatSync(at).isDirectory()) throw new SlipwayError("export_out_unsafe", `${at} is not a folder (a symbolic link or a file)`, { hint: "remove it, or choose another --out" });
  }
}

/** Checks --out and returns the files a previous export wrote there (none for a new or empty folder). */
function prepareOut(out: string, force: boolean): string[] {
  if (!existsSync(out)) {
    mkdirSync(out, { recursive: true });
    return [];
  }
  const stat = lstatSync(out);
  if (!stat.isDirectory()) throw new SlipwayError("export_out_unsafe", `--out ${out} is not a folder${stat.isSymbolicLink() ? " (a symbolic link)" : ""}`, { hint: "name a folder (it is created when missing)" });
  if (readdirSync(out).length === 0) return [];
  const marker = join(out, MARKER);
  if (existsSync(marker) && lstatSync(marker).isFile()) {
    try {
      const m = JSON.parse(readFileSync(marker, "utf8")) as { written_by?: unknown; files?: unknown };
      if (m.written_by === "slipway export" && Array.isArray(m.files)) return m.files.filter((f): f is string => typeof f === "string" && inside(out, f) !== undefined);
    } catch {
      // not ours: refused below
    }
  }
  if (!force) throw new RefusedError("export_out_not_empty", `--out ${out} is not empty and was not written by slipway export`, { hint: "choose an empty or new folder, or pass --force to write into it anyway (files of the same names are replaced)" });
  return [];
}
