// `slipway doctor`: checks what the project and SLIPWAY_HOME need, and says how to fix each problem.
// It changes nothing: it creates no home folder, opens the state database read-only, takes no lock.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import type { CompiledProject } from "../kinds/compile-project.js";
import { InvalidInputError, SlipwayError } from "../errors.js";
import type { RuntimeEnv } from "../env.js";
import { loadHomeConfig } from "../config/home-config.js";
import { compile, type ProjectOptions } from "../operations/context.js";
import { executorFor } from "../executors/index.js";
import { kubeClient } from "../executors/kubernetes/client.js";
import { checkServingAccess } from "../serving/kubernetes/cluster.js";
import type { ServingConfig } from "../config/schema.js";
import { readServerInfo, type ServerInfo } from "../serving/server-file.js";
import { processAlive } from "../util/run-script.js";
import { checkBackendReach, readHomeBackends, resolvedBackends, type ResolvedBackends } from "./backends.js";

export type CheckStatus = "ok" | "note" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
  /** What to do about it (warn and fail, sometimes note). */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  home: string;
  /** backends: which the target resolved to, and from where (its own, the home's config.yaml, the default). */
  project?: { dir: string; name: string; target: string; backends: ResolvedBackends };
  checks: Check[];
}

const MIN_NODE = [20, 12] as const;

export async function runDoctor(options: ProjectOptions, env: RuntimeEnv): Promise<DoctorReport> {
  const checks: Check[] = [];
  checks.push(checkNode(process.versions.node));
  checks.push(checkHome(env.home));
  const home = readHomeBackends(env);
  if (home.check) checks.push(home.check);
  const server = liveServer(env);
  checks.push(await checkPort(env.serverPort, server));
  checks.push(checkServer(env, server));
  if (home.config?.state && home.config.state.type !== "sqlite") checks.push({ name: "locks", status: "ok", message: `deploy locks are kept in the home's ${home.config.state.type} state: \`slipway status\` shows a target's holder` });
  else checks.push(...checkLocks(env));

  const project = loadProject(options, env);
  checks.push(project.check);
  const target = project.compiled?.project.target;
  if (project.compiled) checks.push(...checkPython(project.compiled, env));
  if (target) {
    // The target's backends (its own, else the home's): each must answer.
    checks.push(...(await checkBackendReach(target.config, `for target ${target.name}`)));
    if (target.config.executor?.type === "slurm") checks.push(checkSlurm(target.name, env));
    else if (target.config.executor?.type === "kubernetes") checks.push(...(await checkKubernetes(project.compiled!, env)));
    if (target.config.serving?.type === "kubernetes") checks.push(await checkKubernetesServing(target.name, target.config.serving));
  } else if (home.config) {
    checks.push(...(await checkBackendReach(home.config, "for this home")));
    if (home.config.executor?.type === "slurm") checks.push(checkSlurm("", env, "this home"));
  }
  if (!project.found) checks.push(checkPythonAlone(env));

  return {
    ok: !checks.some((c) => c.status === "fail"),
    home: env.home,
    project: project.compiled && target ? { dir: project.compiled.project.dir, name: project.compiled.project.name, target: target.name, backends: resolvedBackends(target.config, home.config ?? {}) } : undefined,
    checks,
  };
}

export function checkNode(version: string): Check {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { name: "node", status: "ok", message: `Node.js ${version} (${MIN_NODE.join(".")} or newer is needed)` }
    : { name: "node", status: "fail", message: `Node.js ${version} is older than ${MIN_NODE.join(".")}`, fix: "install Node.js 20.12 or newer (https://nodejs.org, or your package manager)" };
}

