// Python virtual environments: made with `python -m venv`, libraries installed offline from files
// (`pip install --no-index --no-deps FILE`). Without `pip: true` an environment is made without its own
// pip (~0.1 s instead of ~4 s) and the interpreter it was made from installs into it
// (`python -m pip --python ENV/bin/python …`, pip >= 22.3).
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SlipwayError } from "../errors.js";
import { runProcess } from "../util/run-script.js";

export interface ProcessIO {
  /** The environment commands start from. */
  env: NodeJS.ProcessEnv;
  onLine(stream: "stdout" | "stderr", line: string): void;
  onStart?(pid: number): void | Promise<void>;
  signal?: AbortSignal;
}

/** "3" -> python3, "3.11" -> python3.11, anything else (a name or a path) as it is. */
export function resolvePython(python: string | undefined): string {
  const p = python ?? "3";
  return /^\d+(\.\d+)*$/.test(p) ? `python${p}` : p;
}

export function venvPython(path: string): string {
  return join(path, "bin", "python");
}

/** Runs a command; returns its output lines, or throws with them when it fails. */
async function run(io: ProcessIO, what: string, command: string, args: string[], hint?: string): Promise<string[]> {
  const lines: string[] = [];
  let code: number;
  try {
    code = await runProcess({
      command,
      args,
      cwd: tmpdir(),
      env: { ...io.env, PIP_NO_INPUT: "1", PIP_DISABLE_PIP_VERSION_CHECK: "1", PYTHONDONTWRITEBYTECODE: "1" },
      signal: io.signal,
      onStart: io.onStart,
      onLine: (stream, line) => {
        lines.push(line);
        if (lines.length > 200) lines.shift();
        io.onLine(stream, line);
      },
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new SlipwayError("compute_failed", `${what}: cannot run ${command}: ${err.code === "ENOENT" ? "not found" : err.message}`, { hint });
  }
  if (code !== 0) {
    throw new SlipwayError("compute_failed", `${what}: \`${[command, ...args].join(" ")}\` exited with code ${code}\n${lines.slice(-20).map((l) => `  | ${l}`).join("\n")}`, { hint });
  }
  return lines;
}

/** The interpreter's version, e.g. "3.11.2"; undefined when it does not run. */
export async function pythonVersion(io: ProcessIO, python: string): Promise<string | undefined> {
  try {
    const lines = await run({ ...io, onLine: () => {} }, "python", python, ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]);
    return lines.at(-1)?.trim();
  } catch {
    return undefined;
  }
}

/**
 * Makes the environment at `path` unless a working one is there already (then it is adopted).
 * Returns the environment's Python version and whether it was made now.
 */
export async function createVenv(io: ProcessIO, python: string, path: string, options: { pip?: boolean } = {}): Promise<{ version: string; created: boolean }> {
  if (existsSync(venvPython(path))) {
    const version = await pythonVersion(io, venvPython(path));
    if (version) return { version, created: false };
    await rm(path, { recursive: true, force: true }); // a broken leftover: start again
  }
  await mkdir(dirname(path), { recursive: true });
  await run(io, `creating the environment ${path}`, python, ["-m", "venv", ...(options.pip ? [] : ["--without-pip"]), path], `${python} must be a Python 3 with the venv module (on Debian: apt-get install python3-venv), or set \`python:\` on the compute environment`);
  const version = await pythonVersion(io, venvPython(path));
  if (!version) throw new SlipwayError("compute_failed", `the environment ${path} was made but its python does not run`);
  return { version, created: true };
}

/** pip for an environment: its own when it has one, else the interpreter it was made from. */
function pip(path: string, basePython: string): { command: string; args: string[] } {
  if (existsSync(join(path, "bin", "pip"))) return { command: venvPython(path), args: ["-m", "pip"] };
  return { command: basePython, args: ["-m", "pip", "--python", venvPython(path)] };
}

/** Installs one package file (a wheel) into the environment, offline and without dependencies. */
export async function installFile(io: ProcessIO, path: string, basePython: string, filename: string, data: Buffer): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), "slipway-install-"));
  try {
    const file = join(scratch, filename);
    await writeFile(file, data);
    const p = pip(path, basePython);
    await run(io, `installing ${filename}`, p.command, [...p.args, "install", "--no-index", "--no-deps", "--no-cache-dir", "--force-reinstall", file], `installs use pip (22.3 or later) of ${basePython}; give the environment its own with \`pip: true\``);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function uninstallPackage(io: ProcessIO, path: string, basePython: string, pkg: string): Promise<void> {
  if (!existsSync(venvPython(path))) return;
  const p = pip(path, basePython);
  await run(io, `uninstalling ${pkg}`, p.command, [...p.args, "uninstall", "-y", pkg]);
}

/** Distribution name -> version of everything installed (importlib.metadata). */
export async function installedPackages(io: ProcessIO, path: string): Promise<Record<string, string>> {
  const lines = await run({ ...io, onLine: () => {} }, "listing packages", venvPython(path), [
    "-c",
    "import json, importlib.metadata as m; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))",
  ]);
  return JSON.parse(lines.at(-1) ?? "{}") as Record<string, string>;
}

export async function removeVenv(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
