// Shared pieces of the attack suite: a project skeleton and a CLI run with a time limit.
import { spawnSync } from "node:child_process";
import { BIN, sandbox, type CliResult, type Sandbox } from "../helpers/cli.js";

export const ROOT = `project: demo
include:
  - modules/*/module.yaml
targets:
  dev:
    default: true
`;

/** A project with one module (module.yaml given) and optional extra files. */
export function project(moduleYaml = "module: core\n", extra: Record<string, string> = {}): Sandbox {
  return sandbox({ "slipway.yaml": ROOT, "modules/core/module.yaml": moduleYaml, ...extra });
}

export interface TimedResult extends CliResult {
  ms: number;
  timedOut: boolean;
}

/** Runs `slipway ARGS` in the project folder; kills it after `timeoutMs` (a hang is a failure, not a stuck suite). */
export function runTimed(box: Sandbox, args: string[], timeoutMs = 15_000, extraEnv: NodeJS.ProcessEnv = {}): TimedResult {
  const started = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: box.dir, env: { ...box.env, ...extraEnv }, encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL", stdio: ["ignore", "pipe", "pipe"] });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started, timedOut: r.error !== undefined || r.signal === "SIGKILL" };
}

/** No stack trace and no internal error in anything the CLI printed. */
export function assertNoCrash(r: CliResult): void {
  const text = `${r.stdout}\n${r.stderr}`;
  if (/\n\s+at .+:\d+:\d+\)?\n/.test(text) || /Maximum call stack|RangeError|TypeError|ReferenceError|SyntaxError: |"code":\s*"internal"|Cannot read propert/.test(text)) {
    throw new Error(`the CLI crashed or leaked an internal error (exit ${r.code}):\n${text}`);
  }
}
