// Option parsing shared by every command, the terminal reporter, and the one execute path every
// command goes through: it prints the command's --json document (from its view) or its text, and
// maps errors to exit codes from the registry (error-codes.ts), the only place exit codes come from.
import { createInterface } from "node:readline/promises";
import { Command, InvalidArgumentError, Option } from "commander";
import { exitCodeOf, type ExitCode } from "../error-codes.js";
import { formatDiagnostic, InvalidInputError, printable } from "../errors.js";
import type { CommandName, FieldsOf, UnsuccessfulCommand } from "../views/documents.js";
import { envelope } from "../views/envelope.js";
import type { ErrorJson } from "../views/error.js";
import { errorView } from "../views/error-view.js";
import { debugRequested, readRuntimeEnv, type RuntimeEnv } from "../env.js";
import type { OperationContext, ProjectOptions } from "../operations/context.js";
import { progressReporter, type ProgressEvent } from "../views/progress.js";
import { Output } from "./output.js";
import { printProgress } from "./render.js";

export interface CommonFlags {
  target?: string;
  project?: string;
  var?: string[];
  json?: boolean;
  /** Not an option: how messages show the project folder when the server runs a client's command (ProjectOptions.shownDir). */
  shownDir?: string;
}

/** Adds -t/--target, --project, --var and --json to a command. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option("-t, --target <name>", "target (environment) to use; default: the target marked default")
    .option("--project <dir>", "project folder holding slipway.yaml (default: the current folder)")
    .option("--var <name=value>", "set a variable (repeatable)", collect)
    .option("--json", "print a stable machine-readable JSON document");
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const MANY_TARGETS = new WeakSet<Command>();

/** Marks a command whose -t/--target is repeatable (it receives a list). */
export function allowManyTargets(cmd: Command): Command {
  MANY_TARGETS.add(cmd);
  return cmd;
}

/**
 * Lets the common options stand before the command too (`slipway -t prod deploy`): values given to
 * the program fill in whatever the command itself did not get.
 */
export function inheritCommonOptions(program: Command): void {
  // The program sees every -t (wherever it stands), so it collects them: commands that take several
  // targets (see allowManyTargets) get them all, the others the last one.
  program.options.find((o) => o.long === "--target")?.argParser(collect);
  program.hook("preAction", (_program, action) => {
    // A parent command with the same options (`runs` for `runs show`) takes them wherever they stand
    // too: the nearest parent's value first, the program's last.
    for (let parent = action.parent; parent; parent = parent.parent) {
      for (const [key, value] of Object.entries(parent.opts())) {
        const v = key === "target" && Array.isArray(value) && !MANY_TARGETS.has(action) ? value.at(-1) : value;
        if (action.getOptionValue(key) === undefined && v !== undefined) action.setOptionValue(key, v);
      }
    }
  });
}

