import { spawnSync } from "node:child_process";

export interface GitInfo {
  commit: string;
  /** Uncommitted changes under the folder. */
  dirty: boolean;
}

/** The commit checked out where `dir` lives, and whether `dir` has uncommitted changes; undefined outside git. */
export function gitInfo(dir: string): GitInfo | undefined {
  const head = spawnSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" });
  if (head.status !== 0) return undefined;
  const status = spawnSync("git", ["-C", dir, "status", "--porcelain", "--", "."], { encoding: "utf8" });
  return { commit: head.stdout.trim(), dirty: status.stdout.trim().length > 0 };
}