export function checkHome(home: string): Check {
  const fix = `make it writable for this user (chown/chmod), or use another folder: export SLIPWAY_HOME=/path/to/folder`;
  if (existsSync(home)) {
    if (!statSync(home).isDirectory()) return { name: "home", status: "fail", message: `SLIPWAY_HOME ${home} is not a folder`, fix: "remove it, or point SLIPWAY_HOME at a folder" };
    return writable(home) ? { name: "home", status: "ok", message: `${home} is writable` } : { name: "home", status: "fail", message: `${home} is not writable`, fix };
  }
  let parent = dirname(home);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  return writable(parent)
    ? { name: "home", status: "ok", message: `${home} does not exist yet; the first deploy creates it` }
    : { name: "home", status: "fail", message: `${home} does not exist and ${parent} is not writable, so it cannot be created`, fix };
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function liveServer(env: RuntimeEnv): { info?: ServerInfo; alive: boolean } {
  const info = readServerInfo(env.home);
  return { info, alive: !!info && info.host === env.host && processAlive(info.pid) };
}

export async function checkPort(port: number, server: { info?: ServerInfo; alive: boolean }): Promise<Check> {
  if (port === 0) return { name: "port", status: "ok", message: "SLIPWAY_SERVER_PORT=0: the local server takes any free port" };
  if (server.alive && server.info?.port === port) return { name: "port", status: "ok", message: `127.0.0.1:${port} is used by this home's Slipway server` };
  const error = await new Promise<NodeJS.ErrnoException | undefined>((done) => {
    const probe = createServer();
    probe.once("error", (e: NodeJS.ErrnoException) => done(e));
    probe.listen(port, "127.0.0.1", () => probe.close(() => done(undefined)));
  });
  if (!error) return { name: "port", status: "ok", message: `127.0.0.1:${port} is free for the local server` };
  const fix = `stop the program that listens there, or choose another port: export SLIPWAY_SERVER_PORT=${port + 1} (0 picks any free port)`;
  if (error.code === "EADDRINUSE") return { name: "port", status: "fail", message: `127.0.0.1:${port} is taken by another program (or another SLIPWAY_HOME's server); deploying an endpoint would fail`, fix };
  return { name: "port", status: "fail", message: `cannot listen on 127.0.0.1:${port}: ${error.code ?? error.message}`, fix };
}

export function checkServer(env: RuntimeEnv, server: { info?: ServerInfo; alive: boolean }): Check {
  const lock = join(env.home, "server.lock");
  if (server.alive && server.info) {
    return {
      name: "server",
      status: "note",
      message: `a Slipway server is running for this home at ${server.info.url} (pid ${server.info.pid}, since ${server.info.startedAt})`,
      fix: "it serves the deployed endpoints (`slipway server status` lists them); one started by deploy stops by itself a minute after it has nothing left to serve; to stop it now: slipway server stop",
    };
  }
  const lockPid = existsSync(lock) ? Number(readFileSync(lock, "utf8")) : 0;
  if (server.info || (lockPid && !processAlive(lockPid))) {
    const pid = server.info?.pid ?? lockPid;
    return {
      name: "server",
      status: "warn",
      message: `a Slipway server that is gone (pid ${pid}) left ${[server.info ? "server.json" : "", existsSync(lock) ? "server.lock" : ""].filter(Boolean).join(" and ")} in ${env.home}`,
      fix: "harmless: the next server start replaces them (or run: slipway server stop)",
    };
  }
  return { name: "server", status: "ok", message: "no Slipway server is running for this home" };
}

interface LockRowLike {
  project: string;
  target: string;
  operation: string;
  owner_user: string;
  owner_host: string;
  owner_pid: number;
  acquired_at: string;
  expires_at: number;
}

/** Deploy locks in the home's SQLite state: stale ones (holder gone or lease expired) and live ones. */
export function checkLocks(env: RuntimeEnv): Check[] {
  // A home whose state is elsewhere (config.yaml's `state`, e.g. PostgreSQL) has no locks in state.db.
  let homeState: ReturnType<typeof loadHomeConfig>["state"];
  try {
    homeState = loadHomeConfig(env.home, env.processEnv).state;
  } catch {
    homeState = undefined;
  }
  if (homeState && !(homeState.type === "sqlite" && homeState.path === undefined)) {
    return [{ name: "locks", status: "ok", message: `the home's state is ${homeState.type === "sqlite" ? "a SQLite file named in config.yaml" : `a ${homeState.type} database (config.yaml)`}: not checked here`, fix: "`slipway status -t TARGET` shows a target's lock" }];
  }
  const file = join(env.home, "state.db");
  if (!existsSync(file)) return [{ name: "locks", status: "ok", message: "no state database yet, so no locks" }];
  let rows: LockRowLike[];
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'locks'").get();
      rows = table ? (db.prepare("SELECT * FROM locks ORDER BY project, target").all() as LockRowLike[]) : [];
    } finally {
      db.close();
    }
  } catch (e) {
    return [{ name: "locks", status: "warn", message: `cannot read ${file}: ${(e as Error).message}`, fix: "check the file's owner and mode; `slipway status` shows the lock of one target" }];
  }
  if (rows.length === 0) return [{ name: "locks", status: "ok", message: "no deploy locks are held" }];
  const now = env.clock.now();
  return rows.map((r): Check => {
    const who = `${r.owner_user}@${r.owner_host} (pid ${r.owner_pid}), "${r.operation}" since ${r.acquired_at}`;
    const gone = r.owner_host === env.host && !processAlive(r.owner_pid);
    if (gone || r.expires_at <= now) {
      return {
        name: "locks",
        status: "warn",
        message: `stale lock on ${r.project}/${r.target}, held by ${who}: ${gone ? "that process is gone" : "its lease has expired"}`,
        fix: `harmless: the next deploy, destroy or rollback of ${r.project}/${r.target} takes it over (it was left by a killed command; run that command again to finish its work)`,
      };
    }
    return { name: "locks", status: "note", message: `${r.project}/${r.target} is locked by ${who}, which is still running`, fix: "wait for it; `slipway status` shows the holder" };
  });
}

