// Runs a shell script (or a program) in its own process group, streaming its output line by line.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";

export interface ScriptRun {
  script: string;
  args?: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onLine(stream: "stdout" | "stderr", line: string): void;
  onStart?(pid: number): void | Promise<void>;
}

/** A program (not a script) run the same way: its own process group, output line by line. */
export interface ProcessRun {
  command: string;
  args?: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onLine(stream: "stdout" | "stderr", line: string): void;
  onStart?(pid: number): void | Promise<void>;
}

/** Resolves with the exit code (or 128+signal). The whole process group is killed on abort. */
export function runScript(run: ScriptRun): Promise<number> {
  const { script, args, ...rest } = run;
  return runProcess({ ...rest, command: "bash", args: [script, ...(args ?? [])] });
}

/** Resolves with the exit code (or 128+signal); rejects when the program cannot be started. */
export function runProcess(run: ProcessRun): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    // Stopped before it started: start nothing (a listener added to an aborted signal never fires).
    if (run.signal?.aborted) return resolvePromise(128 + 15);
    // With onStart (which records the process group, e.g. in the deploy journal), the program waits
    // until that record is written: a crash between the start and the record can then never leave a
    // running program nobody knows about. A tiny bash wrapper holds it until a line arrives on stdin.
    const held = run.onStart !== undefined;
    const [command, args] = held ? ["bash", ["-c", 'read -r _; exec "$@"', "slipway-hold", run.command, ...(run.args ?? [])]] : [run.command, run.args ?? []];
    const child = spawn(command, args, { cwd: run.cwd, env: run.env, detached: true, stdio: [held ? "pipe" : "ignore", "pipe", "pipe"] });
    // On abort: SIGTERM to the whole group, SIGKILL for whatever is still there 2 s later.
    const killGroup = () => {
      if (!child.pid) return;
      const pgid = child.pid;
      try {
        process.kill(-pgid, "SIGTERM");
      } catch {
        return;
      }
      setTimeout(() => killProcessGroup(pgid), 2000).unref();
    };
    run.signal?.addEventListener("abort", killGroup, { once: true });
    child.on("error", reject);
    if (child.pid && held) {
      const release = () => child.stdin?.end("\n");
      child.stdin?.on("error", () => {});
      Promise.resolve(run.onStart!(child.pid)).then(release, release);
    }
    let open = 2;
    let exitCode: number | null = null;
    const finish = () => {
      if (open === 0 && exitCode !== null) {
        run.signal?.removeEventListener("abort", killGroup);
        resolvePromise(exitCode);
      }
    };
    for (const stream of ["stdout", "stderr"] as const) {
      const rl = createInterface({ input: child[stream]!, crlfDelay: Infinity });
      rl.on("line", (line) => run.onLine(stream, line));
      rl.on("close", () => {
        open--;
        finish();
      });
    }
    child.on("exit", (code, signal) => {
      exitCode = code ?? 128 + (signal ? signalNumber(signal) : 0);
      finish();
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

/**
 * True when a process with this pid exists (on this host) and has not exited. A zombie (exited, not
 * yet reaped: its parent died and PID 1, in some containers, does not reap) counts as gone.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    // Gone in between, or no /proc (not Linux), where kill(pid, 0) is all there is.
    return !(hasProc ??= existsSync("/proc/self/stat"));
  }
}
let hasProc: boolean | undefined;

/** Kills a process group left behind by a crashed apply, if it still runs. */
export function killProcessGroup(pid: number): boolean {
  try {
    process.kill(-pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}