export function intOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser((v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got "${v}"`);
    return n;
  });
}

export function projectOptions(flags: CommonFlags): ProjectOptions {
  const vars: Record<string, string> = Object.create(null); // --var __proto__=x is a variable like any other
  const problems = [];
  for (const pair of flags.var ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) problems.push({ message: `--var "${pair}" is not NAME=value`, hint: "write --var catalog=main" });
    else vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (problems.length) throw new InvalidInputError(problems, "invalid_flag");
  return { dir: flags.project ?? ".", target: flags.target, vars, ...(flags.shownDir !== undefined ? { shownDir: flags.shownDir } : {}) };
}

export interface CommandRuntime {
  env: RuntimeEnv;
  out: Output;
  ctx: OperationContext;
  /** Prints one progress event (the operation's, embedded; the server's stream, remote). */
  progress: (event: ProgressEvent) => void;
  /** How a command heads the plan it shows before applying (deploy, destroy, rollback); unset: plans are not shown. */
  planHeading?: (where: string) => string;
}

export function makeRuntime(flags: CommonFlags): CommandRuntime {
  const env = readRuntimeEnv();
  const out = new Output(!!flags.json, env.color && !!process.stdout.isTTY && !flags.json);
  const interactive = !!process.stdin.isTTY && !!process.stdout.isTTY && !flags.json;
  return runtimeWith(env, out, interactive ? (q) => ask(q) : undefined);
}

/**
 * The runtime of a command given its environment and output: this process's (makeRuntime), or a
 * client's whose run the server executes (src/cli/run-handoff/serve.ts); `ctx` adds to the context.
 */
export function runtimeWith(env: RuntimeEnv, out: Output, confirm?: (question: string) => Promise<boolean>, ctx: Partial<OperationContext> = {}): CommandRuntime {
  const rt: CommandRuntime = { env, out, ctx: undefined as unknown as OperationContext, progress: (e) => printProgress(out, e, rt.planHeading) };
  // The reporter's calls become progress events, printed as the remote CLI prints the server's.
  const reporter = progressReporter((e) => rt.progress(e), (values) => (out.secrets = [...values]));
  rt.ctx = { env, reporter, confirm, controlPlaneAccess: async (project, target) => (await import("../server/control-plane.js")).localControlPlaneAccess(env)(project, target), ...ctx };
  return rt;
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`${question} Type "yes" to continue: `);
    return answer.trim().toLowerCase() === "yes";
  } finally {
    rl.close();
  }
}

/** What a command's body returns: its document's fields (from its view) and how to say it to a person. */
export interface Done<C extends CommandName> {
  fields: FieldsOf<C>;
  /** The human-readable output (skipped with --json, where the document is printed instead). */
  text?: () => void;
  /** The command finished with its result but not successfully (a failed deploy, a failed run): exit code from error.code. */
  error?: C extends UnsuccessfulCommand ? ErrorJson | undefined : never;
  /** Work that goes on after the document is printed (the foreground server, until a signal). */
  after?: () => Promise<void>;
}

/**
 * The execute path of every command: runs the body, prints its document (--json) or its text, sets the
 * exit code; a thrown error is printed the same way everywhere. `ok` is true exactly when the exit code is 0.
 */
export async function execute<C extends CommandName>(command: C, flags: CommonFlags, body: (rt: CommandRuntime) => Promise<Done<C>>): Promise<void> {
  setExit(await executeIn(() => makeRuntime(flags), flags, body));
}

/**
 * execute's path with the runtime `make` builds, giving the exit code instead of setting this
 * process's: the server runs a client's `run` through it (src/cli/run-handoff/serve.ts). `after` is
 * awaited before the code is returned.
 */
export async function executeIn<C extends CommandName>(make: () => CommandRuntime, flags: CommonFlags, body: (rt: CommandRuntime) => Promise<Done<C>>): Promise<ExitCode> {
  let rt: CommandRuntime | undefined;
  let printed = false;
  try {
    rt = make();
    const done = await body(rt);
    const error: ErrorJson | undefined = done.error;
    if (rt.out.json) rt.out.document(envelope(done.fields, error));
    else done.text?.();
    printed = true;
    const code = error ? exitCodeOf(error.code) : 0;
    if (done.after) {
      // The exit code is known before the work that goes on after the document (the foreground server).
      setExit(code);
      await done.after();
    }
    return code;
  } catch (e) {
    // After its document, a command reports a late error as text: stdout carries one document only.
    return reportError(e, printed ? new Output(false, false, rt?.out.sinkOf()) : (rt?.out ?? new Output(!!flags.json, false)), rt?.env.debug);
  }
}

export function setExit(code: ExitCode): void {
  process.exitCode = code;
}

export function reportError(e: unknown, out: Output, debug = debugRequested()): ExitCode {
  const error = errorView(e);
  if (out.json) {
    out.document(envelope({}, error));
  } else if (e instanceof InvalidInputError) {
    for (const d of e.diagnostics) out.err(formatDiagnostic(d));
    if (e.diagnostics.length > 1) out.err(`${e.diagnostics.length} problems found; nothing was changed.`);
  } else {
    out.err(printable(`error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ""}${error.code === "internal" && debug && e instanceof Error ? `\n${e.stack}` : ""}`));
  }
  return exitCodeOf(error.code);
}
