// The one rule for paths a project names (hook scripts, job sources, artifact folders, env files,
// includes): relative, and inside the project folder — written that way and after following symbolic
// links. A project cloned from elsewhere must not make Slipway read or run files outside it.
// Model folders a job registers follow the same rule against the run's output folder.
import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import type { Diagnostic, SourceLocation } from "../errors.js";

/** Why `path` (relative to `base`) may not be used, or undefined when it stays inside `root`. */
export function pathOutsideReason(root: string, base: string, path: string): string | undefined {
  if (path.includes("\0")) return "contains a NUL byte";
  if (isAbsolute(path)) return "is absolute";
  const full = resolve(base, path);
  if (!isInside(root, full)) return "leaves the project folder";
  const realRoot = realOrSelf(root);
  const real = realOfExistingPart(full);
  if (!isInside(realRoot, real)) return `leads outside the project folder through a symbolic link (to ${real})`;
  return undefined;
}

export interface ProjectPathCheck {
  /** The project folder (holding slipway.yaml); paths must stay inside it. */
  root: string;
  /** The folder the path is relative to (the project, or a module's folder). */
  base: string;
  path: string;
  location?: SourceLocation;
  /** What the path is, for the message: 'hook "setup": deploy script'. */
  what: string;
  /** How the path is written, for the hint: "relative to module.yaml". */
  relativeTo: string;
}

/** A diagnostic when the path breaks the rule, else undefined. */
export function projectPathProblem(check: ProjectPathCheck): Diagnostic | undefined {
  const reason = pathOutsideReason(check.root, check.base, check.path);
  if (!reason) return undefined;
  return {
    location: check.location,
    message: `${check.what} ${JSON.stringify(check.path)} ${reason}`,
    hint: `paths in a project are ${check.relativeTo} and must stay inside the project folder; copy the file into the project`,
  };
}

/** Why a folder a job registers (relative to the run's output folder) is unusable, or undefined. */
export function outputPathReason(path: string): string | undefined {
  if (path.includes("\0")) return "contains a NUL byte";
  if (isAbsolute(path) || path.startsWith("~")) return "is absolute";
  const parts = path.split(/[\\/]+/);
  if (parts.includes("..")) return 'contains ".."';
  return undefined;
}

/** Why a job's `artifacts` pattern (relative to the run's output folder) is unusable, or undefined. */
export function artifactPatternProblem(pattern: string): string | undefined {
  if (pattern.includes("\0")) return "contains a NUL byte";
  if (pattern.startsWith("/") || pattern.startsWith("~") || /^[A-Za-z]:[\\/]/.test(pattern)) return "is absolute; patterns are relative to the run's output folder";
  if (pattern.includes("\\")) return 'contains "\\"; write paths with "/"';
  if (pattern.startsWith("!")) return 'starts with "!"; a pattern names files to keep (exclusions are not supported)';
  if (pattern.split("/").some((s) => s === "..")) return 'contains ".."; patterns stay inside the run\'s output folder';
  return undefined;
}

/** `inner` is `outer` itself or somewhere below it (both absolute, compared as written). */
export function isInside(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest. */
export function realOfExistingPart(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) return path;
    rest.unshift(existing.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
    existing = parent;
  }
  return resolve(realOrSelf(existing), ...rest);
}

/** Reports the path when it breaks the rule; true when it was refused. */
export function refuseOutside(diagnostics: Diagnostic[], check: ProjectPathCheck): boolean {
  const problem = projectPathProblem(check);
  if (problem) diagnostics.push(problem);
  return problem !== undefined;
}

/**
 * The paths a declared resource names: a job's `source` and `registers.path`, an artifact's `path`.
 * Returns false when one was refused (its existence is then not worth checking).
 */
export function checkResourcePaths(
  projectDir: string,
  moduleDir: string,
  kind: string,
  name: string,
  block: Record<string, any>,
  at: (sub: Array<string | number>) => SourceLocation,
  diagnostics: Diagnostic[],
): boolean {
  const inModule = { root: projectDir, base: moduleDir, relativeTo: "relative to module.yaml" };
  let ok = true;
  if (kind === "job" && typeof block.source === "string") {
    ok = !refuseOutside(diagnostics, { ...inModule, path: block.source, location: at(["source"]), what: `job "${name}": source folder` }) && ok;
  }
  if (kind === "job" && typeof block.registers?.path === "string") {
    const reason = outputPathReason(block.registers.path);
    if (reason) {
      diagnostics.push({
        location: at(["registers", "path"]),
        message: `job "${name}": registers.path ${JSON.stringify(block.registers.path)} ${reason}`,
        hint: "registers.path is a folder inside the run's output folder ($SLIPWAY_OUTPUT_DIR), e.g. `model`",
      });
    }
  }
  if (kind === "artifact" && typeof block.path === "string") {
    ok = !refuseOutside(diagnostics, { ...inModule, path: block.path, location: at(["path"]), what: `artifact "${name}": folder` }) && ok;
  }
  return ok;
}
