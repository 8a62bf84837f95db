// The remote CLI prints what the embedded CLI prints. One real `slipway server` (port 0, its own home,
// the administrator's token from SLIPWAY_BOOTSTRAP_TOKEN); two copies of one small project, one worked on
// embedded (its own home), one through the server (--server, or SLIPWAY_SERVER and a stored login). The
// same command sequence runs on both, and stdout, stderr and the exit code must be equal once ids,
// times, durations and the two homes are normalised. Also: only what changed is uploaded, the login
// file is 0600, and commands that work on this machine only refuse --server.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { exited, sandbox, waitFor, type CliResult, type Sandbox } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { contractProject } from "../contract/projects.js";
import { RemoteClient } from "../../src/client/api-client.js";
import { RemoteProject } from "../../src/client/remote-project.js";
import type { UploadResult } from "../../src/client/upload.js";

/** Replaces what legitimately differs between two runs of the same sequence. */
class Normaliser {
  private readonly ids = new Map<string, string>();
  constructor(private readonly homes: string[]) {}
  text(s: string): string {
    for (const h of this.homes) s = s.split(h).join("<home>");
    return s
      .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b/g, "<time>")
      .replace(/\b([rdsp])m[0-9a-z]{8,13}\b/g, (id, kind: string) => {
        let name = this.ids.get(id);
        if (!name) this.ids.set(id, (name = `<${kind}${[...this.ids.values()].filter((v) => v.startsWith(`<${kind}`)).length + 1}>`));
        return name;
      })
      .replace(/\(\d+ ms\)/g, "(<ms>)")
      .replace(/\b\d+ ms\b/g, "<ms>")
      .replace(/\bin \d+\.\d+s\b/g, "in <s>")
      .replace(/\b\d+\.\ds\b/g, "<s>")
      .replace(/"(duration_ms|ms|pid|started_at|finished_at)": \d+/g, '"$1": <n>')
      .replace(/"(pid|host)": "?[^",\n]+"?/g, '"$1": <x>')
      // `run --wait` runs attached in the embedded CLI, in the server's runner remotely.
      .replace(/,\n\s*"attached": true/g, "");
  }
}

const TOKEN_FILE_MODE = 0o600;

