// SLIPWAY_HOME/server.json: how clients find the local server (address, pid) and talk to its admin
// routes (a random token, file mode 0600).
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface ServerInfo {
  pid: number;
  host: string;
  port: number;
  url: string;
  adminToken: string;
  startedAt: string;
  /** The launcher's build identity (bin/slipway.cjs), when the server takes `run` handed over by a CLI of that build. */
  build?: string;
}

export const serverFile = (home: string) => join(home, "server.json");

export function readServerInfo(home: string): ServerInfo | undefined {
  const file = serverFile(home);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ServerInfo;
  } catch {
    return undefined;
  }
}

/** Written to a temporary file and renamed, so a client never reads a half-written server.json. */
export function writeServerInfo(home: string, info: ServerInfo): void {
  const file = serverFile(home);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}

export function removeServerInfo(home: string, pid: number): void {
  if (readServerInfo(home)?.pid === pid) rmSync(serverFile(home), { force: true });
}

/**
 * One server per home: claims SLIPWAY_HOME/server.lock (created exclusively, holding the pid).
 * A lock whose process is gone is taken over. Returns false when a live server holds it.
 */
export function claimServerLock(home: string, pid: number, alive: (pid: number) => boolean): boolean {
  const file = join(home, "server.lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(pid));
      closeSync(fd);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = Number(readFileSync(file, "utf8"));
      if (holder && holder !== pid && alive(holder)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

export function releaseServerLock(home: string, pid: number): void {
  const file = join(home, "server.lock");
  if (existsSync(file) && Number(readFileSync(file, "utf8")) === pid) rmSync(file, { force: true });
}
