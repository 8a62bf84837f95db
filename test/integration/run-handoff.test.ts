// `slipway run` handed to the home's running server (bin/run-handoff.cjs, src/cli/run-handoff): with a
// real server process on the sandbox's home, a run goes through it with the same output, records and
// exit code as in-process; the client's environment and folder are the run's; Ctrl-C cancels; a
// stopped server, another build or SLIPWAY_RUN_IN_PROCESS=1 run in-process; a forged token is refused.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { BIN, exited, sandbox, type Sandbox } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

const PROJECT = {
  "slipway.yaml": 'project: handoff\ninclude: [modules/*/module.yaml]\nvariables:\n  word: { default: "${env.HANDOFF_WORD}" }\ntargets:\n  dev: {}\n',
  "modules/m/module.yaml": [
    "module: m",
    "resources:",
    "  jobs:",
    '    noop: { command: "true" }',
    "    echo:",
    '      command: \'echo "word=$SLIPWAY_VAR_word greet=$GREET code=$SLIPWAY_PARAM_code"; echo to-stderr >&2; echo last; exit "$SLIPWAY_PARAM_code"\'',
    '      params: { code: "0" }',
    "    ca:",
    '      command: \'echo "ca=$${NODE_EXTRA_CA_CERTS-unset} deferred=$${SLIPWAY_DEFERRED_EXTRA_CA_CERTS-unset}"; exit "$SLIPWAY_PARAM_code"\'',
    '      params: { code: "0" }',
    "    slow:",
    "      command: 'echo begin; sleep 60; echo end'",
    "",
  ].join("\n"),
};

interface Handle {
  pid: number;
}

