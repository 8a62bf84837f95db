// The local server's life through the real CLI and a real server on 127.0.0.1, with real model
// processes (a small Python HTTP server, the `command` flavor): who may query a new endpoint, replicas
// that keep an endpoint answering while one restarts, a stop that drains requests under load, deploy
// and status after the server stopped, 503 while a restarted server restores its endpoints, model
// processes that never outlive their server, and a server that does not outlive its endpoints.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exited, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";

const module = (solo: number, pair: number) => `module: m
resources:
  jobs:
    train_echo:
      source: src
      command: python3 make_echo.py
      params: { tag: v1, delay_ms: "0", startup_ms: "0" }
      registers: { model: echo, path: model }
  models:
    echo: {}
  endpoints:
    ep-solo:
      phase: 1
      served: [{ model: echo, version: ${solo} }]
    ep-pair:
      phase: 1
      served: [{ model: echo, version: ${pair} }]
      replicas: { min: 2, max: 2 }
      permissions:
        - { level: CAN_QUERY, group: users }
`;

const files = {
  // No project-wide permissions: ep-solo has no grant at all.
  "slipway.yaml": `project: life
include: [modules/*/module.yaml]
targets:
  dev:
    default: true
`,
  "modules/m/module.yaml": module(1, 1),
  "modules/m/src/make_echo.py": `import json, os, shutil
out = os.path.join(os.environ["SLIPWAY_OUTPUT_DIR"], "model")
os.makedirs(out, exist_ok=True)
open(os.path.join(out, "model.yaml"), "w").write("flavor: command\\ncommand: python3 serve.py\\nhealth: /health\\nstartup_timeout: 60\\n")
for p in ("tag", "delay_ms", "startup_ms"):
    open(os.path.join(out, p + ".txt"), "w").write(os.environ["SLIPWAY_PARAM_" + p])
shutil.copy("serve_template.py", os.path.join(out, "serve.py"))
`,
  // Answers after delay_ms; starts listening after startup_ms.
  "modules/m/src/serve_template.py": `import json, os, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
read = lambda p: open(p).read().strip()
TAG, DELAY = read("tag.txt"), float(read("delay_ms.txt")) / 1000
time.sleep(float(read("startup_ms.txt")) / 1000)
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code); self.send_header("content-type", "application/json"); self.send_header("content-length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_GET(self):
        self._send(200 if self.path == "/health" else 404, {"ok": True})
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        time.sleep(DELAY)
        self._send(200, {"predictions": [sum(r) for r in body.get("inputs", [])], "tag": TAG, "pid": os.getpid()})
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`,
};

const BODY = JSON.stringify({ inputs: [[1, 2]] });

/** True while the process exists and is not a zombie (PID 1 in a container may not reap orphans). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The pids of a process group's live members. */
function groupMembers(pgid: number): number[] {
  const r = spawnSyncText("ps", ["-e", "-o", "pid=,pgid=,stat="]);
  return r
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, g, stat]) => pid && Number(g) === pgid && !stat!.startsWith("Z"))
    .map(([pid]) => Number(pid));
}

const spawnSyncText = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" }).stdout;