function loadProject(options: ProjectOptions, env: RuntimeEnv): { found: boolean; compiled?: CompiledProject; check: Check } {
  const dir = resolve(options.dir);
  if (!existsSync(join(dir, "slipway.yaml"))) {
    return {
      found: false,
      check: { name: "project", status: "note", message: `no slipway.yaml in ${dir}: only the machine and the home were checked`, fix: "start a project with `slipway init`, or point at one with --project DIR" },
    };
  }
  try {
    const compiled = compile(options, env);
    const modules = compiled.project.modules.length;
    return {
      found: true,
      compiled,
      check: { name: "project", status: "ok", message: `${compiled.project.name}/${compiled.project.target.name} is valid: ${modules} module(s), ${compiled.resources.length} resource(s)` },
    };
  } catch (e) {
    if (e instanceof InvalidInputError) {
      const n = e.diagnostics.length;
      return { found: true, check: { name: "project", status: "fail", message: `${dir}/slipway.yaml has ${n} problem(s): ${e.diagnostics[0]?.message ?? e.message}`, fix: "run `slipway validate` to see each one with its file:line:column and a hint" } };
    }
    if (e instanceof SlipwayError) return { found: true, check: { name: "project", status: "fail", message: e.message, fix: e.hint } };
    throw e;
  }
}

/** A Slurm target needs Slurm's client commands and a controller that answers (the cluster SLURM_CONF names). */
export function checkSlurm(target: string, env: RuntimeEnv, who = `target ${target}`): Check {
  const fix = "install Slurm's client commands (Debian: apt-get install slurm-client) and point SLURM_CONF at the cluster's slurm.conf; `scontrol ping` must say UP";
  const path = (env.processEnv.PATH ?? "").split(delimiter).filter(Boolean);
  for (const command of ["sbatch", "scontrol", "scancel"]) {
    if (!path.some((dir) => executable(join(dir, command)))) return { name: "slurm", status: "fail", message: `${command} is not installed (not found on PATH); ${who} runs its jobs on Slurm`, fix };
  }
  const conf = env.processEnv.SLURM_CONF;
  if (conf && !existsSync(conf)) return { name: "slurm", status: "fail", message: `SLURM_CONF names ${conf}, which does not exist; ${who} runs its jobs on Slurm`, fix };
  // A slurm.conf that cannot be read makes the commands retry for a minute: 20 s is enough to know.
  const ping = spawnSync("scontrol", ["ping"], { env: env.processEnv, encoding: "utf8", timeout: 20_000 });
  const answer = `${ping.stdout ?? ""}${ping.stderr ?? ""}`.trim().split("\n").filter(Boolean);
  if (ping.status !== 0 || !answer.some((l) => /is UP/.test(l))) {
    const said = answer.slice(0, 2).join("; ") || (ping.error ? "no answer within 20 s" : `exit ${ping.status ?? ping.signal}`);
    return { name: "slurm", status: "fail", message: `the Slurm controller does not answer (scontrol ping: ${said}); ${who} runs its jobs on Slurm`, fix };
  }
  return { name: "slurm", status: "ok", message: `${answer.find((l) => /is UP/.test(l))!.trim()}, for ${who}` };
}

