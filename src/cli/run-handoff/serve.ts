// The server's side of `slipway run` handed over by a CLI (bin/run-handoff.cjs is the client's side).
// A CLI of the same build, on this machine, as the home's user (it read the admin token from
// server.json, mode 0600), sends its arguments, current folder and environment over the upgraded
// connection; this runs the same `run` command body the CLI would (src/cli/commands/run.ts), with the
// client's environment (user, variables, ${env.X}, the tasks' environment) and an Output that sends
// every stdout and stderr write to the client in order, then the exit code. What it cannot run exactly
// as the CLI would (another home, a remote target, --bundle, an executor that does not attach, input
// that does not parse or compile) it answers with "fallback" before doing anything: the CLI then runs
// the command itself, and says what is wrong the way it always does.
//
// Protocol (newline-delimited JSON after the HTTP upgrade to "slipway-run"):
//   client → server: one request line, then {"t":"cancel"} for each Ctrl-C (SIGINT, SIGTERM)
//   server → client: {"t":"fallback"} | {"t":"accepted","attached":bool}, then {"t":"o"|"e","d":text}…, {"t":"exit","code":n}
// A client that goes away before the exit cancels its attached run (its Ctrl-C can no longer reach it).
// The client's environment lives in the request's objects only: it is not logged, and nothing keeps
// it after the run (the compile cache keeps a hash of the values the project read, src/cli/run-handoff/compile-cache.ts).
import { StringDecoder } from "node:string_decoder";
import { isAbsolute, relative, resolve } from "node:path";
import type { Duplex } from "node:stream";
import { Command } from "commander";
import type { RuntimeEnv } from "../../env.js";
import type { HandoffHooks } from "../../serving/server.js";
import type { StorePool } from "../../store/open.js";
import { executeIn, inheritCommonOptions, runtimeWith, withCommonOptions } from "../common.js";
import { defineRun, runBody, type RunFlags } from "../commands/run.js";
import { Output } from "../output.js";
import { CompileCache } from "./compile-cache.js";

/** The request's largest line (arguments and environment). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
export const HANDOFF_PROTOCOL = 1;

interface HandoffRequest {
  v: number;
  build: string;
  home: string;
  cwd: string;
  argv: string[];
  env: Record<string, string>;
  /** Whether the client's stdout is a terminal (colours, as the CLI decides them). */
  tty: boolean;
}

export interface HandoffOptions {
  /** The server's home: a client of another home runs in-process. */
  home: string;
  build: string;
  log(line: string): void;
}

export async function runHandoff(options: HandoffOptions): Promise<HandoffHooks & { compiles: CompileCache }> {
  const active = new Map<Duplex, { cancel: AbortController; done: Promise<void> }>();
  const [{ compile }, { StorePool }] = await Promise.all([import("../../operations/context.js"), import("../../store/open.js")]);
  const compiles = new CompileCache(compile);
  // The runs share the server's SQLite connections (opening one costs more than a no-op run).
  const pool = new StorePool();
  return {
    compiles,
    accept(socket, head) {
      socket.write("HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: slipway-run\r\n\r\n");
      let buffered = head.length ? head.toString("utf8") : "";
      let request: HandoffRequest | undefined;
      let run: { cancel: AbortController } | undefined;
      const onLine = (line: string) => {
        if (!request) {
          try {
            request = JSON.parse(line) as HandoffRequest;
          } catch {
            return void socket.end(frame({ t: "fallback" }));
          }
          const cancel = new AbortController();
          run = { cancel };
          const done = serve(request, socket, cancel.signal, options, compiles, pool)
            .catch((e: Error) => {
              options.log(`run handed over by a CLI: ${e.message}`);
              if (!socket.destroyed) socket.end(frame({ t: "fallback" }));
            })
            .finally(() => active.delete(socket));
          active.set(socket, { cancel, done });
          return;
        }
        if (line.includes('"cancel"')) run?.cancel.abort();
      };
      const take = () => {
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          onLine(line);
        }
        if (buffered.length > MAX_REQUEST_BYTES) socket.destroy();
      };
      // (An HTTP server's socket refuses setEncoding: a decoder keeps characters split between chunks whole.)
      const decoder = new StringDecoder("utf8");
      socket.on("data", (chunk: Buffer) => {
        buffered += decoder.write(chunk);
        take();
      });
      socket.on("error", () => {});
      // The client is gone (killed, or its terminal closed): its attached run is cancelled.
      socket.on("close", () => run?.cancel.abort());
      take();
    },
    busy: () => active.size > 0,
    async stop() {
      for (const r of active.values()) r.cancel.abort();
      await Promise.all([...active.values()].map((r) => r.done));
      await pool.close();
    },
  };
}

