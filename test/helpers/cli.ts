// Runs the real CLI (bin/slipway.cjs, built into dist/) as a child process against a temp SLIPWAY_HOME.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { provisionHome } from "./home-backends.js";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = join(REPO, "bin", "slipway.cjs");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  home: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs `slipway ARGS` in the project folder, synchronously. */
  run(args: string[], extraEnv?: NodeJS.ProcessEnv): CliResult;
  /** Like run, without blocking the event loop (tests running side by side, servers answering meanwhile). */
  runAsync(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** Like run, but parses stdout as the --json document. */
  json<T = any>(args: string[], extraEnv?: NodeJS.ProcessEnv): { code: number; doc: T; stderr: string };
  /** Starts `slipway ARGS` without waiting. */
  start(args: string[], extraEnv?: NodeJS.ProcessEnv): ChildProcess;
  write(files: Record<string, string>): void;
  cleanup(): void;
}

/** A temp project folder (with the given files) and a temp SLIPWAY_HOME. */
export function sandbox(files: Record<string, string>): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "slipway-test-"));
  const home = join(root, "home");
  const dir = join(root, "project");
  mkdirSync(dir, { recursive: true });
  // Under the backend matrix (SLIPWAY_TEST_BACKENDS), the home's config.yaml names them.
  const releaseBackends = provisionHome(home);
  const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: home, NO_COLOR: "1", SLIPWAY_USER: "tester", SLIPWAY_SERVER_PORT: "0" };
  delete env.SLIPWAY_FAILPOINT;
  // A developer's server or token must not turn the tests' commands into remote ones.
  delete env.SLIPWAY_SERVER;
  delete env.SLIPWAY_TOKEN;
  const box: Sandbox = {
    home,
    dir,
    env,
    run(args, extraEnv) {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: { ...env, ...extraEnv }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      return { code: r.status ?? 128 + (r.signal === "SIGKILL" ? 9 : 15), stdout: r.stdout, stderr: r.stderr };
    },
    async runAsync(args, extraEnv) {
      const r = await exited(box.start(args, extraEnv));
      return { code: r.code ?? 128 + (r.signal === "SIGKILL" ? 9 : 15), stdout: r.stdout, stderr: r.stderr };
    },
    json(args, extraEnv) {
      const r = box.run([...args, "--json"], extraEnv);
      let doc: any;
      try {
        doc = JSON.parse(r.stdout);
      } catch {
        throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
      }
      return { code: r.code, doc, stderr: r.stderr };
    },
    start(args, extraEnv) {
      return spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    },
    write(more) {
      for (const [path, content] of Object.entries(more)) {
        const full = join(dir, path);
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
        if (path.endsWith(".sh")) chmodSync(full, 0o755);
      }
    },
    cleanup() {
      // Stop the local server a deploy may have started for this home, by its pid.
      spawnSync(process.execPath, [BIN, "server", "stop"], { env, stdio: "ignore" });
      releaseBackends();
      rmSync(root, { recursive: true, force: true });
    },
  };
  box.write(files);
  return box;
}

/** Waits on a condition (see wait.ts). */
export { waitFor } from "./wait.js";

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  return new Promise((resolvePromise) => child.on("close", (code, signal) => resolvePromise({ code, signal, stdout, stderr })));
}
