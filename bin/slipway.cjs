#!/bin/sh
":" //; case " $* " in *" run "*) [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ "${SLIPWAY_RUN_IN_PROCESS:-}" != 1 ] && [ -f "${SLIPWAY_HOME:-$HOME/.slipway}/server.json" ] && export SLIPWAY_DEFERRED_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS" && unset NODE_EXTRA_CA_CERTS;; esac
":" //; exec node "$0" "$@"
// Launcher: the two lines above are sh (to JavaScript, a string and a comment), this file is run by
// `sh` as an installed command and then by `node` (which resolves the link npm makes to it).
// `npm ci` builds dist/ through the `prepare` script; dist/cli.cjs is the bundled CLI.
//
// Why sh first: Node 20 reads the certificates NODE_EXTRA_CA_CERTS names, and all its own, when it
// starts, before any JavaScript runs (~50 ms where it names the system bundle, as on our CI machine;
// `node -e 0` takes 72 ms with it, 24 without). A `run` that a home's server will take (bin/run-
// handoff.cjs) only talks to 127.0.0.1, so it starts without them: the shell moves the variable to
// SLIPWAY_DEFERRED_EXTRA_CA_CERTS, which the code below puts back at once (the server runs the task
// with the client's environment as it was). When the server does not take the run, or the command
// was not `run` after all, this process runs the CLI again as a child with the variable set, since
// every other command may need those certificates (S3, a server behind TLS). `node bin/slipway.cjs`
// skips the shell lines: nothing is deferred.
//
// It compiles the bundle with a V8 code cache of its own (Node 20 has no compile cache; Node 22's
// module.enableCompileCache would do the same, and is turned on below where it exists, for the few
// packages outside the bundle). Why not v8-compile-cache, used before: it hashed the bundle, made V8
// produce a cache right after compiling (when only the top-level code is compiled, so most functions
// were compiled again on every run), and rewrote its 1 MB cache file at every exit. Here:
//  - one cache per command word (`run`, `deploy`, `--version`...), made by `script.createCachedData()`
//    when the process exits, so it holds every function that command compiled;
//  - written once, when missing or rejected by V8 (another Node, other flags), never on a normal run;
//  - in a folder of this user's only (0700, owned by us, not a symlink), else not used at all: a code
//    cache is code, and another user must not be able to plant one;
//  - keyed by the bundle's content hash, the Node version and the CPU architecture. Caches of older
//    builds of the same bundle path are removed when a new one is written.
// SLIPWAY_COMPILE_CACHE=0 turns it off; SLIPWAY_COMPILE_CACHE=DIR puts it in DIR instead of
// $TMPDIR/slipway-compile-cache-UID. A cache that cannot be read or written is ignored (no output).
"use strict";
const deferredCaCerts = process.env.SLIPWAY_DEFERRED_EXTRA_CA_CERTS;
if (deferredCaCerts !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = deferredCaCerts;
  delete process.env.SLIPWAY_DEFERRED_EXTRA_CA_CERTS;
}
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");

const bundle = path.join(__dirname, "..", "dist", "cli.cjs");
const argv = process.argv.slice(2);
Module.enableCompileCache?.(); // Node >= 22.1: the packages loaded from node_modules (better-sqlite3's JavaScript, pg)