function frame(value: unknown): string {
  return JSON.stringify(value) + "\n";
}

/** Runs one handed-over `run`, or answers "fallback" when the CLI must run it itself. */
async function serve(request: HandoffRequest, socket: Duplex, cancel: AbortSignal, options: HandoffOptions, compiles: CompileCache, pool: StorePool): Promise<void> {
  const fallback = () => void socket.end(frame({ t: "fallback" }));
  const prepared = await prepare(request, options, compiles);
  if (!prepared) return fallback();
  // The client gave up waiting (or is gone): it runs the command itself, so nothing starts here.
  if (socket.destroyed || !socket.writable) return;
  const { job, flags } = prepared;
  const env = { ...prepared.env, storePool: pool };
  const send = (value: unknown) => {
    if (!socket.destroyed && socket.writable) socket.write(frame(value));
  };
  send({ t: "accepted", attached: !!flags.wait });
  const out = new Output(!!flags.json, env.color && request.tty && !flags.json, { stdout: (d) => send({ t: "o", d }), stderr: (d) => send({ t: "e", d }) });
  const rt = runtimeWith(env, out, undefined, { cancel, compile: (p, e) => compiles.compile(p, e) });
  const code = await executeIn(() => rt, flags, runBody(job, flags));
  if (!socket.destroyed) socket.end(frame({ t: "exit", code }));
}

/**
 * The client's command as this server would run it, or undefined when the CLI must run it itself
 * (checked before anything is done: nothing printed, nothing recorded).
 */
async function prepare(request: HandoffRequest, options: HandoffOptions, compiles: CompileCache): Promise<{ env: RuntimeEnv; job: string; flags: RunFlags } | undefined> {
  if (!request || typeof request !== "object" || request.v !== HANDOFF_PROTOCOL || request.build !== options.build) return undefined;
  if (typeof request.cwd !== "string" || !isAbsolute(request.cwd) || typeof request.home !== "string" || resolve(request.home) !== options.home) return undefined;
  if (!Array.isArray(request.argv) || !request.argv.every((a) => typeof a === "string") || !request.env || typeof request.env !== "object") return undefined;
  const parsed = parseRun(request.argv);
  if (!parsed || parsed.flags.bundle !== undefined) return undefined;
  // The client's environment, as its process.env would be (strings only; "__proto__" is no name of a variable here).
  const processEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(request.env)) if (typeof v === "string" && k !== "__proto__") processEnv[k] = v;
  const [{ readRuntimeEnv }, { remoteFor }, { projectOptions }, { executorFor }] = await Promise.all([import("../../env.js"), import("../remote.js"), import("../common.js"), import("../../executors/index.js")]);
  let env: RuntimeEnv;
  try {
    // SLIPWAY_HOME as the client resolved it (from its folder): this server's home, checked above.
    env = { ...readRuntimeEnv(processEnv), home: options.home };
    if (remoteFor(env, parsed.flags)) return undefined;
  } catch {
    return undefined;
  }
  // The project folder from the client's folder, shown in messages as the client would show it.
  const dir = resolve(request.cwd, parsed.flags.project ?? ".");
  const flags: RunFlags = { ...parsed.flags, project: dir, shownDir: relative(request.cwd, dir) || "." };
  try {
    const compiled = compiles.compile(projectOptions(flags), env);
    const target = compiled.project.target.config;
    // An executor that does not attach (Slurm, Kubernetes) is followed by polling, with this process's signals: the CLI does it.
    if (!executorFor(target).capabilities.attach) return undefined;
    // A store path relative to the current folder would be this server's folder here.
    for (const path of [target.state?.path, (target.blobs as { path?: unknown } | undefined)?.path]) if (typeof path === "string" && !isAbsolute(path)) return undefined;
  } catch {
    return undefined;
  }
  return { env, job: parsed.job, flags };
}

/** `run`'s arguments parsed as the CLI parses them; undefined for anything else (help, usage errors, other commands). */
function parseRun(argv: string[]): { job: string; flags: RunFlags } | undefined {
  const silent = { writeOut: () => {}, writeErr: () => {} };
  const program = new Command("slipway").exitOverride().configureOutput(silent);
  withCommonOptions(program);
  inheritCommonOptions(program);
  let parsed: { job: string; flags: RunFlags } | undefined;
  defineRun(program, (job, flags) => void (parsed = { job, flags: { ...flags } }));
  try {
    program.parse(argv, { from: "user" });
  } catch {
    return undefined;
  }
  return parsed;
}
