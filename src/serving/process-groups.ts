// Model processes never outlive their server. Two guards, because either alone has a gap:
// 1. Each `command` replica runs under a small bash wrapper that holds a pipe from the server (fd 3).
//    When the server dies, however it dies (kill -9 included), the kernel closes the server's end; the
//    wrapper's watcher reads end-of-file and kills its whole process group.
// 2. The server records the process group of every replica it starts in SLIPWAY_HOME/model-processes.json
//    (written on each start and exit). A starting server stops the groups a previous, dead server left
//    there (only the server holding server.lock does this, so they cannot belong to a live server).
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface GroupRecord {
  /** The process group id: the pid of the replica's wrapper, its leader. */
  pgid: number;
  /** The server that started it. */
  server_pid: number;
  label: string;
  /** The leader's start time (/proc/PID/stat field 22), to never kill a process that reused the pid. */
  start: string | null;
}

export const groupsFile = (home: string) => join(home, "model-processes.json");

/**
 * The wrapper a `command` replica runs under: `bash -c WRAPPER slipway-model COMMAND`. The command
 * runs without fd 3; a watcher waits for end-of-file on fd 3 (the server went away) and kills the
 * group. When the command exits by itself, the wrapper exits with its status (the supervisor restarts it).
 */
export const LIFELINE_WRAPPER = [
  'bash -c "$1" 3<&- &',
  "model=$!",
  "{ while read -r -u 3 _; do :; done; kill -KILL 0; } &",
  "watcher=$!",
  'wait "$model"; code=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join("\n");

/** The start time of a process (Linux), or null where /proc is not available. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function read(home: string): GroupRecord[] {
  const file = groupsFile(home);
  if (!existsSync(file)) return [];
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { groups?: GroupRecord[] }).groups ?? [];
  } catch {
    return [];
  }
}

/** The process groups of the running server's model replicas, kept in SLIPWAY_HOME/model-processes.json. */
export class ProcessGroups {
  private readonly groups = new Map<number, GroupRecord>();

  constructor(
    private readonly home: string,
    private readonly serverPid: number,
  ) {}

  add(pgid: number, label: string): void {
    this.groups.set(pgid, { pgid, server_pid: this.serverPid, label, start: processStartTime(pgid) });
    this.write();
  }

  remove(pgid: number): void {
    if (this.groups.delete(pgid)) this.write();
  }

  clear(): void {
    this.groups.clear();
    this.write();
  }

  private write(): void {
    const file = groupsFile(this.home);
    writeFileSync(`${file}.tmp`, JSON.stringify({ groups: [...this.groups.values()] }, null, 2), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  /**
   * Kills the groups recorded by servers that are gone. A group is killed when its leader still runs
   * with the recorded start time, or when the leader is gone but members remain (a group id is not
   * reused while any member lives). Returns how many groups were stopped.
   */
  stopLeftovers(): number {
    let stopped = 0;
    for (const g of read(this.home)) {
      if (g.server_pid === this.serverPid || !Number.isInteger(g.pgid) || g.pgid <= 1) continue;
      if (existsSync("/proc/self/stat")) {
        const start = processStartTime(g.pgid);
        // The leader runs: only if it is the very process recorded (not a new one with its pid).
        if (start !== null && start !== g.start) continue;
        // The leader is gone: members that remain still belong to the recorded group.
        if (start === null && !groupExists(g.pgid)) continue;
      } else if (!groupExists(g.pgid)) continue;
      try {
        process.kill(-g.pgid, "SIGKILL");
        stopped++;
      } catch {
        /* gone meanwhile */
      }
    }
    this.write();
    return stopped;
  }
}
