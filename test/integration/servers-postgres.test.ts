// Two real `slipway server` processes, each with its own SLIPWAY_HOME and port, whose config.yaml names
// the same PostgreSQL database (a fresh one on the server `npm test` starts). A client works through
// the remote CLI against either. What must hold (docs/scale-out.md, "Several servers on one PostgreSQL
// database"):
//   - a deploy through A holds the target's lock: a deploy through B meanwhile is refused (exit 3),
//     exactly as two local deploys;
//   - a run started on A is seen and cancelled through B (B records the request, A's runner stops);
//   - an endpoint deployed through A is served by B too (B follows the recorded endpoints), its model
//     files fetched into B's home;
//   - requests answered by A and by B are all in the one inference table: `endpoints logs` through
//     either shows both's; retention, run by both servers at once, archives each row exactly once;
//   - a schedule fires once per due time across both servers;
//   - after kill -9 of A: B keeps serving; a run whose runner outlived A finishes; a run whose runner
//     died with it is marked lost by B (the heartbeat rule); the schedule keeps firing, once.
// The two servers name themselves host-a and host-b (SLIPWAY_HOST_ID), as two machines would: neither
// can signal the other's processes, so everything crosses through the database.
import assert from "node:assert/strict";
import { adminSql } from "../helpers/state-backends.js";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { BIN, exited, sandbox, type Sandbox } from "../helpers/cli.js";
import { IRIS_REGISTER_PY, withIrisModel } from "../helpers/projects.js";
import { waitFor, waitForValue } from "../helpers/wait.js";

const PG_URL = process.env.SLIPWAY_TEST_PG_URL || undefined;

