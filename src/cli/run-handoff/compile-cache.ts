// The server's compiled projects for runs handed over by CLIs (serve.ts): a repeat of `run` from an
// unchanged project costs a few stat() calls instead of a compile.
//
// What a compile depends on is recorded while it runs, not guessed: the compile is synchronous, so
// for its duration the file-system calls it makes (through the `fs` module object, which every module
// of the bundle calls through) are noted, and the environment is a revocable proxy that notes each
// variable read. An entry is reused when the same options and user ask again, every path it touched
// has the same fingerprint (type, size, mtime, ctime, inode; a folder's mtime changes when an entry is
// added or removed: include globs), and the variables it read have the same values. Files changed less
// than two seconds before the compile are not trusted (a second write within the same timestamp):
// such a compile is not kept. The environment's values are not kept: only a hash of those read.
// The proxy is revoked after the compile, so a compiled project can never read a later client's
// environment through a reference it kept (that would throw, and tests would show it).
import { createHash } from "node:crypto";
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import type { RuntimeEnv } from "../../env.js";
import type { CompiledProject } from "../../kinds/compile-project.js";
import type { ProjectOptions } from "../../operations/context.js";

type Compile = (options: ProjectOptions, env: RuntimeEnv) => CompiledProject;

interface Entry {
  compiled: CompiledProject;
  /** Path -> fingerprint at compile time. */
  paths: Map<string, string>;
  /** The variables read (undefined: the whole environment was listed). */
  envKeys: string[] | undefined;
  envHash: string;
  usedAt: number;
}

/** Entries kept at most (least recently used go first). */
const MAX_ENTRIES = 16;
/** A file changed this recently may change again within the same timestamp: not cached. */
const RACY_MS = 2000;
const WATCHED = ["readFileSync", "statSync", "lstatSync", "existsSync", "readdirSync", "realpathSync", "openSync", "accessSync"] as const;

export class CompileCache {
  private readonly entries = new Map<string, Entry>();
  hits = 0;
  misses = 0;
  constructor(private readonly compileNow: Compile) {}

  compile(options: ProjectOptions, env: RuntimeEnv): CompiledProject {
    const key = JSON.stringify([options.dir, options.target ?? null, sorted(options.vars), options.shownDir ?? null, sorted(env.varOverrides), env.user, env.home]);
    const hit = this.entries.get(key);
    if (hit && this.stillValid(hit, env.processEnv)) {
      hit.usedAt = performance.now();
      this.hits++;
      return hit.compiled;
    }
    this.entries.delete(key);
    this.misses++;
    const started = Date.now();
    const { compiled, paths, envKeys } = this.recorded(options, env);
    const racy = [...paths.values()].some((f) => f !== "-" && started - Number(f.split(":")[2]) < RACY_MS);
    if (!racy) {
      this.entries.set(key, { compiled, paths, envKeys, envHash: envHash(env.processEnv, envKeys), usedAt: performance.now() });
      if (this.entries.size > MAX_ENTRIES) {
        const oldest = [...this.entries.entries()].sort((a, b) => a[1].usedAt - b[1].usedAt)[0]![0];
        this.entries.delete(oldest);
      }
    }
    return compiled;
  }

  private stillValid(entry: Entry, processEnv: NodeJS.ProcessEnv): boolean {
    for (const [path, was] of entry.paths) if (fingerprint(path) !== was) return false;
    return envHash(processEnv, entry.envKeys) === entry.envHash;
  }

  /** Compiles with the file-system calls and the variables read noted (see above). */
  private recorded(options: ProjectOptions, env: RuntimeEnv): { compiled: CompiledProject; paths: Map<string, string>; envKeys: string[] | undefined } {
    const touched = new Set<string>();
    const keys = new Set<string>();
    let listed = false;
    const { proxy, revoke } = Proxy.revocable(env.processEnv, {
      get: (t, k) => (typeof k === "string" && keys.add(k), Reflect.get(t, k)),
      has: (t, k) => (typeof k === "string" && keys.add(k), Reflect.has(t, k)),
      getOwnPropertyDescriptor: (t, k) => (typeof k === "string" && keys.add(k), Reflect.getOwnPropertyDescriptor(t, k)),
      ownKeys: (t) => ((listed = true), Reflect.ownKeys(t)),
    });
    const mutable = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
    const originals = WATCHED.map((name) => [name, mutable[name]!] as const);
    for (const [name, original] of originals) {
      mutable[name] = function (this: unknown, ...args: unknown[]) {
        if (typeof args[0] === "string") touched.add(args[0]);
        return original.apply(this, args);
      };
      if (name === "realpathSync") Object.assign(mutable[name]!, { native: (original as unknown as { native: unknown }).native });
    }
    // Named imports of node:fs in ES modules (the sources run by tsx) see the change only after this; the bundle calls through the object.
    syncBuiltinESMExports();
    let compiled: CompiledProject;
    try {
      compiled = this.compileNow(options, { ...env, processEnv: proxy as NodeJS.ProcessEnv });
    } finally {
      for (const [name, original] of originals) mutable[name] = original;
      syncBuiltinESMExports();
      revoke();
    }
    const paths = new Map([...touched].map((p) => [p, fingerprint(p)]));
    return { compiled, paths, envKeys: listed ? undefined : [...keys].sort() };
  }
}

function sorted(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** What a path is now: "-" when absent, else type, mtime, ctime, size and inode (the target's too, for a link). */
function fingerprint(path: string): string {
  try {
    const l = fs.lstatSync(path);
    const own = `${l.isDirectory() ? "d" : l.isSymbolicLink() ? "l" : "f"}:${l.size}:${l.mtimeMs}:${l.ctimeMs}:${l.ino}`;
    if (!l.isSymbolicLink()) return own;
    const s = fs.statSync(path, { throwIfNoEntry: false });
    return `${own}>${s ? `${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.ino}` : "-"}`;
  } catch {
    return "-";
  }
}

function envHash(processEnv: NodeJS.ProcessEnv, keys: string[] | undefined): string {
  const names = keys ?? Object.keys(processEnv).sort();
  return createHash("sha256")
    .update(JSON.stringify(names.map((k) => [k, processEnv[k] ?? null])))
    .digest("hex");
}
