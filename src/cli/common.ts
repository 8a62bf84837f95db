// Option parsing shared by every command, the terminal reporter, and the one place that maps errors
// to exit codes.
import { createInterface } from "node:readline/promises";
import { Command, InvalidArgumentError, Option } from "commander";
import { formatDiagnostic, InvalidInputError, printable, SlipwayError, type ExitCode } from "../errors.js";
import type { Reporter } from "../engine/reporter.js";
import { readRuntimeEnv, type RuntimeEnv } from "../env.js";
import type { OperationContext, ProjectOptions } from "../operations/context.js";
import { Output } from "./output.js";

export interface CommonFlags {
  target?: string;
  project?: string;
  var?: string[];
  json?: boolean;
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
    for (const [key, value] of Object.entries(program.opts())) {
      const v = key === "target" && Array.isArray(value) && !MANY_TARGETS.has(action) ? value.at(-1) : value;
      if (action.getOptionValue(key) === undefined) action.setOptionValue(key, v);
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
  return { dir: flags.project ?? ".", target: flags.target, vars };
}

export interface CommandRuntime {
  env: RuntimeEnv;
  out: Output;
  ctx: OperationContext;
}

export function makeRuntime(flags: CommonFlags): CommandRuntime {
  const env = readRuntimeEnv();
  const out = new Output(!!flags.json, env.color && !!process.stdout.isTTY && !flags.json);
  const interactive = !!process.stdin.isTTY && !!process.stdout.isTTY && !flags.json;
  const ctx: OperationContext = { env, reporter: terminalReporter(out), confirm: interactive ? (q) => ask(q) : undefined };
  return { env, out, ctx };
}

function terminalReporter(out: Output): Reporter {
  return {
    secrets: (values) => (out.secrets = [...values]),
    info: (m) => out.line(m),
    warn: (m) => out.err(out.style("yellow", `warning: ${m}`)),
    actionStarted: (a) => {
      if (a.kind === "hook") out.line(out.style("cyan", `  ${a.action === "delete" ? "destroying" : "running"} ${a.address}`));
    },
    actionFinished: (a, r) => {
      if (r.ok) out.line(`  ${out.style("green", "done")} ${a.action.padEnd(7)} ${a.address} ${out.style("dim", `(${r.ms} ms)`)}`);
      else out.line(`  ${out.style("red", "FAILED")} ${a.action.padEnd(7)} ${a.address}: ${r.error}`);
    },
    output: (address, stream, line) => {
      const text = `    ${out.style("dim", "│")} ${line}`;
      if (stream === "stderr") out.err(text);
      else out.line(text);
    },
  };
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

/** Runs a command body, printing errors the same way everywhere; returns the exit code. */
export async function execute(flags: CommonFlags, body: (rt: CommandRuntime) => Promise<ExitCode | void>): Promise<ExitCode> {
  let rt: CommandRuntime | undefined;
  try {
    rt = makeRuntime(flags);
    return (await body(rt)) ?? 0;
  } catch (e) {
    return reportError(e, rt?.out ?? new Output(!!flags.json, false));
  }
}

export function reportError(e: unknown, out: Output): ExitCode {
  if (e instanceof InvalidInputError) {
    if (out.json) {
      out.document({ ok: false, error: { code: e.code, message: e.message, diagnostics: e.diagnostics.map((d) => ({ ...d.location, message: d.message, hint: d.hint })) } });
    } else {
      for (const d of e.diagnostics) out.err(formatDiagnostic(d));
      if (e.diagnostics.length > 1) out.err(`${e.diagnostics.length} problems found; nothing was changed.`);
    }
    return 2;
  }
  if (e instanceof SlipwayError) {
    if (out.json) out.document({ ok: false, error: { code: e.code, message: e.message, hint: e.hint, ...e.details } });
    else out.err(printable(`error: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`));
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  if (out.json) out.document({ ok: false, error: { code: "internal", message: err.message } });
  else out.err(printable(`error: ${err.message}${process.env.SLIPWAY_DEBUG ? `\n${err.stack}` : ""}`));
  return 1;
}
