// A real `slipway server` for a test: its own temporary SLIPWAY_HOME, a free port on 127.0.0.1, and the
// first administrator's token from SLIPWAY_BOOTSTRAP_TOKEN. Stopped (by `slipway server stop`, which
// signals its pid) and its home removed by stop().
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, exited } from "./cli.js";
import { provisionHome } from "./home-backends.js";
import { waitFor } from "./wait.js";

export interface TestServer {
  url: string;
  /** The administrator's token (user "admin"). */
  token: string;
  home: string;
  stop(): Promise<void>;
}

export async function startTestServer(extraEnv: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const root = mkdtempSync(join(tmpdir(), "slipway-server-"));
  const home = join(root, "home");
  // Under the backend matrix (SLIPWAY_TEST_BACKENDS), the home's config.yaml names them.
  const releaseBackends = provisionHome(home);
  const token = `swt_test-admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: home, NO_COLOR: "1", SLIPWAY_BOOTSTRAP_TOKEN: token, ...extraEnv };
  for (const k of ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_FAILPOINT"]) delete env[k];
  const child = spawn(process.execPath, [BIN, "server", "--json", "--port", "0"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  const done = exited(child);
  let stdout = "";
  child.stdout!.on("data", (d) => (stdout += d));
  let url = "";
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${stdout}`);
      try {
        url = (JSON.parse(stdout) as { url: string }).url;
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000, what: "the server's document" },
  );
  return {
    url,
    token,
    home,
    async stop() {
      spawnSync(process.execPath, [BIN, "server", "stop"], { env, stdio: "ignore" });
      await done;
      releaseBackends();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
