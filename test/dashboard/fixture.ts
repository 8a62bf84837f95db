// A real server holding a real deployment for the dashboard's browser tests (and screenshots): the
// quickstart project plus a slow job (for following logs live), deployed through `slipway --server`
// in three revisions, runs, a model with versions and an alias, a served endpoint with requests in its
// inference table, and a viewer (CAN_VIEW on quickstart/dev) with a token of its own.
// Standalone: `node --import tsx test/dashboard/fixture.ts` prints the URL and tokens and keeps it running.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { BIN, exited, REPO } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

export interface DashboardFixture {
  server: TestServer;
  viewerToken: string;
  dir: string;
  cli(args: string[], token?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

const SLOW_MODULE = `module: ops
depends_on: [core]
phase: 1
resources:
  jobs:
    slow:
      title: Slow report
      description: Prints a line every 300 ms (for following logs live)
      command: 'for i in $(seq 1 $SLIPWAY_PARAM_lines); do echo "report line $i"; sleep 0.3; done'
      params: { lines: "20" }
  pipelines:
    release:
      description: a report, then an approval before the wait
      stages:
        - { name: report, type: run, job: slow, params: { lines: "2" } }
        - { name: approve, type: approval, approvers: [admin], prevent_self_review: false, message: "ship the report?" }
        - { name: settle, type: wait, duration: 1s }
`;

export async function startDashboardFixture(options: { iris?: boolean } = {}): Promise<DashboardFixture> {
  const server = await startTestServer({ SLIPWAY_PARALLELISM: "2", NODE_PATH: join(REPO, "node_modules") });
  const root = mkdtempSync(join(tmpdir(), "slipway-dash-"));
  const dir = join(root, "quickstart");
  cpSync(join(REPO, "examples", "quickstart"), dir, { recursive: true });
  mkdirSync(join(dir, "modules", "ops"), { recursive: true });
  writeFileSync(join(dir, "modules", "ops", "module.yaml"), SLOW_MODULE);
  const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: join(root, "client-home"), NO_COLOR: "1", SLIPWAY_SERVER: server.url };
  delete env.SLIPWAY_FAILPOINT;
  const cli = async (args: string[], token = server.token) => {
    const child = spawn(process.execPath, [BIN, ...args, "--project", dir], { cwd: dir, env: { ...env, SLIPWAY_TOKEN: token }, stdio: ["ignore", "pipe", "pipe"] });
    const r = await exited(child);
    return { code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
  const must = async (args: string[], token?: string) => {
    const r = await cli(args, token);
    if (r.code !== 0) throw new Error(`slipway ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  try {
    await populate(must, dir, options);
  } catch (e) {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const viewerToken = JSON.parse(await must(["tokens", "create", "--user", "viewer", "--description", "dashboard test", "--json"])).token as string;
  return {
    server,
    viewerToken,
    dir,
    cli,
    async stop() {
      await cli(["destroy", "--yes"]).catch(() => undefined);
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function populate(must: (args: string[]) => Promise<string>, dir: string, options: { iris?: boolean }): Promise<void> {
  await must(["deploy", "--phase", "1", "--yes"]);
  await must(["run", "slow", "--param", "lines=3", "--wait"]);
  if (options.iris !== false) {
    await must(["run", "train_iris", "--wait", "--param", "epochs=30"]);
    await must(["run", "train_iris", "--wait"]);
  }
  await must(["deploy", "--yes"]);
  if (options.iris !== false) {
    for (let i = 0; i < 5; i++) await must(["endpoints", "query", "iris-dev", "--data", '{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}']);
  }
  // A third revision that changes one setting, for the diff and the rollback.
  writeFileSync(join(dir, "modules", "core", "module.yaml"), readFileSync(join(dir, "modules", "core", "module.yaml"), "utf8").replace("region: local-1", "region: local-2"));
  await must(["deploy", "--yes"]);
  await must(["users", "create", "viewer"]);
  await must(["permissions", "grant", "CAN_VIEW", "quickstart/dev", "--user", "viewer"]);
}

if (process.argv[1]?.endsWith("fixture.ts")) {
  const f = await startDashboardFixture();
  console.log(JSON.stringify({ url: f.server.url, admin: f.server.token, viewer: f.viewerToken, home: f.server.home, files: readdirSync(f.dir) }));
  process.on("SIGTERM", () => void f.stop().then(() => process.exit(0)));
  process.on("SIGINT", () => void f.stop().then(() => process.exit(0)));
}