function loadBundle() {
  const setting = process.env.SLIPWAY_COMPILE_CACHE;
  if (setting === "0" || setting === "off") return require(bundle);
  const vm = require("node:vm");
  const source = fs.readFileSync(bundle);
  const cache = cacheFile(setting, source);
  let cached;
  if (cache) {
    try {
      cached = fs.readFileSync(cache.file);
    } catch {
      cached = undefined;
    }
  }
  const script = new vm.Script(Module.wrap(source.toString("utf8")), {
    filename: bundle,
    cachedData: cached,
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cache && (!cached || script.cachedDataRejected)) {
    // This process writes the cache at its exit, from the code compiled by then. V8 drops the bytecode
    // of functions that have not run for a while (at garbage collections): a long first run (storing a
    // large bundle) would otherwise write a cache without the start-up code it ran first (1.0 MB
    // instead of 1.8 MB measured), and every later run would compile that code again (~100 ms of CPU).
    // Only the process that writes a cache keeps all its bytecode; servers and other runs do not.
    // The flag is set back before the cache is made: V8 stamps a cache with a hash of the flags, and a
    // cache made under other flags than the next runs' would be rejected by them.
    const v8 = require("node:v8");
    v8.setFlagsFromString("--no-flush-bytecode");
    process.once("exit", () => {
      v8.setFlagsFromString("--flush-bytecode");
      writeCache(cache, script);
    });
  }
  // The bundle runs as the CommonJS module dist/cli.cjs, as `require(bundle)` would run it.
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(path.dirname(bundle));
  Module._cache[bundle] = mod;
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
  mod.loaded = true;
  return mod.exports;
}

/** The cache file for this bundle, Node and command; undefined when there is no safe folder for it. */
function cacheFile(setting, source) {
  try {
    const os = require("node:os");
    const crypto = require("node:crypto");
    const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
    const root = setting || path.join(os.tmpdir(), `slipway-compile-cache-${uid ?? os.userInfo().username}`);
    const where = crypto.createHash("sha1").update(`${bundle}\0${process.version}\0${process.arch}`).digest("hex").slice(0, 16);
    const dir = path.join(root, where);
    for (const d of [root, dir]) {
      try {
        fs.mkdirSync(d, { mode: 0o700 });
      } catch (e) {
        if (e.code !== "EEXIST") return undefined;
      }
      const st = fs.lstatSync(d);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) return undefined;
    }
    const build = crypto.createHash("sha1").update(source).digest("hex").slice(0, 16);
    const word = commandWord() ?? argv[0] ?? "";
    const command = /^[a-z][a-z0-9-]{0,40}$/.test(word) ? word : /^--?[a-zA-Z-]{1,20}$/.test(word) ? word.replace(/^-+/, "_") : "_";
    return { dir, build, file: path.join(dir, `${build}-${command}.cache`) };
  } catch {
    return undefined;
  }
}

/** The command's first word: the first argument that is neither an option nor the value of one. */
function commandWord() {
  const valued = new Set(["-t", "--target", "--project", "--var", "--server"]);
  for (let i = 0; i < argv.length; i++) {
    if (valued.has(argv[i])) i++;
    else if (!argv[i].startsWith("-")) return argv[i];
  }
  return undefined;
}

function writeCache(cache, script) {
  try {
    const tmp = `${cache.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, cache.file);
    for (const name of fs.readdirSync(cache.dir)) if (!name.startsWith(`${cache.build}-`)) fs.rmSync(path.join(cache.dir, name), { force: true });
  } catch {
    // A cache is an optimisation: a full disk or a read-only TMPDIR only costs the next start its time.
  }
}

// ES-module-only dependencies loaded on demand (the Kubernetes client library) are imported through
// this function, compiled by Node.js itself: import() inside the bundle's vm.Script depends on
// importModuleDynamically support, which Node 20's older releases lack.
globalThis.__slipwayImport = (specifier) => import(specifier);

// The bundle's identity for `run`'s hand-over (bin/run-handoff.cjs): a server started from this very
// file (same path, size and modification time) writes it into server.json; a CLI hands its run over
// only to a server of its own build. SLIPWAY_RUN_IN_PROCESS=1 always runs it here.
function buildId() {
  try {
    const st = fs.statSync(bundle);
    return `${bundle}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}
const build = buildId();
globalThis.__slipwayBuild = build;

function start() {
  if (deferredCaCerts !== undefined) return again();
  loadBundle()
    .main(argv)
    .then((code) => {
      process.exitCode = code;
    });
}

/**
 * Runs the CLI again as a child, with NODE_EXTRA_CA_CERTS (deferred by the shell lines, and put back
 * in process.env above), and ends as it ends. The terminal's Ctrl-C reaches the child itself (the
 * same process group); a SIGTERM sent to this process alone is passed on.
 */
function again() {
  const child = require("node:child_process").spawn(process.execPath, [...process.execArgv, __filename, ...argv], { stdio: "inherit" });
  const onInt = () => {};
  const onTerm = () => child.kill("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  child.on("exit", (code, signal) => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code;
  });
}

if (commandWord() === "run" && process.env.SLIPWAY_RUN_IN_PROCESS !== "1") {
  require("./run-handoff.cjs")(argv, build).then((code) => {
    if (code === undefined) start();
    else process.exitCode = code;
  });
} else start();
