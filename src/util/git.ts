import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export interface GitInfo {
  commit: string;
  /** Uncommitted changes under the folder. */
  dirty: boolean;
}

/**
 * The commit checked out where `dir` lives, and whether `dir` has uncommitted changes; undefined outside
 * git. Outside a repository (no `.git` in `dir` or above it, and no GIT_DIR in `processEnv`, the
 * environment git is started with) git is not started at all, and inside one its two questions run
 * side by side: every `slipway run` records this, and starting git was a good part of a short run.
 */
export async function gitInfo(dir: string, processEnv: NodeJS.ProcessEnv): Promise<GitInfo | undefined> {
  if (!processEnv.GIT_DIR && !insideRepository(dir)) return undefined;
  const git = (args: string[]) =>
    new Promise<{ ok: boolean; stdout: string }>((done) => execFile("git", ["-C", dir, ...args], { encoding: "utf8", env: processEnv }, (error, stdout) => done({ ok: !error, stdout: stdout ?? "" })));
  const [head, status] = await Promise.all([git(["rev-parse", "HEAD"]), git(["status", "--porcelain", "--", "."])]);
  if (!head.ok) return undefined;
  return { commit: head.stdout.trim(), dirty: status.stdout.trim().length > 0 };
}

/** Whether `dir` or a folder above it holds `.git` (a folder, or a file in worktrees and submodules). */
function insideRepository(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return true;
    if (dirname(d) === d) return false;
  }
}
