// Outcomes that outlive the apply: a provider whose action is settled by one child process (a hook's
// script) starts it through a wrapper that writes the child's exit status to a file next to the
// deployment's log. Before the child starts, the apply writes what the action records if the child
// succeeds (its intent). If the apply's process dies, recovery reads both and finishes the action's
// bookkeeping — commits a success, records a failure, waits for (or kills) a child still running —
// instead of running the child again.
//
//   SLIPWAY_HOME/logs/<project>/<target>/<deployment>/actions/<seq>.json        the intent
//   SLIPWAY_HOME/logs/<project>/<target>/<deployment>/actions/<seq>-<n>.status  exit status of child n
//   SLIPWAY_HOME/logs/<project>/<target>/<deployment>/actions/<seq>-<n>.out|.err its output
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { iso, type Clock } from "../clock.js";
import type { RecordedResource } from "../resources.js";
import type { JournalRow, TargetState } from "../store/state/state-store.js";
import { FileFollower, killProcessGroup, processGroupAlive, readExitStatus, type DurableFiles } from "../util/run-script.js";
import type { ActionType } from "./plan.js";

/** What recovery needs to finish an action whose settling child outlived the apply. */
export interface ActionIntent {
  address: string;
  action: ActionType;
  seq: number;
  /** The child (1, 2, …) whose files these are: the latest one started for the action. */
  child: number;
  /** False for a child that does not end the action (the delete half of a replace). */
  settles: boolean;
  /** For create, update and replace: the record to commit when the child exits 0. */
  record?: Omit<RecordedResource, "createdAt" | "updatedAt"> & { createdAt?: string };
}

export function actionsDir(logDir: string): string {
  return join(logDir, "actions");
}

export function intentFile(logDir: string, seq: number): string {
  return join(actionsDir(logDir), `${seq}.json`);
}

export function childFiles(logDir: string, seq: number, child: number): DurableFiles {
  const base = join(actionsDir(logDir), `${seq}-${child}`);
  return { status: `${base}.status`, stdout: `${base}.out`, stderr: `${base}.err` };
}

/** Writes the intent, synced, before its child starts (a rename makes the write atomic). */
export function writeIntent(logDir: string, intent: ActionIntent): void {
  const file = intentFile(logDir, intent.seq);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, JSON.stringify(intent));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  syncDir(dirname(file));
}

export function readIntent(logDir: string, seq: number): ActionIntent | undefined {
  try {
    return JSON.parse(readFileSync(intentFile(logDir, seq), "utf8")) as ActionIntent;
  } catch {
    return undefined;
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not every platform can sync a folder */
  }
}

export interface SettleOptions {
  state: TargetState;
  clock: Clock;
  deploymentId: string;
  logDir: string;
  /** Kill a child still running instead of waiting for it (`--kill-orphans`). */
  killOrphans: boolean;
  warn(message: string): void;
  /** The output of a child being waited for, as it comes. */
  output?(address: string, stream: "stdout" | "stderr", line: string): void;
  /** How often to look at a child being waited for. */
  pollMs?: number;
}

export type Settled =
  | { address: string; outcome: "committed"; exitCode: 0 }
  | { address: string; outcome: "failed"; exitCode: number }
  | { address: string; outcome: "unknown"; reason: string };

/**
 * Settles one journal entry left `started` by a dead apply on this host, from its intent and its
 * child's status file. Returns undefined for an entry without a settling child (nothing to adopt).
 */
export async function settleEntry(entry: JournalRow, options: SettleOptions): Promise<Settled | undefined> {
  const intent = readIntent(options.logDir, entry.seq);
  if (!intent || !intent.settles || intent.address !== entry.address) return undefined;
  const files = childFiles(options.logDir, entry.seq, intent.child);
  const at = () => iso(options.clock.now());
  const journal = () => ({ deploymentId: options.deploymentId, seq: entry.seq, at: at() });

  let status = readExitStatus(files.status);
  let stopped = false;
  if (status === undefined && entry.child_pid && processGroupAlive(entry.child_pid)) {
    const pgid = entry.child_pid;
    if (options.killOrphans) {
      killProcessGroup(pgid);
      options.warn(`killed ${entry.address} (process group ${pgid}), left running by the interrupted deployment ${options.deploymentId} (--kill-orphans)`);
      await until(() => !processGroupAlive(pgid), options.pollMs);
      stopped = true;
    } else {
      options.warn(
        `${entry.address} (process group ${pgid}), started by the interrupted deployment ${options.deploymentId}, is still running: waiting for it to finish ` +
          `(its output follows; to stop it instead, interrupt this and run again with --kill-orphans)`,
      );
      const followers = options.output
        ? [new FileFollower(files.stdout, (l) => options.output!(entry.address, "stdout", l), true), new FileFollower(files.stderr, (l) => options.output!(entry.address, "stderr", l), true)]
        : [];
      try {
        await until(() => readExitStatus(files.status) !== undefined || !processGroupAlive(pgid), options.pollMs);
      } finally {
        for (const f of followers) f.stop();
      }
    }
    status = readExitStatus(files.status);
  }

  if (status === 0) {
    if (intent.action === "delete") {
      await options.state.commitDelete(entry.address, journal());
    } else if (intent.record) {
      const now = at();
      await options.state.commitPut({ ...intent.record, createdAt: intent.record.createdAt ?? now, updatedAt: now }, journal());
    } else {
      return { address: entry.address, outcome: "unknown", reason: "its intent has no record to commit" };
    }
    return { address: entry.address, outcome: "committed", exitCode: 0 };
  }
  if (status !== undefined) {
    await options.state.journalFail(options.deploymentId, entry.seq, at(), `exited with code ${status} after the deployment was interrupted`);
    return { address: entry.address, outcome: "failed", exitCode: status };
  }
  const reason = stopped ? "killed by --kill-orphans before it finished" : "it ended without an exit status (never started, or killed)";
  await options.state.journalFail(options.deploymentId, entry.seq, at(), reason);
  return { address: entry.address, outcome: "unknown", reason };
}

async function until(done: () => boolean, pollMs = 100): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, pollMs));
}
