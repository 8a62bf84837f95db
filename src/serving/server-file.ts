// SLIPWAY_HOME/server.json: how clients find the local server (address, pid) and talk to its admin
// routes (a random token, file mode 0600).
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ServerInfo {
  pid: number;
  host: string;
  port: number;
  url: string;
  adminToken: string;
  startedAt: string;
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

export function writeServerInfo(home: string, info: ServerInfo): void {
  writeFileSync(serverFile(home), JSON.stringify(info, null, 2), { mode: 0o600 });
}

export function removeServerInfo(home: string, pid: number): void {
  if (readServerInfo(home)?.pid === pid) rmSync(serverFile(home), { force: true });
}
