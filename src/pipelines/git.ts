// The head commit of a git branch, for pipelines triggered by commits: `git ls-remote`, which reads a
// local path or a URL without cloning. The server polls it (src/server/background/pipelines.ts); each
// new head starts one run (the run's trigger key is the commit).
import { execFile } from "node:child_process";
import { isAbsolute, resolve } from "node:path";

/** The commit at the tip of `branch` in `repo` (a path relative to `cwd`, or a URL). */
export function branchHead(repo: string, branch: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<string> {
  const where = /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/]+@[^:]+:/.test(repo) || isAbsolute(repo) ? repo : resolve(cwd, repo);
  return new Promise((done, fail) => {
    execFile(
      "git",
      ["ls-remote", "--", where, `refs/heads/${branch}`],
      { cwd, env: { ...env, GIT_TERMINAL_PROMPT: "0" }, timeout: timeoutMs, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) return fail(new Error(`git ls-remote ${repo} ${branch}: ${(stderr || error.message).trim().split("\n").at(-1)}`));
        const sha = /^([0-9a-f]{40,64})\s/m.exec(stdout)?.[1];
        if (!sha) return fail(new Error(`${repo} has no branch ${branch}`));
        done(sha);
      },
    );
  });
}