describe("run handed to the home's server", () => {
  let box: Sandbox;
  let server: ChildProcess;
  let serverPid = 0;
  const env = { HANDOFF_WORD: "alpha", GREET: "hi" };

  /** The pid that executed a run (its handle): the server's when it was handed over. */
  function runnerPid(id: string): number {
    const db = new Database(join(box.home, "state.db"), { readonly: true });
    try {
      const row = db.prepare("select handle from runs where id = ?").get(id) as { handle: string };
      return (JSON.parse(row.handle) as Handle).pid;
    } finally {
      db.close();
    }
  }
  function lastAudit(): { actor: string; action: string; outcome: string } {
    const db = new Database(join(box.home, "state.db"), { readonly: true });
    try {
      return db.prepare("select actor, action, outcome from audit_log order by rowid desc limit 1").get() as { actor: string; action: string; outcome: string };
    } finally {
      db.close();
    }
  }
  function runCount(): number {
    const db = new Database(join(box.home, "state.db"), { readonly: true });
    try {
      return (db.prepare("select count(*) as n from runs").get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
  /** A hand-over request written by hand (admin token, then `body` after the upgrade): all the server answers until it closes. */
  function rawHandoff(port: number, token: string, body: string): Promise<string> {
    return new Promise<string>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      let text = "";
      socket.on("data", (d) => (text += d));
      socket.on("close", () => resolve(text));
      socket.on("error", () => resolve(text));
      socket.write(`GET /admin/run-handoff HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: slipway-run\r\nx-slipway-admin: ${token}\r\n\r\n${body}`);
    });
  }
  /** Output with what differs between two runs of the same command (ids, durations) made equal. */
  const normal = (text: string) =>
    text
      .replace(/\brm[a-z0-9]{13}\b/g, "<id>")
      .replace(/\d+(\.\d+)?s\b/g, "<s>")
      .replace(/\d+ ms\b/g, "<ms>");
  const idOf = (stdout: string) => /^(rm[a-z0-9]{13}) /m.exec(stdout)![1]!;

  async function startServer(): Promise<void> {
    // From another folder than the project's: the client's folder is the one that counts.
    server = spawn(process.execPath, [BIN, "server", "--json", "--port", "0", "--no-bootstrap"], { cwd: join(box.home, ".."), env: box.env, stdio: ["ignore", "pipe", "pipe"] });
    await waitFor(() => {
      try {
        const info = JSON.parse(readFileSync(join(box.home, "server.json"), "utf8")) as { pid: number; build?: string };
        serverPid = info.pid;
        return info.pid === server.pid && !!info.build;
      } catch {
        return false;
      }
    }, { timeoutMs: 30_000, what: "server.json with the build" });
  }
  async function stopServer(): Promise<void> {
    const done = exited(server);
    spawnSync(process.execPath, [BIN, "server", "stop"], { env: box.env, stdio: "ignore" });
    await done;
  }

  before(async () => {
    box = sandbox(PROJECT);
    assert.equal(box.run(["deploy", "--yes"], env).code, 0);
    await startServer();
  });
  after(async () => {
    if (server.exitCode === null && server.signalCode === null) await stopServer();
    box.cleanup();
  });

  it("runs through the server with the output, exit code and records of an in-process run", () => {
    const served = box.run(["run", "echo", "--wait", "--param", "code=3"], env);
    const local = box.run(["run", "echo", "--wait", "--param", "code=3"], { ...env, SLIPWAY_RUN_IN_PROCESS: "1" });
    assert.equal(served.code, 1, served.stderr);
    assert.equal(local.code, 1, local.stderr);
    // The task's stdout and stderr are two pipes: which of "last" and "to-stderr" the runner reads first
    // varies from run to run, in-process too. The lines, and what comes before and after them, do not.
    const sortedLines = (text: string) => normal(text).split("\n").sort();
    assert.deepEqual(sortedLines(served.stdout), sortedLines(local.stdout));
    assert.equal(served.stderr, local.stderr);
    assert.match(normal(served.stdout), /^<id>  started echo on handoff\/dev\n\[main\] word=alpha greet=hi code=3\n/);
    assert.match(normal(served.stdout), /\[main\] task main exited with code 3\n<id>  echo on handoff\/dev: failed in <s>\n  error: main: exited with code 3\n  params: code=3\n  task main {13}failed {5}exit 3, <ms>\n$/);
    assert.equal(runnerPid(idOf(served.stdout)), serverPid, "the server executed the handed-over run");
    assert.notEqual(runnerPid(idOf(local.stdout)), serverPid, "SLIPWAY_RUN_IN_PROCESS=1 ran it in the CLI");
    assert.deepEqual(lastAudit(), { actor: "tester", action: "run", outcome: "ok" });
    const again = box.run(["run", "echo", "--wait", "--param", "code=3"], env);
    assert.equal(runnerPid(idOf(again.stdout)), serverPid);
    assert.deepEqual(lastAudit(), { actor: "tester", action: "run", outcome: "ok" }, "audited as the calling user");
    // Without --wait, and with --json: the same documents.
    const started = box.json(["run", "noop"], env);
    const startedLocal = box.json(["run", "noop"], { ...env, SLIPWAY_RUN_IN_PROCESS: "1" });
    assert.equal(started.code, 0, started.stderr);
    assert.deepEqual(Object.keys(started.doc).sort(), Object.keys(startedLocal.doc).sort());
    assert.equal(started.doc.ok, true);
    const waited = box.json(["run", "noop", "--wait"], env);
    const waitedLocal = box.json(["run", "noop", "--wait"], { ...env, SLIPWAY_RUN_IN_PROCESS: "1" });
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(waited.doc.ok, true);
    assert.deepEqual(Object.keys(waited.doc).sort(), Object.keys(waitedLocal.doc).sort());
    assert.equal(waited.stderr, waitedLocal.stderr.replace(/rm[a-z0-9]{13}/g, idOf(waited.stderr)));
  });

  it("the client loads neither the CLI's bundle nor any package", () => {
    // A preloaded script reports at exit which of the launcher's files were required.
    const probe = join(box.home, "..", "probe.cjs");
    writeFileSync(probe, 'process.on("exit", () => require("node:fs").writeSync(2, "\\nREQUIRED " + JSON.stringify(Object.keys(require.cache).filter((f) => !f.endsWith("probe.cjs"))) + "\\n"));\n');
    const required = (stderr: string) => JSON.parse(/\nREQUIRED (.*)\n/.exec(stderr)![1]!) as string[];
    const served = box.run(["run", "noop", "--wait"], { ...env, NODE_DEBUG: "module", NODE_OPTIONS: `--require ${probe}` });
    assert.equal(served.code, 0, served.stderr.slice(-2000));
    assert.deepEqual(required(served.stderr).map((f) => f.slice(f.lastIndexOf("/") + 1)).sort(), ["run-handoff.cjs", "slipway.cjs"]);
    assert.doesNotMatch(served.stderr, /load "[^"]*\/node_modules\//, "no package loaded");
    // In-process, the same command evaluates the bundle (the check above would see it).
    const local = box.run(["run", "noop", "--wait"], { ...env, SLIPWAY_RUN_IN_PROCESS: "1", NODE_OPTIONS: `--require ${probe}` });
    assert.ok(required(local.stderr).some((f) => f.endsWith("dist/cli.cjs")));
  });

  it("uses the client's environment for ${env.X}, variables and the task, and keeps none of it", () => {
    const a = box.run(["run", "echo", "--wait"], { HANDOFF_WORD: "one", GREET: "first" });
    const b = box.run(["run", "echo", "--wait"], { HANDOFF_WORD: "two", GREET: "second", SLIPWAY_USER: "someone" });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.match(a.stdout, /word=one greet=first code=0/);
    assert.match(b.stdout, /word=two greet=second code=0/, "a changed variable is not served from the compile of the first");
    assert.equal(runnerPid(idOf(b.stdout)), serverPid);
    assert.equal(lastAudit().actor, "someone");
    // Unset, ${env.HANDOFF_WORD} is an error: said exactly as in-process (the server declines, the CLI reports).
    const unset = { ...box.env, HANDOFF_WORD: undefined };
    const r = spawnSync(process.execPath, [BIN, "run", "echo", "--wait"], { cwd: box.dir, env: unset, encoding: "utf8" });
    const l = spawnSync(process.execPath, [BIN, "run", "echo", "--wait"], { cwd: box.dir, env: { ...unset, SLIPWAY_RUN_IN_PROCESS: "1" }, encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, l.stderr);
    assert.match(r.stderr, /HANDOFF_WORD is not set/);
    // From a subfolder with --project: the client's folder resolves it.
    const sub = spawnSync(process.execPath, [BIN, "run", "noop", "--wait", "--project", ".."], { cwd: join(box.dir, "modules"), env: { ...box.env, ...env }, encoding: "utf8" });
    assert.equal(sub.status, 0, sub.stderr);
    assert.equal(runnerPid(idOf(sub.stdout)), serverPid);
    // Usage errors are the CLI's own.
    const bad = box.run(["run", "echo", "--wait", "--param", "nope"], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--param "nope" is not NAME=value/);
  });

  it("cancels the run on the client's Ctrl-C, as in-process", async () => {
    for (const inProcess of [false, true]) {
      const child = box.start(["run", "slow", "--wait"], { ...env, ...(inProcess ? { SLIPWAY_RUN_IN_PROCESS: "1" } : {}) });
      let stdout = "";
      child.stdout!.on("data", (d) => (stdout += d));
      const done = exited(child);
      await waitFor(() => stdout.includes("[main] begin"), { timeoutMs: 30_000, what: "the task's first line" });
      child.kill("SIGINT");
      const r = await done;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /\[main\] task main cancelled\n/);
      assert.match(r.stdout, /slow on handoff\/dev: cancelled in /);
      assert.doesNotMatch(r.stdout, /\[main\] end/);
      assert.equal(runnerPid(idOf(r.stdout)) === serverPid, !inProcess);
    }
  });

  it("`slipway cancel` from another terminal cancels a handed-over run without signalling the server", async () => {
    const child = box.start(["run", "slow", "--wait"], env);
    let stdout = "";
    child.stdout!.on("data", (d) => (stdout += d));
    const done = exited(child);
    await waitFor(() => stdout.includes("[main] begin"), { timeoutMs: 30_000, what: "the task's first line" });
    const id = idOf(stdout);
    assert.equal(runnerPid(id), serverPid);
    const cancel = await box.runAsync(["cancel", id], env);
    assert.equal(cancel.code, 0, cancel.stderr);
    const r = await done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /\[main\] task main cancelled\n/);
    assert.match(r.stdout, /slow on handoff\/dev: cancelled in /);
    assert.equal(server.exitCode, null, "the server still runs");
    const next = box.run(["run", "noop", "--wait"], env);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(runnerPid(idOf(next.stdout)), serverPid);
  });

  it("refuses a forged admin token", async () => {
    const info = JSON.parse(readFileSync(join(box.home, "server.json"), "utf8")) as { port: number; build: string };
    const before = runCount();
    const request = JSON.stringify({ v: 1, build: info.build, home: box.home, cwd: box.dir, argv: ["run", "noop", "--wait"], env: box.env, tty: false });
    const answer = await rawHandoff(info.port, `forged-${"x".repeat(26)}`, `${request}\n`);
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.equal(runCount(), before, "nothing was run");
  });

  it("the installed command starts a handed-over run without NODE_EXTRA_CA_CERTS, and the task still gets it; another command, or a run the server declines, runs with it", () => {
    // Run as npm installs it: the file itself, through its `#!/bin/sh` lines, by way of a link.
    const link = join(box.home, "..", "bin-link", "slipway");
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(BIN, link);
    // A file that is not there: a Node process that reads the variable at its start warns about it
    // on stderr, which shows which processes did.
    const certs = join(box.home, "..", "no-such-ca.pem");
    const warned = /Warning: Ignoring extra certs from `[^`]*no-such-ca\.pem`/;
    const installed = (args: string[]) => spawnSync(link, args, { cwd: box.dir, env: { ...box.env, ...env, NODE_EXTRA_CA_CERTS: certs }, encoding: "utf8" });
    const served = installed(["run", "ca", "--wait"]);
    assert.equal(served.status, 0, served.stderr);
    assert.equal(runnerPid(idOf(served.stdout)), serverPid, "handed over");
    assert.doesNotMatch(served.stderr, warned, "the client started without the certificates");
    assert.match(served.stdout, new RegExp(`\\[main\\] ca=${certs} deferred=unset\\n`), "the task's environment is the client's as it was");
    // Declined by the server (--bundle runs in the CLI): the CLI runs again, with the variable; its exit code is the command's.
    const tgz = join(box.home, "..", "ca.tgz");
    assert.equal(spawnSync(process.execPath, [BIN, "bundle", "ca", "-o", tgz], { cwd: box.dir, env: { ...box.env, ...env } }).status, 0);
    const declined = installed(["run", "ca", "--wait", "--bundle", tgz, "--param", "code=3"]);
    assert.equal(declined.status, 1, declined.stderr);
    assert.match(declined.stderr, warned, "run again with the certificates");
    assert.notEqual(runnerPid(idOf(declined.stdout)), serverPid, "run in the CLI");
    assert.match(declined.stdout, new RegExp(`\\[main\\] ca=${certs} deferred=unset\\n`));
    assert.match(declined.stdout, /ca on handoff\/dev: failed in /);
    // Not a run after all ("run" is a value here): run again with the certificates, once.
    const other = installed(["validate", "--var", "word=run"]);
    assert.equal(other.status, 0, other.stderr);
    assert.equal(other.stderr.match(new RegExp(warned.source, "g"))?.length, 1, other.stderr);
  });

  it("runs in-process when the server is of another build, or stopped", async () => {
    const file = join(box.home, "server.json");
    const original = readFileSync(file, "utf8");
    writeFileSync(file, JSON.stringify({ ...JSON.parse(original), build: "another-build" }), { mode: 0o600 });
    const other = box.run(["run", "noop", "--wait"], env);
    writeFileSync(file, original, { mode: 0o600 });
    assert.equal(other.code, 0, other.stderr);
    assert.notEqual(runnerPid(idOf(other.stdout)), serverPid);
    // Stopping the server cancels the run it holds for an attached command, which says so and exits 1.
    const child = box.start(["run", "slow", "--wait"], env);
    let stdout = "";
    child.stdout!.on("data", (d) => (stdout += d));
    const held = exited(child);
    await waitFor(() => stdout.includes("[main] begin"), { timeoutMs: 30_000, what: "the task's first line" });
    await stopServer();
    const cancelled = await held;
    assert.equal(cancelled.code, 1, cancelled.stderr);
    assert.match(cancelled.stdout, /slow on handoff\/dev: cancelled in /);
    const r = box.run(["run", "echo", "--wait"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /word=alpha greet=hi code=0/);
    assert.notEqual(runnerPid(idOf(r.stdout)), serverPid);
  });

  it("survives a garbled request, and a server killed with SIGKILL mid-run leaves the client with an error, not a hang", async () => {
    await startServer();
    // The right token with a request line that is not JSON: "fallback", nothing runs, the server goes on.
    const info = JSON.parse(readFileSync(join(box.home, "server.json"), "utf8")) as { port: number; adminToken: string };
    const before = runCount();
    const answer = await rawHandoff(info.port, info.adminToken, '{"v":1,"__proto__":{"polluted":true},\n');
    assert.match(answer, /^HTTP\/1\.1 101 [^]*\{"t":"fallback"\}\n$/);
    assert.equal(runCount(), before, "nothing was run");
    const served = box.run(["run", "noop", "--wait"], env);
    assert.equal(served.code, 0, served.stderr);
    assert.equal(runnerPid(idOf(served.stdout)), serverPid, "the server still takes runs");

    // kill -9 of the server while it runs a handed-over task.
    const child = box.start(["run", "slow", "--wait"], env);
    let stdout = "";
    child.stdout!.on("data", (d) => (stdout += d));
    const held = exited(child);
    await waitFor(() => stdout.includes("[main] begin"), { timeoutMs: 30_000, what: "the task's first line" });
    const id = idOf(stdout);
    const db = new Database(join(box.home, "state.db"), { readonly: true });
    const groups = (db.prepare("select pid from run_tasks where run_id = ? and pid is not null").all(id) as Array<{ pid: number }>).map((r) => Number(r.pid));
    db.close();
    const down = exited(server);
    process.kill(serverPid, "SIGKILL");
    await down;
    const r = await held;
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`error: the Slipway server \\(pid ${serverPid}\\) ended before the run did; see it with: slipway runs`));
    // The task the dead server started (in a process group of its own) is stopped here, as a user would.
    for (const g of groups) {
      try {
        process.kill(-g, "SIGKILL");
      } catch {
        // already gone
      }
    }
    // server.json names a dead process: the next run runs in-process.
    const next = box.run(["run", "noop", "--wait"], env);
    assert.equal(next.code, 0, next.stderr);
    assert.notEqual(runnerPid(idOf(next.stdout)), serverPid);
  });
});