describe("remote CLI: the same output as embedded, through a real server", () => {
  let server: TestServer;
  let embedded: Sandbox;
  let remote: Sandbox;
  let nE: Normaliser;
  let nR: Normaliser;

  before(async () => {
    // One action at a time on both sides, so progress lines come in one order.
    server = await startTestServer({ SLIPWAY_PARALLELISM: "1" });
    embedded = sandbox(contractProject());
    remote = sandbox(contractProject());
    embedded.env.SLIPWAY_PARALLELISM = "1";
    // The same user on both sides: the server's administrator is "admin".
    embedded.env.SLIPWAY_USER = "admin";
    remote.env.SLIPWAY_USER = "admin";
    nE = new Normaliser([embedded.home]);
    nR = new Normaliser([server.home]);
  });
  after(async () => {
    embedded?.cleanup();
    remote?.cleanup();
    await server?.stop();
  });

  // Both sides at once: the comparison does not depend on timing.
  const same = async (args: string[], expectCode?: number): Promise<{ e: CliResult; r: CliResult }> => {
    const [e, r] = await Promise.all([embedded.runAsync(args), remote.runAsync([...args, "--server", server.url], { SLIPWAY_TOKEN: server.token })]);
    const show = (x: CliResult) => `exit ${x.code}\n--- stdout\n${x.stdout}--- stderr\n${x.stderr}`;
    assert.equal(show({ ...r, stdout: nR.text(r.stdout), stderr: nR.text(r.stderr) }), show({ ...e, stdout: nE.text(e.stdout), stderr: nE.text(e.stderr) }), `slipway ${args.join(" ")}`);
    if (expectCode !== undefined) assert.equal(e.code, expectCode, `slipway ${args.join(" ")}: ${e.stderr}`);
    return { e, r };
  };

  it("validate, plan, deploy (progress, hook output), status, history, settings: text and --json", async () => {
    await same(["validate"], 0);
    await same(["plan"], 0);
    await same(["plan", "--phase", "1", "--json"], 0);
    await same(["deploy", "--phase", "1"], 0);
    for (const c of [["status"], ["status", "--json"], ["history"], ["settings"]]) await same(c, 0);
    await same(["plan", "--phase", "1"], 0); // nothing to change
  });

  it("runs: run --wait (log lines, outcome), runs, runs show, runs results, logs, cancel, jobs list", async () => {
    await same(["run", "hello", "--param", "who=bob", "--wait"], 0);
    await same(["run", "fail", "--wait"], 1);
    await same(["run", "hello", "--wait", "--json"], 0);
    await same(["runs"], 0);
    const id = JSON.parse(embedded.run(["runs", "--json", "--job", "hello", "--limit", "1"]).stdout).runs[0].id as string;
    const rid = JSON.parse(remote.run(["runs", "--json", "--job", "hello", "--limit", "1", "--server", server.url], { SLIPWAY_TOKEN: server.token }).stdout).runs[0].id as string;
    const both = async (args: (run: string) => string[], code: number) => {
      const [e, r] = await Promise.all([embedded.runAsync(args(id)), remote.runAsync([...args(rid), "--server", server.url], { SLIPWAY_TOKEN: server.token })]);
      assert.equal(r.code, code, r.stderr);
      assert.equal(e.code, code, e.stderr);
      assert.equal(nR.text(r.stdout), nE.text(e.stdout), args("RUN").join(" "));
      assert.equal(nR.text(r.stderr), nE.text(e.stderr), args("RUN").join(" "));
    };
    await both((run) => ["runs", "show", run], 0);
    await both((run) => ["runs", "results", run, "--json"], 0);
    await both((run) => ["logs", run, "-f"], 0);
    await both((run) => ["cancel", run], 3); // already finished
    await both((run) => ["archives", "list", "stage_logs", "--run", run], 0);
    await both((run) => ["archives", "list", "stage_logs", "--run", run, "--json"], 0);
    await same(["jobs", "list"], 0);
    await same(["artifacts", "list", "--json"], 0);
    await same(["sweep", "hello", "--values", "who=ada,bob", "--wait"], 0);
    await same(["sweep", "hello", "--values", "nope=1"], 2);
  });

  it("errors read the same: invalid input, a failed deploy, a missing --yes; rollback and destroy", async () => {
    await same(["validate", "-t", "nope"], 2);
    await same(["deploy", "--json"], 2); // the endpoint's model has no version: the action fails
    await same(["rollback", "--to", "1"], 0);
    await same(["destroy"], 3);
    await same(["destroy", "--yes"], 0);
    await same(["status"], 0);
  });

  it("uploads only what the server lacks: an unchanged project nothing, one changed file that file and the nodes on its path", async () => {
    const files: Record<string, string> = { "slipway.yaml": "project: uploads\ntargets:\n  dev: {}\n" };
    for (let i = 0; i < 60; i++) files[`src/pkg${i % 6}/file${i}.py`] = `print(${i})\n`;
    const box = sandbox(files);
    try {
      const project = new RemoteProject(new RemoteClient(server.url, server.token), { dir: box.dir, cacheDir: `${box.home}/cache/uploads` });
      const uploads: UploadResult[] = [];
      const validate = () => project.command("validate", {}, { onUpload: (u) => uploads.push(u) });
      await validate();
      assert.equal(uploads.length, 1);
      assert.equal(uploads[0]!.files, 61, "the first upload sends every file");
      await validate();
      assert.equal(uploads.length, 1, "the server has the same source: nothing is sent");
      box.write({ "src/pkg3/file9.py": "print('changed')\n" });
      await validate();
      assert.equal(uploads.length, 2);
      assert.equal(uploads[1]!.files, 1, "one changed file");
      assert.ok(uploads[1]!.nodes <= 3, `the nodes on its path (root, src, src/pkg3), not ${uploads[1]!.nodes}`);
    } finally {
      box.cleanup();
    }
  });

  it("a changed file is planned from the new upload; the project's errors show local paths", async () => {
    remote.write({ "modules/core/deploy.sh": "#!/usr/bin/env bash\necho changed\n" });
    embedded.write({ "modules/core/deploy.sh": "#!/usr/bin/env bash\necho changed\n" });
    await same(["plan"], 0);
    // A module file with a problem: the diagnostic names the file as the embedded command does.
    remote.write({ "modules/app/module.yaml": "module: app\nresources:\n  jobs:\n    x: { comand: true }\n" });
    embedded.write({ "modules/app/module.yaml": "module: app\nresources:\n  jobs:\n    x: { comand: true }\n" });
    await same(["validate"], 2);
    const app = contractProject()["modules/app/module.yaml"]!;
    remote.write({ "modules/app/module.yaml": app });
    embedded.write({ "modules/app/module.yaml": app });
  });

  it("pipelines: list, run (followed to its approval), runs, status, approve, reject, logs: text and --json", async () => {
    const module = `module: rel
resources:
  pipelines:
    release:
      stages:
        - { name: note, type: notify, message: "hello from the pipeline" }
        - { name: ok, type: approval, approvers: ["user:admin"], prevent_self_review: false, target: dev }
        - { name: done, type: notify, message: "approved" }
`;
    embedded.write({ "modules/rel/module.yaml": module });
    remote.write({ "modules/rel/module.yaml": module });
    // The embedded side's server carries its runs on after the foreground, as the remote side's does.
    const local = embedded.start(["server", "--port", "0"]);
    try {
      await waitFor(() => embedded.run(["server", "status", "--json"]).stdout.includes('"running": true'), 20_000);
      await same(["deploy", "--module", "rel"], 0);
      await same(["pipelines", "list"], 0);
      await same(["pipelines", "list", "--json"], 0);
      await same(["pipelines", "runs", "release"], 0);
      await same(["pipelines", "run", "nope"], 2);
      // A run: the embedded command runs it in the foreground, the remote one follows the server's
      // run; both stop at the waiting approval with the same document (the embedded one also prints
      // its foreground lines to stderr in --json mode).
      const [e, r] = await Promise.all([embedded.runAsync(["pipelines", "run", "release", "--json"]), remote.runAsync(["pipelines", "run", "release", "--json", "--server", server.url], { SLIPWAY_TOKEN: server.token })]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(e.code, 0, e.stderr);
      assert.equal(nR.text(r.stdout), nE.text(e.stdout), "pipelines run --json");
      assert.equal(JSON.parse(e.stdout).status, "waiting");
      const id = JSON.parse(e.stdout).id as string;
      const rid = JSON.parse(r.stdout).id as string;
      const both = async (args: (run: string) => string[], code: number) => {
        const [be, br] = await Promise.all([embedded.runAsync(args(id)), remote.runAsync([...args(rid), "--server", server.url], { SLIPWAY_TOKEN: server.token })]);
        assert.equal(br.code, code, br.stderr);
        assert.equal(be.code, code, be.stderr);
        assert.equal(nR.text(br.stdout), nE.text(be.stdout), args("RUN").join(" "));
        assert.equal(nR.text(br.stderr), nE.text(be.stderr), args("RUN").join(" "));
      };
      await both((run) => ["pipelines", "status", run], 0);
      await both((run) => ["pipelines", "logs", run, "--stage", "note"], 0);
      await both((run) => ["pipelines", "logs", run, "--stage", "nope"], 2);
      await both((run) => ["pipelines", "approve", run, "--stage", "note"], 2);
      await both((run) => ["pipelines", "approve", run, "--stage", "ok", "--comment", "fine", "--json"], 0);
      // Each server carries its run on to the end.
      const finished = (box: Sandbox, run: string, extra: string[] = [], env?: NodeJS.ProcessEnv) => () => JSON.parse(box.run(["pipelines", "status", run, "--json", ...extra], env).stdout).status === "succeeded";
      await waitFor(finished(embedded, id), 20_000);
      await waitFor(finished(remote, rid, ["--server", server.url], { SLIPWAY_TOKEN: server.token }), 20_000);
      await both((run) => ["pipelines", "status", run], 0);
      await same(["pipelines", "runs", "release"], 0);
      // A second run, rejected.
      const [e2, r2] = await Promise.all([embedded.runAsync(["pipelines", "run", "release", "--json"]), remote.runAsync(["pipelines", "run", "release", "--json", "--server", server.url], { SLIPWAY_TOKEN: server.token })]);
      assert.equal(nR.text(r2.stdout), nE.text(e2.stdout), "pipelines run --json, again");
      const [be, br] = await Promise.all([
        embedded.runAsync(["pipelines", "reject", JSON.parse(e2.stdout).id, "--stage", "ok", "--comment", "not today"]),
        remote.runAsync(["pipelines", "reject", JSON.parse(r2.stdout).id, "--stage", "ok", "--comment", "not today", "--server", server.url], { SLIPWAY_TOKEN: server.token }),
      ]);
      assert.equal(be.code, 0, be.stderr);
      assert.equal(nR.text(br.stdout), nE.text(be.stdout), "pipelines reject");
    } finally {
      embedded.run(["server", "stop"]);
      await exited(local);
    }
  });

  it("login stores the token with mode 0600; then commands use the server without --server; --no-server works locally", () => {
    const login = remote.run(["login", server.url, "--token", server.token]);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(statSync(`${remote.home}/login.json`).mode & 0o777, TOKEN_FILE_MODE);
    const viaLogin = remote.run(["history", "--json"]);
    assert.equal(viaLogin.code, 0, viaLogin.stderr);
    assert.ok(JSON.parse(viaLogin.stdout).deployments.length > 0, "the server's history");
    const local = remote.run(["history", "--json", "--no-server"]);
    assert.deepEqual(JSON.parse(local.stdout).deployments, [], "the local home has none");
  });

  it("commands that work on this machine only refuse --server", () => {
    for (const args of [["artifacts", "build"], ["bundle", "hello", "-o", "x.tar.gz"], ["run", "hello", "--bundle", "x.tar.gz"]]) {
      const r = remote.run([...args, "--server", server.url], { SLIPWAY_TOKEN: server.token });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /works on this machine only/);
    }
  });
});
