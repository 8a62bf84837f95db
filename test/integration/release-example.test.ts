// examples/release (SPEC workflow 5) end to end: a real git repository made here (commits on develop),
// a real `slipway server` polling it, real jobs in ephemeral compute environments, real endpoints, a
// real HTTP receiver and SMTP server for the notifications, and Slipway's clock moved 25 h forward
// (a server restarted with SLIPWAY_CLOCK_OFFSET_MS) for dev's time limit.
import assert from "node:assert/strict";
import { spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SMTPServer } from "smtp-server";
import { exited, REPO, sandbox, type Sandbox } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

const HOUR = 3_600_000;

describe("examples/release: the reference release workflow", () => {
  let box: Sandbox;
  let http: Server;
  let smtp: SMTPServer;
  let server: { stop(): Promise<void> } | undefined;
  const hooks: Array<{ event: string; body: any }> = [];
  const mails: string[] = [];

  const git = (...args: string[]) => {
    const r = spawnSync("git", args, { cwd: box.dir, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "Ann", GIT_AUTHOR_EMAIL: "ann@example.com", GIT_COMMITTER_NAME: "Ann", GIT_COMMITTER_EMAIL: "ann@example.com" } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const commit = (file: string, text: string) => {
    writeFileSync(join(box.dir, file), text);
    git("add", "-A");
    git("commit", "-q", "-m", `change ${file}`);
    return git("rev-parse", "HEAD");
  };
  /** A foreground server with its clock `offsetMs` ahead; the previous one is stopped first. */
  const serverAt = async (offsetMs: number) => {
    await server?.stop();
    box.run(["server", "stop"]);
    const child: ChildProcess = box.start(["server", "--port", "0"], { SLIPWAY_CLOCK_OFFSET_MS: String(offsetMs), SLIPWAY_REAP_INTERVAL_MS: "200" });
    const done = exited(child);
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
      return box.json(["server", "status"]).doc.running === true;
    }, { what: "the server", timeoutMs: 30_000 });
    server = {
      stop: async () => {
        box.run(["server", "stop"]);
        await done;
      },
    };
  };
  const runsOf = (pipeline: string) => box.json(["pipelines", "runs", pipeline]).doc.runs as any[];
  const runStatus = (id: string) => box.json(["pipelines", "status", id]).doc;
  const stage = (run: any, name: string) => run.stages.find((s: any) => s.name === name);
  const operations = (target: string) => box.json(["history", "-t", target]).doc.deployments.map((d: any) => d.operation);

  before(async () => {
    http = createServer((req, res) => {
      let raw = "";
      req.on("data", (d) => (raw += d));
      req.on("end", () => {
        hooks.push({ event: String(req.headers["x-slipway-event"]), body: JSON.parse(raw) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, _s, done) {
        let text = "";
        stream.on("data", (d) => (text += d));
        stream.on("end", () => (mails.push(text.replace(/=\r\n/g, "")), done()));
      },
    });
    await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
    box = sandbox({});
    cpSync(join(REPO, "examples", "release"), box.dir, { recursive: true });
    // The example's receivers are this test's.
    const hookPort = (http.address() as AddressInfo).port;
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    for (const f of ["slipway.yaml", "modules/release/module.yaml"]) {
      const p = join(box.dir, f);
      writeFileSync(p, readFileSync(p, "utf8").replaceAll("127.0.0.1:8099", `127.0.0.1:${hookPort}`).replace("port: 2525", `port: ${smtpPort}`));
    }
    // train.cjs resolves its npm packages from the project folder.
    symlinkSync(join(REPO, "node_modules"), join(box.dir, "node_modules"));
    writeFileSync(join(box.dir, ".gitignore"), "node_modules\n");
    git("init", "-q", "-b", "develop");
    git("add", "-A");
    git("commit", "-q", "-m", "the release example");
  });
  after(async () => {
    await server?.stop();
    box.cleanup();
    await new Promise<void>((r) => http.close(() => r()));
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  it("a commit on develop prepares, trains, registers, deploys dev and qa; a second one replaces dev (restarting its 24 h clock) and qa; prod after bob's approval; dev destroyed 24 h later with a notification", { timeout: 600_000 }, async () => {
    const ann = { SLIPWAY_USER: "ann" };
    // Jobs, models and pipelines (phase 0) on dev; jobs and models on qa and prod (the pipelines run
    // on dev only). The endpoints come with the pipelines' deploys.
    for (const args of [["-t", "dev"], ["-t", "qa", "--module", "model", "--with-deps"], ["-t", "prod", "--module", "model", "--with-deps"]]) {
      const d = box.run(["deploy", ...args, "--phase", "0"], ann);
      assert.equal(d.code, 0, d.stderr);
    }
    await serverAt(0);
    // The git trigger's first look records the head it starts from.
    await waitFor(() => (box.json(["server", "status"]).doc.background as any[]).some((b) => b.unit.startsWith("pipeline-git/") && b.last_finished_at), { what: "the first git poll", timeoutMs: 30_000 });

    // ---- the first commit on develop
    const first = commit("CHANGES.md", "first change\n");
    await waitFor(() => runsOf("release").some((r) => r.trigger_ref === first && ["succeeded", "failed"].includes(r.status)), { what: "the release run of the first commit", timeoutMs: 180_000 });
    const run1 = runStatus(runsOf("release").find((r) => r.trigger_ref === first).id);
    assert.equal(run1.status, "succeeded", JSON.stringify(run1.stages, null, 1));
    assert.equal(run1.trigger, "git");
    const prepared = box.json(["runs", "results", stage(run1, "extract-prepare").job_run]).doc;
    assert.deepEqual({ rows: prepared.results.rows, dropped: prepared.results.dropped, environment: prepared.results.environment }, { rows: 3, dropped: 1, environment: "prep-cluster" });
    assert.equal(stage(run1, "train").outputs.registered, true);
    assert.equal(stage(run1, "train").outputs.version, 1);
    // The compute made for each run is gone.
    const envs = join(box.home, "envs", "release", "dev");
    assert.deepEqual(existsSync(envs) ? readdirSync(envs) : [], []);
    assert.equal(box.json(["status", "-t", "dev"]).doc.endpoints[0].name, "iris-dev");
    // ann triggered the run that deployed it: she owns the endpoint and may query it.
    const q = box.json(["endpoints", "query", "iris-dev", "--data", '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'], ann);
    assert.equal(q.code, 0, JSON.stringify(q.doc));
    assert.equal(box.json(["status", "-t", "qa"]).doc.endpoints[0].name, "iris-qa");
    assert.equal(stage(run1, "qa-model").outputs.promoted, true, "dev's version promoted to qa");
    const clock1 = box.json(["ttl", "show", "dev"]).doc.ttl;
    assert.equal(clock1.status, "armed");

    // ---- a second commit: nothing better to register, dev and qa replaced, dev's clock restarted
    const second = commit("CHANGES.md", "first change\nsecond change\n");
    await waitFor(() => runsOf("release").some((r) => r.trigger_ref === second && ["succeeded", "failed"].includes(r.status)), { what: "the release run of the second commit", timeoutMs: 180_000 });
    const run2 = runStatus(runsOf("release").find((r) => r.trigger_ref === second).id);
    assert.equal(run2.status, "succeeded", JSON.stringify(run2.stages, null, 1));
    assert.equal(stage(run2, "train").outputs.registered, false, "not better than the champion: not registered");
    const clock2 = box.json(["ttl", "show", "dev"]).doc.ttl;
    assert.ok(Date.parse(clock2.due_at) > Date.parse(clock1.due_at), "the replace restarted dev's clock: the deletion due at the first time is cancelled");
    assert.deepEqual(operations("dev").slice(0, 2), ["deploy", "destroy"], "dev: the serving module destroyed, then deployed again");
    assert.deepEqual(operations("qa").slice(0, 2), ["deploy", "destroy"], "qa replaced");
    assert.ok(hooks.some((h) => h.event === "deployed" && h.body.target === "dev"));

    // ---- prod: by hand, and only after someone other than the trigger approves
    const prod = box.json(["pipelines", "run", "prod-release"], ann);
    assert.equal(prod.code, 0, prod.stderr);
    await waitFor(() => stage(runStatus(prod.doc.id), "approve").status === "waiting", { what: "the prod approval" });
    assert.deepEqual(box.json(["status", "-t", "prod"]).doc.endpoints, [], "nothing in prod before the approval");
    await waitFor(() => hooks.some((h) => h.event === "approval_waiting"), { what: "approval_waiting" });
    const eve = box.run(["pipelines", "approve", prod.doc.id, "--stage", "approve"], { SLIPWAY_USER: "eve" });
    assert.equal(eve.code, 3);
    assert.match(eve.stderr, /eve is not an approver/);
    // ann is a release manager, but she started this run.
    const self = box.json(["pipelines", "approve", prod.doc.id, "--stage", "approve"], ann);
    assert.equal(self.code, 3);
    assert.equal(self.doc.error.code, "self_review");
    const bob = box.run(["pipelines", "approve", prod.doc.id, "--stage", "approve", "--comment", "ship it"], { SLIPWAY_USER: "bob" });
    assert.equal(bob.code, 0, bob.stderr);
    await waitFor(() => runStatus(prod.doc.id).status === "succeeded", { what: "prod deployed after the approval", timeoutMs: 120_000 });
    assert.equal(box.json(["status", "-t", "prod"]).doc.endpoints[0].name, "iris-prod");
    assert.equal(box.json(["models", "show", "iris@champion", "-t", "prod"]).doc.version, 1, "prod serves the version trained once, in dev");

    // ---- 25 h later (the server was down meanwhile): dev destroyed, with a notification; qa and prod stay
    await serverAt(25 * HOUR);
    await waitFor(() => hooks.some((h) => h.event === "deletion_done") && mails.some((m) => m.includes("X-Slipway-Event: deletion_done")), { what: "deletion_done on both channels", timeoutMs: 60_000 });
    assert.deepEqual(box.json(["status", "-t", "dev"]).doc.resources, {});
    assert.equal(box.json(["ttl", "show", "dev"]).doc.ttl.status, "expired");
    assert.equal(box.json(["status", "-t", "qa"]).doc.endpoints.length, 1);
    assert.equal(box.json(["status", "-t", "prod"]).doc.endpoints.length, 1);
    const done = hooks.find((h) => h.event === "deletion_done")!;
    assert.match(done.body.title, /^release\/dev was destroyed: its ttl of 24h ran out$/);
  });
});