/** An offset that puts every process's clock `ms` before the next minute boundary (the schedule's first fire). */
function offsetBefore(ms: number): number {
  const now = Date.now();
  return (60_000 - (now % 60_000) - ms + 120_000) % 60_000;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Server {
  name: string;
  home: string;
  url: string;
  child: ChildProcess;
  done: Promise<unknown>;
  log(): string;
}

describe("two servers on one PostgreSQL database", { skip: PG_URL ? false : "SLIPWAY_TEST_PG_URL is not set (npm test starts a PostgreSQL server)" }, () => {
  const root = mkdtempSync(join(tmpdir(), "slipway-two-servers-"));
  const hold = join(root, "hold");
  const holding = join(root, "holding");
  const dbName = `slipway_two_${process.pid}_${randomBytes(4).toString("hex")}`;
  const dbUrl = (() => {
    if (!PG_URL) return "";
    const u = new URL(PG_URL);
    u.pathname = `/${dbName}`;
    return u.toString();
  })();
  const token = `swt_two-servers-${randomBytes(16).toString("hex")}`;
  // Every process (servers, their runners, the client) shares one moved clock: the schedule's first
  // fire comes some 40 s after the start instead of at a random point of the minute.
  const clock = { SLIPWAY_CLOCK_OFFSET_MS: String(offsetBefore(40_000)) };
  const servers: Record<"a" | "b", Server> = {} as never;
  let box: Sandbox;

  const admin = (sql: string) => adminSql(PG_URL!, sql);

  async function startServer(name: "a" | "b"): Promise<Server> {
    const home = join(root, name, "home");
    mkdirSync(home, { recursive: true });
    // The URL comes from the environment, as a team would keep the password out of the file.
    writeFileSync(join(home, "config.yaml"), `state: { type: postgres, url: "\${env.TEAM_PG_URL}" }\nblobs: { type: fs, path: ${JSON.stringify(join(root, "shared-blobs"))} }\n`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...clock,
      SLIPWAY_HOME: home,
      NO_COLOR: "1",
      TEAM_PG_URL: dbUrl,
      SLIPWAY_BOOTSTRAP_TOKEN: token,
      SLIPWAY_HOST_ID: `host-${name}`,
      // B does not look at the state on a timer (an hour): it hears of endpoints deployed, changed or
      // removed through A from PostgreSQL's notifications only. A looks every 300 ms.
      SLIPWAY_ENDPOINT_SYNC_MS: name === "b" ? "3600000" : "300",
      // Both servers trim the inference table often: their passes meet.
      SLIPWAY_INFERENCE_RETENTION_INTERVAL_MS: "200",
    };
    for (const k of ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_FAILPOINT", "SLIPWAY_USER"]) delete env[k];
    const child = spawn(process.execPath, [BIN, "server", "--json", "--port", "0", "--idle-exit", "0"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const done = exited(child);
    const url = await waitForValue(
      () => {
        if (child.exitCode !== null) throw new Error(`server ${name} exited (${child.exitCode}): ${out}`);
        return /"url":\s*"([^"]+)"/.exec(out)?.[1];
      },
      (u) => !!u,
      { timeoutMs: 30_000, what: `server ${name}'s document` },
    );
    return { name, home, url: url!, child, done, log: () => out };
  }

  /** `slipway ARGS --server <server>` as the administrator. */
  const through = (s: Server, args: string[]) => box.runAsync([...args, "--server", s.url], { ...clock, SLIPWAY_TOKEN: token });
  const ok = async (s: Server, args: string[]) => {
    const r = await through(s, args);
    assert.equal(r.code, 0, `through ${s.name}: slipway ${args.join(" ")}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const json = async <T = any>(s: Server, args: string[]): Promise<T> => JSON.parse(await ok(s, [...args, "--json"])) as T;
  const query = (s: Server, endpoint = "iris") =>
    fetch(`${s.url}/serving-endpoints/${endpoint}/invocations`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] }) });
  /** "DUE -> run" for every fire either server's log says it started. */
  const fires = () =>
    (["a", "b"] as const).flatMap((n) => [...(servers[n]?.log() ?? "").matchAll(/schedule two\/dev\/tick: started run (\w+) of job tick for (\S+)/g)].map((m) => ({ server: n, run: m[1]!, due: m[2]! })));

  /** The process groups of a run's running tasks, as its runner recorded them (introspection: the CLI does not show pids). */
  const taskGroups = async (run: string): Promise<number[]> => {
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      return (await c.query("SELECT pid FROM run_tasks WHERE run_id = $1 AND pid IS NOT NULL", [run])).rows.map((r: { pid: string | number }) => Number(r.pid));
    } finally {
      await c.end();
    }
  };

  before(async () => {
    await admin(`CREATE DATABASE ${dbName}`);
    servers.a = await startServer("a");
    servers.b = await startServer("b");
    box = sandbox({
      "slipway.yaml": "project: two\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n",
      "modules/m/module.yaml": `module: m
hooks:
  - { name: slow, deploy: hold.sh }
resources:
  jobs:
    register:
      source: src
      command: python3 register.py
      registers: { model: iris, path: model }
    sleepy:
      command: sleep 300
    slow:
      command: 'sleep 4 && echo finished'
    tick:
      command: echo tick
  models:
    iris: {}
  schedules:
    tick:
      job: tick
      cron: "* * * * *"
  endpoints:
    iris:
      phase: 2
      served: [{ model: iris, version: 1 }]
    extra:
      phase: 2
      served: [{ model: iris, version: 1 }]
    kept:
      phase: 2
      served: [{ model: iris, version: 1 }]
      inference_table: { keep_rows: 5 }
`,
      // Holds the deploy (and its lock) while the file ${hold} exists.
      "modules/m/hold.sh": `#!/usr/bin/env bash\ntouch ${JSON.stringify(holding)}\nwhile [ -e ${JSON.stringify(hold)} ]; do sleep 0.05; done\necho held\n`,
      "modules/m/src/register.py": IRIS_REGISTER_PY,
    });
    withIrisModel(box.dir);
  });

  after(async () => {
    for (const s of Object.values(servers)) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGTERM");
      await s.done;
    }
    box?.cleanup();
    if (PG_URL) await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => admin(`DROP DATABASE IF EXISTS ${dbName}`));
    rmSync(root, { recursive: true, force: true });
  });

  it("a deploy through A holds the lock: a deploy through B meanwhile is refused as a second local deploy is", async () => {
    writeFileSync(hold, "");
    const first = through(servers.a, ["deploy", "--phase", "1", "--yes"]);
    await waitFor(() => existsSync(holding), { timeoutMs: 60_000, what: "the deploy's hook on A" });
    const second = await through(servers.b, ["deploy", "--phase", "1", "--yes"]);
    assert.equal(second.code, 3, second.stderr);
    assert.match(second.stderr, new RegExp(`two/dev is locked by admin@host-a \\(pid ${servers.a.child.pid}\\), running "deploy" since`));
    rmSync(hold);
    const done = await first;
    assert.equal(done.code, 0, done.stderr);
    // Both servers see the same deployment.
    const [a, b] = await Promise.all([json(servers.a, ["history"]), json(servers.b, ["history"])]);
    assert.deepEqual(b.deployments.map((d: { id: string }) => d.id), a.deployments.map((d: { id: string }) => d.id));
    assert.equal(a.deployments[0].status, "succeeded");
  });

  it("a run started on A is seen through B and cancelled through B: A's runner stops it", async () => {
    const started = await json(servers.a, ["run", "sleepy"]);
    const id = started.id as string;
    const shown = await waitForValue(() => json(servers.b, ["runs", "show", id]), (d) => d.status === "running" && d.tasks?.[0]?.status === "running", { timeoutMs: 30_000, what: "the run running, seen through B" });
    assert.equal(shown.handle.host, "host-a");
    const [taskPid] = await taskGroups(id);
    assert.ok(taskPid && processAlive(taskPid), "the task runs");
    const listed = await json(servers.b, ["runs"]);
    assert.ok(listed.runs.some((r: { id: string }) => r.id === id), "runs lists it through B");

    const cancelled = await through(servers.b, ["cancel", id, "--json"]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(JSON.parse(cancelled.stdout).status, "cancelled");
    const onA = await json(servers.a, ["runs", "show", id]);
    assert.equal(onA.status, "cancelled");
    assert.equal(onA.tasks[0].status, "cancelled");
    await waitFor(() => !processAlive(taskPid!), { timeoutMs: 20_000, what: "the task's process to end" });
  });

  it("an endpoint deployed through A is served by both; B fetched the model files into its own home", async () => {
    await ok(servers.a, ["run", "register", "--wait"]);
    await ok(servers.a, ["deploy", "--yes"]);
    const fromA = await query(servers.a);
    assert.equal(fromA.status, 200, await fromA.clone().text());
    const answerA = await fromA.json();
    await waitFor(async () => (await query(servers.b)).status === 200, { timeoutMs: 60_000, what: "B to serve the endpoint deployed through A" });
    assert.deepEqual(await (await query(servers.b)).json(), answerA);
    assert.match(servers.b.log(), /endpoint sync: serving iris of two\/dev \(config 1\) as recorded in the state/);
    assert.ok(existsSync(join(servers.b.home, "models", "two", "dev", "iris", "1", ".complete")), "B's own model folder");
    // status through either shows the endpoint served (by that server).
    for (const s of [servers.a, servers.b]) {
      const status = await json(s, ["status"]);
      const ep = status.endpoints.find((e: { name: string }) => e.name === "iris");
      assert.equal(ep?.serving, "ready", `status through ${s.name}: ${JSON.stringify(ep)}`);
      assert.equal(ep.url, `${s.url}/serving-endpoints/iris/invocations`);
    }
  });

  it("requests answered by A and by B both appear in `endpoints logs` through either", async () => {
    const ids: Record<"a" | "b", string[]> = { a: [], b: [] };
    for (let i = 0; i < 6; i++) {
      for (const n of ["a", "b"] as const) {
        const r = await query(servers[n]);
        assert.equal(r.status, 200);
        ids[n].push(r.headers.get("x-request-id")!);
      }
    }
    for (const s of [servers.a, servers.b]) {
      // The other server writes its rows within a few ms of answering (its writer thread's batch).
      const logged = await waitForValue(
        async () => new Set<string>((await json(s, ["endpoints", "logs", "iris", "--limit", "1000"])).requests.map((r: { request_id: string }) => r.request_id)),
        (seen) => [...ids.a, ...ids.b].every((id) => seen.has(id)),
        { timeoutMs: 20_000, what: `every request in endpoints logs through ${s.name}` },
      );
      assert.ok(logged.size >= 12, `through ${s.name}: ${logged.size} row(s)`);
    }
    assert.ok(!existsSync(join(servers.a.home, "inference.db")) && !existsSync(join(servers.b.home, "inference.db")), "no SQLite inference table in a PostgreSQL home");
  });

  it("retention, run by both servers at once, archives each row of the shared table exactly once", async () => {
    const answered: string[] = [];
    await waitFor(
      async () => {
        const r = await query(servers.b, "kept");
        if (r.status === 200) answered.push(r.headers.get("x-request-id")!);
        return r.status === 200;
      },
      { timeoutMs: 60_000, what: "B to serve kept" },
    );
    // Bursts through both servers while both trim the table to its newest 5 rows.
    for (let round = 0; round < 8; round++) {
      const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => query(i % 2 ? servers.b : servers.a, "kept")));
      for (const r of rs) {
        assert.equal(r.status, 200);
        answered.push(r.headers.get("x-request-id")!);
      }
    }
    const archivedIds = () => {
      const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /inference\/two\/dev\/kept\/.*-rows-\d+-\d+\.jsonl\.gz$/.test(f));
      return files.flatMap((f) =>
        gunzipSync(readFileSync(join(root, f)))
          .toString("utf8")
          .trim()
          .split("\n")
          .map((l) => (JSON.parse(l) as { request_id: string }).request_id),
      );
    };
    const left = await waitForValue(
      async () => (await json(servers.a, ["endpoints", "logs", "kept", "--limit", "1000"])).requests.map((r: { request_id: string }) => r.request_id) as string[],
      (rows) => rows.length === 5 && archivedIds().length + rows.length >= answered.length,
      { timeoutMs: 30_000, intervalMs: 250, what: "retention to trim kept to 5 rows" },
    );
    const archived = archivedIds();
    assert.equal(new Set(archived).size, archived.length, "no row archived twice");
    assert.deepEqual([...archived, ...left].sort(), [...answered].sort(), "every answered request is archived once or still in the table");
    const trims = (n: "a" | "b") => [...servers[n].log().matchAll(/inference retention: archived (\d+) row\(s\) of two\/dev\/kept/g)].length;
    assert.ok(trims("a") + trims("b") >= 1, "the servers' logs say so");
  });

  it("an endpoint removed through A stops being served by B", async () => {
    await waitFor(async () => (await query(servers.b, "extra")).status === 200, { timeoutMs: 60_000, what: "B to serve extra" });
    const module = readFileSync(join(box.dir, "modules/m/module.yaml"), "utf8");
    box.write({ "modules/m/module.yaml": module.replace(/    extra:\n      phase: 2\n      served: \[\{ model: iris, version: 1 \}\]\n/, "") });
    await ok(servers.a, ["deploy", "--yes"]);
    assert.equal((await query(servers.a, "extra")).status, 404);
    await waitFor(async () => (await query(servers.b, "extra")).status === 404, { timeoutMs: 60_000, what: "B to stop serving extra" });
    assert.match(servers.b.log(), /endpoint sync: stopped serving extra: its record is gone from the state/);
    assert.equal((await query(servers.b)).status, 200, "B still serves iris");
  });

  it("the schedule fires once per due time across the two servers", async () => {
    await waitFor(() => fires().length >= 1, { timeoutMs: 90_000, what: "the schedule's first fire" });
    const dues = fires().map((f) => f.due);
    assert.equal(new Set(dues).size, dues.length, `each due time started once: ${JSON.stringify(fires())}`);
    const scheduled = (await json(servers.b, ["runs", "--limit", "100"])).runs.filter((r: { trigger: string }) => r.trigger === "schedule");
    assert.equal(scheduled.length, dues.length, "one run per fire, seen through B");
  });

  it("kill -9 of A loses nothing: B keeps serving, A's surviving runner finishes, a dead one is marked lost, the schedule fires once", async () => {
    const slow = (await json(servers.a, ["run", "slow"])).id as string;
    const doomed = (await json(servers.a, ["run", "sleepy"])).id as string;
    const running = await waitForValue(() => json(servers.b, ["runs", "show", doomed]), (d) => d.status === "running" && d.tasks?.[0]?.status === "running", { timeoutMs: 30_000, what: "the doomed run running" });
    const groups = await taskGroups(doomed);
    const firesBefore = fires().length;
    servers.a.child.kill("SIGKILL");
    await servers.a.done;
    // The machine of A goes with it: the doomed run's runner dies too (the slow one's outlives A).
    for (const group of [running.handle.pid as number, ...groups]) {
      try {
        process.kill(-group, "SIGKILL");
      } catch {
        /* gone */
      }
    }

    assert.equal((await query(servers.b)).status, 200, "B still serves the endpoint");
    const finished = await waitForValue(() => json(servers.b, ["runs", "show", slow]), (d) => d.status !== "queued" && d.status !== "running", { timeoutMs: 60_000, what: "the slow run to end" });
    assert.equal(finished.status, "succeeded", JSON.stringify(finished));
    // No heartbeat for 30 s: B (which cannot see host-a's processes) finds it lost on reading it.
    const lost = await waitForValue(() => json(servers.b, ["runs", "show", doomed]), (d) => d.status !== "running", { timeoutMs: 120_000, intervalMs: 1000, what: "the doomed run to be marked lost" });
    assert.equal(lost.status, "lost");
    assert.match(lost.reason, /its runner has not been heard of since/);

    await waitFor(() => fires().length > firesBefore && fires().slice(firesBefore).some((f) => f.server === "b"), { timeoutMs: 90_000, intervalMs: 500, what: "a fire by B after A died" });
    const dues = fires().map((f) => f.due);
    assert.equal(new Set(dues).size, dues.length, `each due time started once: ${JSON.stringify(fires())}`);
    assert.ok(readdirSync(join(servers.b.home, "models", "two", "dev", "iris")).includes("1"));
  });
});

