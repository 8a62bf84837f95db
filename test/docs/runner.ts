// Runs the command blocks of a markdown file and compares what they print with what the file shows.
// The convention is described in test/docs/README.md. In short: a file opts in with a line
// `<!-- docs-test -->` (options: `cwd=PATH`, `init=TEMPLATE`); every ```console block in it is a
// sequence of `$ command` lines, each followed by the output it must print. Commands run one after
// another in one bash session (so `cd` and `export` carry over), with a temporary HOME, a free server
// port and SLIPWAY_USER=alice.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

export interface Step {
  command: string;
  expected: string[];
  /** 1-based line of the `$ ` line in the markdown file. */
  line: number;
}

export interface Block {
  line: number;
  steps: Step[];
  /** Set by `<!-- docs-test: skip REASON -->` just before the block. */
  skip?: string;
}

export interface DocOptions {
  /** Where the session starts, relative to the repository root (default: the file's folder). */
  cwd?: string;
  /** Start in a project made by `slipway init demo --template NAME`, and read its README.md. */
  init?: string;
}

const MARKER = /^<!--\s*docs-test(?::\s*(.*?))?\s*-->\s*$/;

/** The file's options if it opts in (`<!-- docs-test … -->` on a line of its own), else undefined. */
export function docOptions(markdown: string): DocOptions | undefined {
  for (const line of markdown.split("\n")) {
    const m = MARKER.exec(line.trim());
    if (!m || /^skip\b/.test(m[1] ?? "")) continue;
    const options: DocOptions = {};
    for (const part of (m[1] ?? "").split(/\s+/).filter(Boolean)) {
      const [key, value] = part.split("=", 2);
      if (key === "cwd" && value) options.cwd = value;
      else if (key === "init" && value) options.init = value;
      else throw new Error(`unknown docs-test option "${part}" (known: cwd=PATH, init=TEMPLATE)`);
    }
    return options;
  }
  return undefined;
}