/**
 * A kubernetes target: the kubeconfig loads (with the executor's context), the API server answers and
 * lets these credentials list Jobs in the namespace; and the target's stores are ones a pod reaches.
 * Reads only (GET /version, a list of at most one Job).
 */
export async function checkKubernetes(compiled: CompiledProject, env: RuntimeEnv): Promise<Check[]> {
  const { target, dir, archives } = compiled.project;
  const config = target.config.executor!;
  const checks: Check[] = [];
  try {
    const api = await kubeClient(config.context);
    const version = await api.version();
    await api.listJobs(config.namespace!);
    checks.push({ name: "kubernetes", status: "ok", message: `${api.server} (${version}, context ${api.context}) answers, and Jobs in namespace ${config.namespace} can be listed, for target ${target.name}` });
  } catch (e) {
    const err = e as SlipwayError;
    checks.push({ name: "kubernetes", status: "fail", message: `${err.message}; target ${target.name} runs its jobs on Kubernetes`, fix: err.hint ?? "set KUBECONFIG to a kubeconfig whose context reaches the cluster (kubectl get jobs -n NAMESPACE works with it)" });
  }
  try {
    executorFor(target.config).check?.({ target: target.name, home: env.home, projectDir: dir, state: target.config.state, blobs: target.config.blobs, archives });
    checks.push({ name: "kubernetes stores", status: "ok", message: `the state and stores of target ${target.name} are ones its runs' pods can reach${config.volume ? ` (folders under the shared volume ${config.volume.path})` : ""}` });
  } catch (e) {
    checks.push({ name: "kubernetes stores", status: "fail", message: (e as SlipwayError).message, fix: (e as SlipwayError).hint });
  }
  return checks;
}

