// A Python package's name and version, read from its own metadata without running anything:
// pyproject.toml ([project] name / version), then setup.cfg ([metadata]), then setup.py (name= / version=
// literals). A version that is computed (dynamic = ["version"], `attr:`, a variable) is left undefined:
// the built wheel's file name says what it is.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface PythonMetadata {
  /** Which file declared the package (pyproject.toml, setup.cfg or setup.py), or undefined if none exists. */
  source?: "pyproject.toml" | "setup.cfg" | "setup.py";
  name?: string;
  version?: string;
}

export const PYTHON_METADATA_FILES = ["pyproject.toml", "setup.cfg", "setup.py"] as const;

export function readPythonMetadata(dir: string): PythonMetadata {
  const read = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : undefined);
  const found: PythonMetadata = {};
  const pyproject = read("pyproject.toml");
  if (pyproject !== undefined) {
    const project = tomlTable(pyproject, "project");
    if (project) Object.assign(found, { source: "pyproject.toml", name: project.name, version: project.version });
  }
  const cfg = read("setup.cfg");
  if (cfg !== undefined) {
    const meta = iniSection(cfg, "metadata");
    if (meta) {
      found.source ??= "setup.cfg";
      found.name ??= literal(meta.name);
      found.version ??= literal(meta.version);
    }
  }
  const setupPy = read("setup.py");
  if (setupPy !== undefined) {
    found.source ??= "setup.py";
    found.name ??= /\bname\s*=\s*(["'])([^"'\n]+)\1/.exec(setupPy)?.[2];
    found.version ??= /\bversion\s*=\s*(["'])([^"'\n]+)\1/.exec(setupPy)?.[2];
  }
  if (!found.source && pyproject !== undefined) found.source = "pyproject.toml"; // e.g. [tool.poetry] only
  return found;
}

/** String values of one TOML table (`[project]`): enough TOML for `key = "value"` lines. */
export function tomlTable(text: string, table: string): Record<string, string> | undefined {
  let inside = false;
  let seen = false;
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]\s*(#.*)?$/.exec(line);
    if (header) {
      inside = header[1]!.trim() === table;
      seen ||= inside;
      continue;
    }
    if (!inside) continue;
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(#.*)?$/.exec(line);
    if (kv) out[kv[1]!] = kv[2] !== undefined ? kv[2].replace(/\\(.)/g, "$1") : kv[3]!;
  }
  return seen ? out : undefined;
}

/** Keys of one INI section (`[metadata]`), continuation lines ignored. */
export function iniSection(text: string, section: string): Record<string, string> | undefined {
  let inside = false;
  let seen = false;
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw)) continue;
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      inside = header[1]!.trim() === section;
      seen ||= inside;
      continue;
    }
    if (!inside || /^\s/.test(raw)) continue;
    const kv = /^([A-Za-z0-9_.-]+)\s*[=:]\s*(.*)$/.exec(raw);
    if (kv) out[kv[1]!.replace(/-/g, "_")] = kv[2]!.trim();
  }
  return seen ? out : undefined;
}

/** A setup.cfg value that is a literal (not `attr:` or `file:`). */
function literal(value: string | undefined): string | undefined {
  if (!value || /^(attr|file)\s*:/.test(value)) return undefined;
  return value;
}

/**
 * Distribution and version from a wheel's file name:
 * {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl
 */
export function parseWheelFilename(filename: string): { distribution: string; version: string } | undefined {
  if (!filename.endsWith(".whl")) return undefined;
  const parts = filename.slice(0, -4).split("-");
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  return { distribution: parts[0]!, version: parts[1]! };
}

/** PEP 503 normalized name: what pip compares. */
export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}