/** Every ```console block: `$ ` lines are commands (a trailing `\` continues one), the rest is their output. */
export function parseBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  let skip: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const marker = MARKER.exec(text.trim());
    if (marker && /^skip\b/.test(marker[1] ?? "")) {
      skip = (marker[1] ?? "").replace(/^skip\s*/, "") || "skipped";
      continue;
    }
    if (!/^```console\s*$/.test(text)) continue;
    const block: Block = { line: i + 1, steps: [], skip };
    skip = undefined;
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) {
      const l = lines[i]!;
      if (l.startsWith("$ ")) {
        let command = l.slice(2);
        const line = i + 1;
        while (command.endsWith("\\") && i + 1 < lines.length) command = `${command.slice(0, -1)}\n${lines[++i]!}`;
        block.steps.push({ command, expected: [], line });
      } else if (block.steps.length) {
        block.steps.at(-1)!.expected.push(l);
      } else if (l.trim()) {
        throw new Error(`line ${i + 1}: a console block must start with a "$ " command line`);
      }
    }
    for (const s of block.steps) while (s.expected.length && !s.expected.at(-1)!.trim()) s.expected.pop();
    blocks.push(block);
  }
  return blocks;
}

/** Replacements applied to both the shown and the printed output: values that differ on every run. */
export function normalize(text: string, paths: Array<[from: string, to: string]> = []): string {
  let t = text;
  for (const [from, to] of paths) if (from) t = t.split(from).join(to);
  return t
    .replace(/\/tmp\/[A-Za-z0-9._-]+/g, "/tmp/<tmp>")
    .replace(/\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?Z\b/g, "<time>")
    .replace(/\b\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:-\d+)?Z\b/g, "<time>")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<uuid>")
    .replace(/\b[dr](?=[0-9a-z]*\d)[0-9a-z]{14}\b/g, "<id>")
    .replace(/\b[0-9a-f]{64}\b/g, "<sha256>")
    .replace(/\b(127\.0\.0\.1|localhost):\d+\b/g, "$1:<port>")
    .replace(/\bpid \d+\b/g, "pid <pid>")
    .replace(/\b\d+(?:\.\d+)? ?ms\b/g, "<ms>")
    .replace(/\b\d+\.\d+s\b/g, "<s>")
    .replace(/\bin \d+(?:\.\d+)?s\b/g, "in <s>");
}

/** Lines compared with runs of spaces collapsed and trailing spaces dropped. */
const squash = (line: string) => line.replace(/[ \t]+/g, " ").trimEnd();

/** Whether one printed line matches one shown line (both normalised; `…` in the shown line matches any text). */
export function lineMatches(expected: string, actual: string): boolean {
  return lineMatcher(squash(expected))(squash(actual));
}

function lineMatcher(expected: string): (actual: string) => boolean {
  if (!expected.includes("…")) return (actual) => actual === expected;
  const re = new RegExp(`^${expected.split("…").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*?")}$`);
  return (actual) => re.test(actual);
}

/**
 * Whether `actual` lines match `expected` lines: a line `...` matches any number of lines, `…` inside
 * a line matches any text. Returns the first expected line that could not be matched, or undefined.
 */
export function matchLines(expected: string[], actual: string[]): { ok: true } | { ok: false; expectedLine: number; actualLine: number } {
  const exp = expected.map(squash);
  const act = actual.map(squash);
  const matchers = exp.map((e) => (e.trim() === "..." ? undefined : lineMatcher(e)));
  const memo = new Map<string, boolean>();
  let furthest = { e: 0, a: 0 };
  const go = (e: number, a: number): boolean => {
    const key = `${e},${a}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    if (e > furthest.e || (e === furthest.e && a > furthest.a)) furthest = { e, a };
    let r: boolean;
    if (e === exp.length) r = a === act.length;
    else if (matchers[e] === undefined) r = go(e + 1, a) || (a < act.length && go(e, a + 1));
    else r = a < act.length && matchers[e]!(act[a]!) && go(e + 1, a + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0) ? { ok: true } : { ok: false, expectedLine: furthest.e, actualLine: furthest.a };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A bash process that runs one command at a time and returns its merged output and exit code. */
export class Session {
  private readonly bash: ChildProcessWithoutNullStreams;
  private buffer = "";
  private waiting?: (chunk: string) => void;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.bash = spawn("bash", ["--noprofile", "--norc"], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    this.bash.stdout.setEncoding("utf8");
    this.bash.stderr.setEncoding("utf8");
    const take = (d: string) => {
      this.buffer += d;
      this.waiting?.(d);
    };
    this.bash.stdout.on("data", take);
    this.bash.stderr.on("data", take);
    this.bash.stdin.write("exec 2>&1\n");
  }

  async run(command: string, timeoutMs = 180_000): Promise<{ output: string; code: number }> {
    const sentinel = `__DOCS_TEST_DONE_${Math.random().toString(36).slice(2)}__`;
    this.buffer = "";
    // A group, not a subshell: `cd` and `export` carry over to the next command. No command reads the
    // session's own stdin.
    this.bash.stdin.write(`{ ${command}\n} </dev/null 2>&1; printf '\\n${sentinel} %s\\n' "$?"\n`);
    const done = new RegExp(`\\n${sentinel} (\\d+)\\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = done.exec(this.buffer);
      if (m) {
        const output = this.buffer.slice(0, m.index);
        this.buffer = "";
        return { output, code: Number(m[1]) };
      }
      if (this.bash.exitCode !== null) throw new Error(`the bash session exited (code ${this.bash.exitCode}); output so far:\n${this.buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms; output so far:\n${this.buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiting = undefined;
    }
  }

  close(): void {
    this.bash.stdin.end();
    if (this.bash.exitCode === null) this.bash.kill("SIGKILL");
  }
}

export interface Sandbox {
  root: string;
  /** The session's starting folder. */
  cwd: string;
  /** The markdown to run (for init=…, the README of the new project). */
  markdown: string;
  env: NodeJS.ProcessEnv;
  paths: Array<[string, string]>;
  cleanup(): void;
}

const LINKED = ["bin", "dist", "node_modules", "package.json", "package-lock.json", "src", "tsconfig.json", "templates"];
const COPIED = ["examples", "README.md", "docs", "clients"];

/**
 * A throw-away world for one file: a clone-like copy of the repository (examples copied, the rest
 * linked), HOME in a temporary folder, `slipway` on PATH, a free port, a fixed user.
 */
export async function makeSandbox(repo: string, file: string, options: DocOptions): Promise<Sandbox> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "slipway-docs-")));
  const clone = join(root, "slipway");
  const home = join(root, "home", "alice");
  const tmp = join(root, "tmp");
  const bin = join(root, "bin");
  for (const d of [clone, home, tmp, bin]) mkdirSync(d, { recursive: true });
  for (const name of LINKED) if (existsSync(join(repo, name))) symlinkSync(join(repo, name), join(clone, name));
  for (const name of COPIED) if (existsSync(join(repo, name))) cpSync(join(repo, name), join(clone, name), { recursive: true });
  writeFileSync(join(bin, "slipway"), `#!/bin/sh\nexec "${process.execPath}" "${join(repo, "bin", "slipway.cjs")}" "$@"\n`);
  chmodSync(join(bin, "slipway"), 0o755);

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(SLIPWAY_|NODE_TEST|NODE_OPTIONS$|npm_)/.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: home,
    USER: "alice",
    LOGNAME: "alice",
    SLIPWAY_USER: "alice",
    SLIPWAY_SERVER_PORT: String(await freePort()),
    // Actions that may run in parallel print in a fixed order (see test/docs/README.md).
    SLIPWAY_PARALLELISM: "1",
    TMPDIR: tmp,
    NO_COLOR: "1",
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    npm_config_update_notifier: "false",
    npm_config_cache: join(process.env.HOME ?? home, ".npm"),
  });

  let cwd = options.cwd ? join(clone, options.cwd) : join(clone, dirname(relative(repo, file)));
  let markdown = readFileSync(file, "utf8");
  if (options.init) {
    cwd = join(root, "work", "demo");
    const r = spawnSync(process.execPath, [join(repo, "bin", "slipway.cjs"), "init", cwd, "--template", options.init], { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`slipway init --template ${options.init} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    markdown = readFileSync(join(cwd, "README.md"), "utf8");
  }
  // As a user would see them: the clone and new projects in /home/alice. Longest first.
  const paths: Array<[string, string]> = [
    [`${tmp}/`, "/tmp/"],
    [join(root, "work"), "/home/alice"],
    [clone, "/home/alice/slipway"],
    [home, "/home/alice"],
    [root, "/tmp/docs"],
  ];
  return {
    root,
    cwd,
    markdown,
    env,
    paths,
    cleanup() {
      stopServers(root, repo, env);
      spawnSync("chmod", ["-R", "u+rwX", root]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Stops every Slipway server a session started (each home under the root with a server.json). */
function stopServers(root: string, repo: string, env: NodeJS.ProcessEnv): void {
  const walk = (dir: string, depth: number): void => {
    if (depth > 6) return;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    if (entries.includes("server.json")) spawnSync(process.execPath, [join(repo, "bin", "slipway.cjs"), "server", "stop"], { env: { ...env, SLIPWAY_HOME: dir }, stdio: "ignore" });
    for (const e of entries) {
      const p = join(dir, e);
      try {
        const st = lstatSync(p);
        if (st.isDirectory() && !st.isSymbolicLink()) walk(p, depth + 1);
      } catch {
        /* gone meanwhile */
      }
    }
  };
  walk(root, 0);
}