/** Like waitFor, for a condition that has to be fetched. */
async function until(predicate: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface ServerInfoFile {
  pid: number;
  url: string;
  adminToken: string;
}

describe("the local server's life", () => {
  let box: Sandbox;
  let ownerToken = "";
  let guestToken = "";
  const info = (): ServerInfoFile => JSON.parse(readFileSync(join(box.home, "server.json"), "utf8"));
  const admin = async (path: string, body: unknown = {}) => {
    const s = info();
    const r = await fetch(`${s.url}${path}`, { method: "POST", headers: { "x-slipway-admin": s.adminToken, "content-type": "application/json" }, body: JSON.stringify(body) });
    return (await r.json()) as any;
  };
  const groupsOf = async (name: string): Promise<number[]> => ((await admin("/admin/status")) as any[]).find((e) => e.name === name).served.flatMap((s: any) => s.pids);
  const query = (name: string, token = ownerToken) => fetch(`${info().url}/serving-endpoints/${name}/invocations`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: BODY });
  const allGroups = new Set<number>();

  before(() => {
    box = sandbox(files);
    // Version 1 answers after 50 ms (so requests are in flight whenever a test kills something);
    // version 2 answers at once but takes 1.5 s to start.
    assert.equal(box.run(["deploy", "--phase", "0"]).code, 0);
    assert.equal(box.run(["run", "train_echo", "--wait", "--param", "delay_ms=50"]).code, 0);
    assert.equal(box.run(["run", "train_echo", "--wait", "--param", "tag=v2", "--param", "startup_ms=1500"]).code, 0);
  });
  after(() => {
    box.cleanup();
    for (const g of allGroups) for (const pid of groupMembers(g)) process.kill(pid, "SIGKILL");
  });

  it("records who deployed an endpoint first as its owner with CAN_MANAGE, and warns when no one else may query it", async () => {
    const d = box.run(["deploy"]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /warning: endpoint ep-solo has no permission that allows queries \(CAN_QUERY or CAN_MANAGE\): only its owner tester \(CAN_MANAGE as the user who first deployed it\) can query it/);
    assert.doesNotMatch(d.stderr, /endpoint ep-pair has no permission/);
    const q = box.json(["endpoints", "query", "ep-solo", "--data", BODY]);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(q.doc.status, 200);
    ownerToken = readFileSync(join(box.home, "credentials", "tester.token"), "utf8").trim();
    guestToken = box.json(["tokens", "create", "--user", "guest"]).doc.token;
    assert.equal((await query("ep-solo", guestToken)).status, 403);
    assert.equal((await query("ep-pair", guestToken)).status, 200);
    const list = box.json(["endpoints", "list"]).doc.endpoints;
    assert.deepEqual(list.map((e: any) => [e.name, e.owner]).sort(), [["ep-pair", "tester"], ["ep-solo", "tester"]]);
    // Another user's deploy does not take ownership.
    const again = box.run(["deploy"], { SLIPWAY_USER: "someone-else" });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(box.json(["endpoints", "list"]).doc.endpoints.map((e: any) => e.owner), ["tester", "tester"]);
  });

  it("with replicas.min 2, runs two processes and keeps answering while one restarts; one replica answers 503 with Retry-After while it restarts", async () => {
    const pair = await groupsOf("ep-pair");
    assert.equal(pair.length, 2);
    pair.forEach((g) => allGroups.add(g));
    assert.ok(pair.every(running));
    let stop = false;
    const statuses = new Map<string, number[]>([["ep-pair", []], ["ep-solo", []]]);
    const retryAfter: Array<string | null> = [];
    const load = Array.from({ length: 6 }, (_, i) =>
      (async () => {
        const name = i < 4 ? "ep-pair" : "ep-solo";
        while (!stop) {
          const r = await query(name);
          await r.arrayBuffer();
          statuses.get(name)!.push(r.status);
          if (r.status === 503) retryAfter.push(r.headers.get("retry-after"));
        }
      })(),
    );
    await waitFor(() => statuses.get("ep-pair")!.length > 40, 30_000, "load on ep-pair");
    // Crash one replica of each: the whole process group, as the OOM killer would.
    const solo = await groupsOf("ep-solo");
    solo.forEach((g) => allGroups.add(g));
    process.kill(-pair[0]!, "SIGKILL");
    process.kill(-solo[0]!, "SIGKILL");
    const restarted = async () => {
      const status = (await admin("/admin/status")) as any[];
      return status.every((e) => e.served.every((s: any) => s.ready && s.ready_replicas === s.replicas && s.restarts >= 1));
    };
    await until(restarted, 30_000, "both endpoints to restart their crashed replica");
    const after = statuses.get("ep-pair")!.length;
    await waitFor(() => statuses.get("ep-pair")!.length > after + 20, 30_000, "more load after the restart");
    stop = true;
    await Promise.all(load);
    const pairStatuses = [...new Set(statuses.get("ep-pair"))];
    assert.deepEqual(pairStatuses, [200], "the two-replica endpoint answered every request");
    const soloStatuses = [...new Set(statuses.get("ep-solo"))].sort();
    assert.ok(soloStatuses.every((s) => s === 200 || s === 503), `one replica: only 200 or 503, got ${soloStatuses}`);
    assert.ok(retryAfter.every((v) => v === "1"), "every 503 carries Retry-After");
    (await groupsOf("ep-pair")).forEach((g) => allGroups.add(g));
    (await groupsOf("ep-solo")).forEach((g) => allGroups.add(g));
    // Replicas restart one at a time: kill both of ep-pair at once; the second starts again only after the first is back.
    const pairStatus = async () => ((await admin("/admin/status")) as any[]).find((e) => e.name === "ep-pair").served[0];
    const restartsBefore = (await pairStatus()).restarts;
    const both = await groupsOf("ep-pair");
    for (const g of both) process.kill(-g, "SIGKILL");
    await until(async () => ((s) => s.restarts === restartsBefore + 2 && s.ready_replicas === 2)(await pairStatus()), 30_000, "both replicas to be back");
    (await groupsOf("ep-pair")).forEach((g) => allGroups.add(g));
    const log = readFileSync(join(box.home, "logs", "server.log"), "utf8").split("\n");
    const events = log
      .map((l) => l.match(/\] ep-pair: echo@1( #2)?: (starting again|ready again)/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .slice(-4)
      .map((m) => `${m[1] ? "#2" : "#1"} ${m[2]}`);
    const [a, b] = [events[0]?.slice(0, 2), events[2]?.slice(0, 2)];
    assert.deepEqual(events, [`${a} starting again`, `${a} ready again`, `${b} starting again`, `${b} ready again`], log.slice(-20).join("\n"));
    assert.notEqual(a, b, "one replica is back before the other starts again");
  });

  it("`server stop` under load: stops accepting, finishes the requests in flight, closes keep-alive connections cleanly; no accepted request fails", async () => {
    const logsBefore = box.json(["endpoints", "logs", "ep-pair", "--limit", "100000"]).doc.requests.length;
    const { url } = info();
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const ok: Array<{ at: number; closeHeader: boolean }> = [];
    const failures: string[] = [];
    let refused = 0;
    let stopAt = Infinity;
    const one = () =>
      new Promise<"again" | "done">((resolve) => {
        const req = request(`${url}/serving-endpoints/ep-pair/invocations`, { method: "POST", agent, headers: { authorization: `Bearer ${ownerToken}`, "content-type": "application/json", "content-length": Buffer.byteLength(BODY) } }, (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode === 200) ok.push({ at: Date.now(), closeHeader: res.headers.connection === "close" });
            else failures.push(`HTTP ${res.statusCode}`);
            resolve("again");
          });
        });
        req.on("error", (e: NodeJS.ErrnoException) => {
          // A new connection refused once the server stopped listening: not accepted, so not a failure.
          if (!req.reusedSocket && e.code === "ECONNREFUSED") {
            refused++;
            resolve("done");
          } else {
            failures.push(`${e.code ?? e.message}${req.reusedSocket ? " (kept-alive connection)" : ""}`);
            resolve("again");
          }
        });
        req.end(BODY);
      });
    const clients = Array.from({ length: 16 }, async () => {
      for (let i = 0; i < 2000; i++) if ((await one()) === "done") return;
    });
    await waitFor(() => ok.length >= 150, 30_000, "load before the stop");
    const pid = info().pid;
    stopAt = Date.now();
    const stopped = exited(box.start(["server", "stop"]));
    await Promise.all(clients);
    const s = await stopped;
    agent.destroy();
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /stopped the Slipway server/);
    assert.ok(!running(pid));
    assert.deepEqual(failures, [], `${failures.length} accepted request(s) failed`);
    assert.equal(refused, 16, "every client ended on a refused new connection");
    const drained = ok.filter((r) => r.at >= stopAt);
    assert.ok(drained.length > 0, "requests in flight at the stop were answered");
    assert.ok(drained.some((r) => r.closeHeader), "answers during the drain close their keep-alive connection");
    // Every answered request is in the inference table (the queue is flushed on the way out).
    assert.equal(box.json(["endpoints", "logs", "ep-pair", "--limit", "100000"]).doc.requests.length - logsBefore, ok.length);
  });

  it("with the server stopped, status says the endpoints are not served and deploy brings them back", async () => {
    const st = box.json(["status"]).doc;
    assert.deepEqual(st.endpoints.map((e: any) => [e.name, e.serving]).sort(), [["ep-pair", "no_server"], ["ep-solo", "no_server"]]);
    assert.match(box.run(["status"]).stdout, /endpoint ep-solo: .*not served: no Slipway server is running/);
    const d = box.run(["deploy"]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /the Slipway server was not running: started it at http:\/\/127\.0\.0\.1:\d+; serving ep-pair, ep-solo again/);
    assert.equal((await query("ep-solo")).status, 200, "served right after the deploy");
    assert.equal((await query("ep-pair")).status, 200);
    assert.deepEqual(box.json(["status"]).doc.endpoints.map((e: any) => e.serving), ["ready", "ready"]);
  });

  it("after a restart, a recorded endpoint answers 503 with Retry-After until it is restored, then answers", async () => {
    box.write({ "modules/m/module.yaml": module(2, 1) }); // ep-solo: the version that takes 1.5 s to start
    assert.equal(box.run(["deploy"]).code, 0);
    assert.equal(box.run(["server", "stop"]).code, 0);
    const server = box.start(["server"]);
    const done = exited(server);
    try {
      await waitFor(() => existsSync(join(box.home, "server.json")) && info().pid === server.pid, 20_000, "the new server");
      const first = await query("ep-solo");
      const body = (await first.json()) as any;
      assert.equal(first.status, 503, JSON.stringify(body));
      assert.equal(first.headers.get("retry-after"), "1");
      assert.equal(body.error_code, "TEMPORARILY_UNAVAILABLE");
      assert.match(body.message, /ep-solo is being restored/);
      assert.equal((await fetch(`${info().url}/v2/models/ep-solo/ready`)).status, 503);
      assert.equal((await query("nope")).status, 404, "an endpoint that is not recorded is still 404");
      const seen = new Set<number>();
      await until(
        async () => {
          const r = await query("ep-solo");
          await r.arrayBuffer();
          seen.add(r.status);
          return r.status === 200;
        },
        30_000,
        "ep-solo to answer once restored",
      );
      assert.deepEqual([...seen].sort(), [200, 503], "503 until restored, then 200; nothing else");
    } finally {
      server.kill("SIGTERM");
      await done;
    }
  });

  it("model processes never outlive their server: kill -9 of the server stops them, and a starting server stops groups a dead server left", async () => {
    const d = box.run(["deploy"]); // starts a background server again (ep-solo takes 1.5 s)
    assert.equal(d.code, 0, d.stderr);
    const groups = [...(await groupsOf("ep-solo")), ...(await groupsOf("ep-pair"))];
    groups.forEach((g) => allGroups.add(g));
    assert.equal(groups.length, 3);
    const recorded = JSON.parse(readFileSync(join(box.home, "model-processes.json"), "utf8"));
    assert.deepEqual(recorded.groups.map((g: any) => g.pgid).sort(), [...groups].sort(), "the server records its model process groups");
    const members = groups.flatMap(groupMembers);
    assert.ok(members.length >= 3);
    process.kill(info().pid, "SIGKILL");
    await waitFor(() => members.every((p) => !running(p)), 15_000, "the model processes to notice their server died");

    // A leftover the pipe cannot reach (recorded by a dead server): the next server start stops it.
    const leftover = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    leftover.unref();
    const stat = readFileSync(`/proc/${leftover.pid}/stat`, "utf8");
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    writeFileSync(join(box.home, "model-processes.json"), JSON.stringify({ groups: [{ pgid: leftover.pid, server_pid: 999_999_999, label: "old", start }] }));
    allGroups.add(leftover.pid!);
    const redeploy = box.run(["deploy"]); // finds no server, starts one, which restores the endpoints
    assert.equal(redeploy.code, 0, redeploy.stderr);
    await waitFor(() => !running(leftover.pid!), 15_000, "the leftover group to be stopped");
    assert.match(readFileSync(join(box.home, "logs", "server.log"), "utf8"), /stopped 1 model process group\(s\) left by a server that is gone/);
    const fresh = [...(await groupsOf("ep-solo")), ...(await groupsOf("ep-pair"))];
    fresh.forEach((g) => allGroups.add(g));
    const stop = box.run(["server", "stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.deepEqual(fresh.flatMap(groupMembers), [], "a clean stop leaves no model process");
  });

  it("`server status` says what runs; destroy stops a server left with nothing to serve; an idle server exits by itself", async () => {
    const none = box.json(["server", "status"]);
    assert.equal(none.code, 0);
    assert.equal(none.doc.running, false);
    assert.deepEqual([none.doc.url, none.doc.pid, none.doc.endpoints], [null, null, []]);
    assert.equal(box.run(["deploy"]).code, 0);
    const st = box.json(["server", "status"]);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(st.doc.running, true);
    assert.equal(st.doc.pid, info().pid);
    assert.equal(st.doc.url, info().url);
    assert.ok(st.doc.uptime_s >= 0);
    assert.equal(st.doc.idle_exit_ms, 60_000);
    assert.deepEqual(st.doc.endpoints.map((e: any) => [e.name, e.project, e.target, e.ready]).sort(), [["ep-pair", "life", "dev", true], ["ep-solo", "life", "dev", true]]);
    assert.match(box.run(["server", "status"]).stdout, /Slipway server at http:\/\/127\.0\.0\.1:\d+ \(pid \d+\), up \d+s/);
    const pid = info().pid;
    const d = box.run(["destroy", "--yes"]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /stopped the local Slipway server: no endpoint or background work is left/);
    assert.ok(!running(pid), "no server runs after destroy");
    assert.match(box.run(["server", "status"]).stdout, /no Slipway server is running/);

    // With nothing recorded, a server with an idle timeout exits by itself.
    const idle = box.start(["server"], { SLIPWAY_SERVER_IDLE_MS: "300" });
    const out = await exited(idle);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /no endpoint to serve for 300 ms: stopping/);
    assert.ok(!existsSync(join(box.home, "server.json")));
  });
});