/** A target whose endpoints are served on Kubernetes: the API answers and its Deployments and Services can be listed in the namespace (reads only). */
async function checkKubernetesServing(target: string, serving: ServingConfig): Promise<Check> {
  try {
    const said = await checkServingAccess({ namespace: serving.namespace!, ...(serving.context ? { context: serving.context } : {}) });
    return { name: "kubernetes serving", status: "ok", message: `${said}, for target ${target}` };
  } catch (e) {
    const err = e as SlipwayError;
    return { name: "kubernetes serving", status: "fail", message: `${err.message}; target ${target} serves its endpoints on Kubernetes`, fix: err.hint ?? "set KUBECONFIG to a kubeconfig whose context reaches the cluster" };
  }
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** What one interpreter is needed for, and which modules it must import. */
interface PythonNeed {
  uses: string[];
  modules: Set<string>;
}

const PY_WORD = /^(?:\S*\/)?python[\d.]*$/;

/** Interpreters the project needs: for python jobs, for building wheels, for compute environments. */
export function pythonNeeds(compiled: CompiledProject): Map<string, PythonNeed> {
  const needs = new Map<string, PythonNeed>();
  const need = (python: string, use: string, modules: string[]) => {
    let n = needs.get(python);
    if (!n) needs.set(python, (n = { uses: [], modules: new Set() }));
    if (!n.uses.includes(use)) n.uses.push(use);
    for (const m of modules) n.modules.add(m);
  };
  for (const r of compiled.resources) {
    const spec = r.spec as Record<string, any>;
    if (r.kind === "job") {
      if (spec.compute?.environment) continue; // runs with its environment's interpreter
      const commands: string[] = spec.command ? [spec.command] : Object.values((spec.tasks ?? {}) as Record<string, { command: string }>).map((t) => t.command);
      for (const command of commands) {
        const first = String(command).trim().split(/\s+/)[0] ?? "";
        if (PY_WORD.test(first)) need(first, `job ${r.name}`, []);
      }
    } else if (r.kind === "artifact" && spec.type === "python_wheel") {
      need(pythonCommand(spec.python ?? "python3"), `building wheel ${r.name}`, ["setuptools", "wheel", "pip"]);
    } else if (r.kind === "compute") {
      need(pythonCommand(spec.python), `compute environment ${r.name}`, spec.pip ? ["venv", "pip", "ensurepip"] : ["venv", "pip"]);
    }
  }
  return needs;
}

/** "3" -> python3, "3.11" -> python3.11, anything else as it is (as compute environments read it). */
function pythonCommand(python: unknown): string {
  const p = typeof python === "string" && python ? python : "3";
  return /^\d+(\.\d+)*$/.test(p) ? `python${p}` : p;
}

function checkPython(compiled: CompiledProject, env: RuntimeEnv): Check[] {
  const needs = pythonNeeds(compiled);
  if (needs.size === 0) return [{ name: "python", status: "ok", message: "not needed: no python jobs, wheels or compute environments in this project" }];
  return [...needs.entries()].map(([python, n]) => probePython(python, n, env));
}

function probePython(python: string, n: PythonNeed, env: RuntimeEnv): Check {
  const forWhat = n.uses.join(", ");
  // setuptools first: imported after pip, Debian's distutils shim raises an AssertionError.
  const modules = [...n.modules].sort((a, b) => (a === "setuptools" ? -1 : b === "setuptools" ? 1 : a.localeCompare(b)));
  const script = [
    "import importlib, sys",
    "missing = []",
    `for m in ${JSON.stringify(modules)}:`,
    "    try: importlib.import_module(m)",
    "    except Exception: missing.append(m)",
    "print('%d.%d.%d' % sys.version_info[:3]); print(','.join(missing))",
  ].join("\n");
  const r = spawnSync(python, ["-c", script], { env: env.processEnv, encoding: "utf8", timeout: 20_000 });
  if (r.error || r.status !== 0) {
    const why = (r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT" ? "is not installed (not found on PATH)" : `does not run: ${(r.stderr || String(r.error ?? "")).trim().split("\n").at(-1)}`;
    return { name: "python", status: "fail", message: `${python} ${why}; needed by ${forWhat}`, fix: installHint(python, modules) };
  }
  const [version = "?", missingLine = ""] = r.stdout.trim().split("\n");
  const missing = missingLine.split(",").filter(Boolean);
  if (missing.length) {
    return { name: "python", status: "fail", message: `${python} (Python ${version}) lacks ${missing.join(", ")}; needed by ${forWhat}`, fix: installHint(python, missing) };
  }
  return { name: "python", status: "ok", message: `${python} (Python ${version})${modules.length ? ` with ${modules.join(", ")}` : ""}, for ${forWhat}` };
}

function installHint(python: string, modules: string[]): string {
  const debian = ["python3"];
  if (modules.includes("venv") || modules.includes("ensurepip")) debian.push("python3-venv");
  if (modules.includes("pip")) debian.push("python3-pip");
  if (modules.includes("setuptools")) debian.push("python3-setuptools");
  if (modules.includes("wheel")) debian.push("python3-wheel");
  const pip = modules.filter((m) => m === "setuptools" || m === "wheel");
  return `on Debian/Ubuntu: sudo apt-get install ${debian.join(" ")}${pip.length ? `; or ${python} -m pip install ${pip.join(" ")}` : ""}; or name another interpreter in the project (a variable such as python: /usr/bin/python3)`;
}

function checkPythonAlone(env: RuntimeEnv): Check {
  const r = spawnSync("python3", ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], { env: env.processEnv, encoding: "utf8", timeout: 20_000 });
  if (r.error || r.status !== 0) return { name: "python", status: "note", message: "python3 is not on PATH: needed only for python jobs, wheels and compute environments (the ml template)", fix: "on Debian/Ubuntu: sudo apt-get install python3 python3-venv" };
  return { name: "python", status: "ok", message: `python3 (Python ${r.stdout.trim()}) for python jobs; run doctor in a project to check what it needs` };
}