// One home whose config.yaml puts its state in PostgreSQL, worked with embedded (no --server): deploy
// starts the home's background server (which gets the database's URL from config.yaml's ${env.…}, and
// nothing else of the deploying shell), which serves the endpoint; a stopped server is brought back
// with the endpoint by the next deploy.
describe("one home on PostgreSQL: deploy serves its endpoints through the home's server", { skip: PG_URL ? false : "SLIPWAY_TEST_PG_URL is not set (npm test starts a PostgreSQL server)" }, () => {
  const dbName = `slipway_home_${process.pid}_${randomBytes(4).toString("hex")}`;
  let box: Sandbox;
  const admin = (sql: string) => adminSql(PG_URL!, sql);
  before(async () => {
    await admin(`CREATE DATABASE ${dbName}`);
    const u = new URL(PG_URL!);
    u.pathname = `/${dbName}`;
    box = sandbox({
      "slipway.yaml": "project: solo\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n",
      "modules/m/module.yaml": `module: m
resources:
  jobs:
    register:
      source: src
      command: python3 register.py
      registers: { model: iris, path: model }
  models:
    iris: {}
  endpoints:
    solo-iris:
      phase: 1
      served: [{ model: iris, version: 1 }]
`,
      "modules/m/src/register.py": IRIS_REGISTER_PY,
    });
    withIrisModel(box.dir);
    mkdirSync(box.home, { recursive: true });
    writeFileSync(join(box.home, "config.yaml"), `state: { type: postgres, url: "\${env.TEAM_PG_URL}" }\n`);
    box.env.TEAM_PG_URL = u.toString();
  });
  after(async () => {
    box?.cleanup();
    if (PG_URL) await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => admin(`DROP DATABASE IF EXISTS ${dbName}`));
  });

  it("deploy starts the server on the PostgreSQL state and it serves; status says so; no state.db is made", async () => {
    for (const args of [["deploy", "--phase", "0"], ["run", "register", "--wait"]]) {
      const r = await box.runAsync(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    const deployed = await box.runAsync(["deploy"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const query = await box.runAsync(["endpoints", "query", "solo-iris", "--data", '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}']);
    assert.equal(query.code, 0, query.stderr);
    assert.match(query.stdout, /predictions/);
    const status = JSON.parse((await box.runAsync(["status", "--json"])).stdout);
    assert.equal(status.endpoints.find((e: { name: string }) => e.name === "solo-iris")?.serving, "ready");
    assert.ok(!existsSync(join(box.home, "state.db")), "everything went to PostgreSQL");
  });

  it("after the server stopped, the next deploy starts it again and it restores the endpoint from PostgreSQL", async () => {
    assert.equal((await box.runAsync(["server", "stop"])).code, 0);
    const status = JSON.parse((await box.runAsync(["status", "--json"])).stdout);
    assert.equal(status.endpoints.find((e: { name: string }) => e.name === "solo-iris")?.serving, "no_server");
    const deployed = await box.runAsync(["deploy"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stderr + deployed.stdout, /the Slipway server was not running: started it at \S+; serving solo-iris again/);
    const query = await box.runAsync(["endpoints", "query", "solo-iris", "--data", '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}']);
    assert.equal(query.code, 0, query.stderr);
  });
});
