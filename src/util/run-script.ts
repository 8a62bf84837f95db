// Runs a shell script (or a program) in its own process group, streaming its output line by line.
// With `durable`, a small wrapper in the same process group sends the program's output to files and
// writes its exit status to a file when it ends, so its outcome outlives the process that started it.
import { spawn } from "node:child_process";
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { createInterface } from "node:readline";

export interface ScriptRun {
  script: string;
  args?: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onLine(stream: "stdout" | "stderr", line: string): void;
  onStart?(pid: number): void | Promise<void>;
  durable?: DurableFiles;
}

/**
 * Where a durable child's wrapper keeps its output and writes its exit status (the decimal code, or
 * 128+signal, and a newline: written to `status.tmp`, synced, renamed to `status`, the folder synced).
 * The folder must exist.
 */
export interface DurableFiles {
  status: string;
  stdout: string;
  stderr: string;
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
  /** Output to files (followed and passed to onLine) and the exit status to a file, by a wrapper. */
  durable?: DurableFiles;
}

/**
 * The wrapper of a durable child: $1 "hold" or "go", $2 stdout file, $3 stderr file, $4 status file,
 * then the program. Held, it first waits for a line on fd 3 (see runProcess) and runs nothing on end
 * of file: the process that started it died before it could journal it.
 */
const DURABLE_WRAPPER = `if [ "$1" = hold ]; then read -r _ <&3 || exit 125; fi
out=$2 err=$3 status=$4
shift 4
exec </dev/null >>"$out" 2>>"$err" 3<&-
"$@"
rc=$?
printf '%s\\n' "$rc" >"$status.tmp"
sync "$status.tmp" 2>/dev/null
mv -f "$status.tmp" "$status"
sync "\${status%/*}" 2>/dev/null
exit "$rc"
`;

/** Resolves with the exit code (or 128+signal). The whole process group is killed on abort. */
export function runScript(run: ScriptRun): Promise<number> {
  const { script, args, ...rest } = run;
  return start({ ...rest, command: "bash", args: [script, ...(args ?? [])] }, true);
}

/** Resolves with the exit code (or 128+signal); rejects when the program cannot be started. */
export function runProcess(run: ProcessRun): Promise<number> {
  return start(run);
}

/**
 * Held (see below), the wrapper runs a bash script itself, with `.`, rather than starting another
 * bash for it: one shell fewer per task (a few ms). The script sees what `bash script args` gives it
 * ($0 the script's path, the arguments, the same messages naming the file and line; only `$-` has a
 * `c` more); `.` looks a bare file name up in PATH first, hence `./` before one.
 */
const HOLD = 'read -r _ <&3 || exit 125; exec 3<&-; exec "$@"';
const HOLD_AND_SOURCE = 'read -r _ <&3 || exit 125; exec 3<&-; . "$0" "$@"';

function start(run: ProcessRun, bashScript = false): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    // Stopped before it started: start nothing (a listener added to an aborted signal never fires).
    if (run.signal?.aborted) return resolvePromise(128 + 15);
    // With onStart (which records the process group, e.g. in the deploy journal), the program waits
    // until that record is written: a crash between the start and the record can then never leave a
    // running program nobody knows about. A tiny bash wrapper holds it until a line arrives on fd 3,
    // and runs nothing if fd 3 ends first (this process died). Not on stdin: Node's pipes are socket
    // pairs, and bash started with a socket on stdin and no SHLVL (a service, a Slurm job) takes itself
    // for a remote shell and sources ~/.bashrc, changing PATH under the program.
    const held = run.onStart !== undefined;
    const durable = run.durable;
    const program = [run.command, ...(run.args ?? [])];
    const [command, args] = durable
      ? ["bash", ["-c", DURABLE_WRAPPER, "slipway-durable", held ? "hold" : "go", durable.stdout, durable.stderr, durable.status, ...program]]
      : held && bashScript
        ? ["bash", ["-c", HOLD_AND_SOURCE, ...program.slice(1).map((a, i) => (i === 0 && !a.includes("/") ? `./${a}` : a))]]
        : held
          ? ["bash", ["-c", HOLD, "slipway-hold", ...program]]
          : [run.command, run.args ?? []];
    const child = spawn(command, args, { cwd: run.cwd, env: run.env, detached: true, stdio: ["ignore", durable ? "ignore" : "pipe", durable ? "ignore" : "pipe", held ? "pipe" : "ignore"] });
    const followers = durable ? [new FileFollower(durable.stdout, (line) => run.onLine("stdout", line)), new FileFollower(durable.stderr, (line) => run.onLine("stderr", line))] : [];
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
    child.on("error", (e) => {
      followers.forEach((f) => f.stop());
      reject(e);
    });
    if (child.pid && held) {
      const hold = child.stdio[3] as NodeJS.WritableStream | null;
      const release = () => hold?.end("\n");
      hold?.on("error", () => {});
      Promise.resolve(run.onStart!(child.pid)).then(release, release);
    }
    let open = durable ? 0 : 2;
    let exitCode: number | null = null;
    const finish = () => {
      if (open === 0 && exitCode !== null) {
        run.signal?.removeEventListener("abort", killGroup);
        for (const f of followers) f.stop();
        resolvePromise(exitCode);
      }
    };
    if (!durable) {
      for (const stream of ["stdout", "stderr"] as const) {
        const rl = createInterface({ input: child[stream]!, crlfDelay: Infinity });
        rl.on("line", (line) => run.onLine(stream, line));
        rl.on("close", () => {
          open--;
          finish();
        });
      }
    }
    child.on("exit", (code, signal) => {
      exitCode = code ?? 128 + (signal ? signalNumber(signal) : 0);
      finish();
    });
  });
}

/**
 * Follows a file another process appends to, passing on whole lines: polled while it runs, read to
 * the end (a last unterminated line included) by `stop`.
 */
export class FileFollower {
  private offset: number;
  private partial = "";
  private readonly timer: NodeJS.Timeout;

  /** `fromEnd`: skip what the file already holds. */
  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    fromEnd = false,
    everyMs = 100,
  ) {
    this.offset = fromEnd ? sizeOf(file) : 0;
    this.timer = setInterval(() => this.read(), everyMs);
    this.timer.unref();
  }

  read(): void {
    if (!existsSync(this.file)) return;
    let fd: number;
    try {
      fd = openSync(this.file, "r");
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return;
      const buffer = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += n;
      const lines = (this.partial + buffer.subarray(0, n).toString("utf8")).split("\n");
      this.partial = lines.pop()!;
      for (const line of lines) this.onLine(line);
    } finally {
      closeSync(fd);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.read();
    if (this.partial) this.onLine(this.partial);
    this.partial = "";
  }
}

function sizeOf(file: string): number {
  try {
    const fd = openSync(file, "r");
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

/** The exit status a durable child's wrapper wrote, or undefined while there is none. */
export function readExitStatus(file: string): number | undefined {
  try {
    const text = readFileSync(file, "utf8");
    return /^\d+\n$/.test(text) ? Number(text.trim()) : undefined;
  } catch {
    return undefined;
  }
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

/**
 * True while the process group led by `pgid` (a wrapper started by runProcess) is running: its leader
 * exists and, on Linux, is not a zombie (an orphan's new parent may never reap it).
 */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (process.platform !== "linux") return processAlive(pgid);
  try {
    const stat = readFileSync(`/proc/${pgid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Kills a process group left behind by a crashed apply, if it still runs. */
export function killProcessGroup(pid: number): boolean {
  try {
    process.kill(-pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}
