// Release pipelines through the real CLI, against real jobs, deploys and servers:
//   - `validate` reports a pipeline's semantic errors with file:line:column, all at once;
//   - `pipelines run` in the foreground: a job that registers a model (only if better), a deploy
//     whose `when` reads the registration, a notify stage; notifications reach a real HTTP receiver
//     (signed with HMAC-SHA256, retried after a 500) and a real SMTP server (smtp-server on 127.0.0.1);
//     the secret is never printed;
//   - approvals decided by local users (SLIPWAY_USER): a non-approver is refused, the triggerer is
//     refused (self-review), a listed approver approves and the server carries the run on to prod;
//     an approval nobody decides times out.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { SMTPServer } from "smtp-server";
import { sandbox, waitFor, type Sandbox } from "../helpers/cli.js";

describe("pipelines: validation", () => {
  let box: Sandbox;
  before(() => {
    box = sandbox({
      "slipway.yaml": "project: val\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n",
      "modules/m/module.yaml": `module: m
resources:
  jobs:
    train: { command: "true" }
  pipelines:
    release:
      stages:
        - name: train
          type: run
        - { name: dev, type: deploy, depends_on: [trian] }
        - { name: dev, type: notify, message: hi }
        - { name: pause, type: wait }
        - { name: ship, type: deploy, depends_on: [train], when: "stages.train.registred == true" }
`,
    });
  });
  after(() => box.cleanup());

  it("a run stage without a job, depends_on naming no stage, a duplicate name, a wait without duration and a misspelled condition field: each an error at file:line:column", () => {
    const r = box.run(["validate"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    const lines = r.stderr.split("\n").filter((l) => l.includes("error:"));
    assert.deepEqual(lines, [
      'modules/m/module.yaml:11:19: error: pipeline "release": stage "dev" is declared twice (also at line 10)',
      'modules/m/module.yaml:10:51: error: pipeline "release": stage "dev" depends on unknown stage "trian"',
      'modules/m/module.yaml:8:11: error: pipeline "release": stage "train" (run) needs `job`',
      'modules/m/module.yaml:12:11: error: pipeline "release": stage "pause" (wait) needs `duration`',
      'modules/m/module.yaml:13:66: error: pipeline "release": stage "ship" (deploy): condition "stages.train.registred == true" reads unknown field "registred" of stage "train" (run)',
    ]);
    assert.match(r.stderr, /hint: did you mean "train"\?/);
    assert.match(r.stderr, /5 problems found; nothing was changed\./);
  });
});

describe("pipelines: a run in the foreground, with notifications", () => {
  let box: Sandbox;
  let http: Server;
  let smtp: SMTPServer;
  const hooks: Array<{ event: string; signature: string; body: string }> = [];
  const mails: string[] = [];
  let failNext = 1;
  const SECRET = "hook-secret-8c1f2e";

  before(async () => {
    http = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        // The first delivery fails: the sender retries.
        if (failNext-- > 0) return void res.writeHead(500).end("try again");
        hooks.push({ event: String(req.headers["x-slipway-event"]), signature: String(req.headers["x-slipway-signature-256"]), body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, _session, done) {
        let text = "";
        stream.on("data", (d) => (text += d));
        stream.on("end", () => {
          mails.push(text);
          done();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
    const hookPort = (http.address() as AddressInfo).port;
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    box = sandbox({
      "slipway.yaml": "project: rel\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n  qa: {}\n",
      "modules/ml/module.yaml": `module: ml
resources:
  models:
    m: {}
  jobs:
    train:
      params: { accuracy: "0.8" }
      command: 'mkdir -p $SLIPWAY_OUTPUT_DIR/model && printf "flavor: command\\ncommand: serve\\n" > $SLIPWAY_OUTPUT_DIR/model/model.yaml && echo "{\\"accuracy\\": $SLIPWAY_PARAM_accuracy}" > $SLIPWAY_OUTPUT_DIR/metrics.json && echo trained'
      registers: { model: m, path: model, metric: accuracy, only_if_better: true }
  pipelines:
    release:
      params: { accuracy: "0.8" }
      stages:
        - { name: train, type: run, job: train }
        - { name: qa, type: deploy, target: qa, when: "stages.train.registered == true" }
        - { name: done, type: notify, message: "model trained", depends_on: [train] }
      notifications:
        - webhook: { url: "http://127.0.0.1:${hookPort}/hook", secret_env: HOOK_SECRET }
          events: [succeeded, failed, deployed, notify]
        - email: { to: [ops@example.com], from: slipway@example.com, smtp: { host: 127.0.0.1, port: ${smtpPort} } }
          events: [deployed, succeeded]
`,
    });
    const d = box.run(["deploy"]);
    assert.equal(d.code, 0, d.stderr);
  });
  after(async () => {
    box.cleanup();
    await new Promise((r) => http.close(r));
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  it("runs the job, deploys qa because the job registered a new version, notifies; the next run registers nothing and skips the deploy", async () => {
    const env = { HOOK_SECRET: SECRET };
    const first = await box.runAsync(["pipelines", "run", "release", "--json"], env);
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(0, 3000));
    const doc = JSON.parse(first.stdout);
    assert.equal(doc.status, "succeeded");
    assert.deepEqual(doc.stages.map((s: any) => [s.name, s.status]), [["train", "succeeded"], ["qa", "succeeded"], ["done", "succeeded"]]);
    assert.equal(doc.stages[0].outputs.registered, true);
    assert.equal(doc.stages[0].outputs.version, 1);
    assert.equal(doc.stages[1].message, "deployed qa: revision 1");
    assert.equal(box.json(["status", "-t", "qa"]).doc.revision, 1, "qa was deployed by the pipeline");

    // Notifications: every event on the webhook (signed; the first attempt got a 500 and was retried), two by mail.
    assert.deepEqual(hooks.map((h) => h.event).sort(), ["deployed", "notify", "succeeded"]);
    for (const h of hooks) assert.equal(h.signature, `sha256=${createHmac("sha256", SECRET).update(h.body).digest("hex")}`);
    const succeeded = JSON.parse(hooks.find((h) => h.event === "succeeded")!.body);
    assert.equal(succeeded.run, doc.id);
    assert.equal(succeeded.status, "succeeded");
    assert.deepEqual(doc.notifications.map((n: any) => [n.event, n.status]).sort(), [["deployed:qa", "sent"], ["deployed:qa", "sent"], ["notify:done", "sent"], ["succeeded", "sent"], ["succeeded", "sent"]]);
    assert.ok(doc.notifications.some((n: any) => n.attempts === 2), "one delivery needed a retry");
    assert.equal(mails.length, 2);
    assert.ok(mails.some((m) => /Subject: release deployed rel\/qa \(revision 1\)/.test(m)), mails.join("\n---\n"));
    assert.ok(mails.every((m) => /To: ops@example\.com/.test(m)));
    assert.ok(![first.stdout, first.stderr, ...mails].join("\n").includes(SECRET), "the signing secret is never printed");

    // (Runs that notify run asynchronously: this process answers the webhook meanwhile.)
    const secondRun = await box.runAsync(["pipelines", "run", "release", "--json"], env);
    assert.equal(secondRun.code, 0, secondRun.stderr);
    const second = { doc: JSON.parse(secondRun.stdout) };
    assert.equal(second.doc.stages[0].outputs.registered, false, "0.8 is not better than the champion");
    assert.deepEqual([second.doc.stages[1].status, second.doc.stages[1].message], ["skipped", "condition is false: stages.train.registered == true"]);
    assert.equal(second.doc.stages[2].status, "succeeded");

    const third = await box.runAsync(["pipelines", "run", "release", "--param", "accuracy=0.9", "--json"], env);
    assert.equal(JSON.parse(third.stdout).stages[1].status, "succeeded", "a better model deploys again");

    const runs = box.json(["pipelines", "runs", "release"]);
    assert.deepEqual(runs.doc.runs.map((r: any) => r.status), ["succeeded", "succeeded", "succeeded"]);
    const logs = box.run(["pipelines", "logs", doc.id, "--stage", "train"]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /\[main\] trained/);
    const deployLog = box.run(["pipelines", "logs", doc.id, "--stage", "qa"]);
    assert.match(deployLog.stdout, /done create job\.train/);
    const status = box.run(["pipelines", "status", doc.id.slice(0, 10)]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /qa\s+deploy\s+succeeded/);
    const unknown = box.run(["pipelines", "run", "relase"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no pipeline "relase" in rel\n {2}hint: did you mean "release"\?/);
    const param = box.run(["pipelines", "run", "release", "--param", "acuracy=1"]);
    assert.equal(param.code, 2);
    assert.match(param.stderr, /did you mean "accuracy"\?/);
  });
});

describe("pipelines: approvals decided by local users; the server carries the run on", () => {
  let box: Sandbox;
  before(() => {
    box = sandbox({
      "slipway.yaml": "project: appr\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n  prod: { approval: { approvers: [user:bob, group:release], required: 1 } }\n",
      "modules/ml/module.yaml": `module: ml
resources:
  jobs:
    check: { command: 'echo checked' }
  pipelines:
    release:
      stages:
        - { name: check, type: run, job: check }
        - { name: ok, type: approval, message: "ship to prod?" }
        - { name: prod, type: deploy, target: prod }
    hurry:
      stages:
        - { name: ok, type: approval, approvers: [user:bob], timeout: 2s }
        - { name: prod, type: deploy, target: prod }
`,
    });
    const d = box.run(["deploy"], { SLIPWAY_USER: "ann" });
    assert.equal(d.code, 0, d.stderr);
  });
  after(() => box.cleanup());

  const status = (id: string) => box.json(["pipelines", "status", id]).doc;

  it("a non-approver and the triggerer are refused; a listed approver approves; prod is deployed", async () => {
    const run = box.json(["pipelines", "run", "release"], { SLIPWAY_USER: "ann" });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.doc.status, "waiting");
    const ok = run.doc.stages[1];
    assert.deepEqual([ok.status, ok.approval.target, ok.approval.approvers, ok.approval.required], ["waiting", "prod", ["user:bob", "group:release"], 1]);
    assert.deepEqual(ok.approval.plan.map((p: any) => p.changes.map((c: any) => c.address)), [["job.check", "pipeline.hurry", "pipeline.release", "module.ml"]], "the approval shows what the prod deploy would change");
    assert.match(run.stderr, /started the Slipway server at http:\/\/127\.0\.0\.1:\d+: it carries the pipeline run on/);

    const eve = box.run(["pipelines", "approve", run.doc.id, "--stage", "ok"], { SLIPWAY_USER: "eve" });
    assert.equal(eve.code, 3);
    assert.match(eve.stderr, /error: eve is not an approver of stage ok of pipeline run \S+\n {2}hint: its approvers: user:bob, group:release/);
    const ann = box.run(["pipelines", "approve", run.doc.id, "--stage", "ok"], { SLIPWAY_USER: "ann" });
    assert.equal(ann.code, 3);
    // ann is no approver either; add her to the group: then self-review is what refuses her.
    assert.equal(box.run(["users", "create", "ann"]).code, 0);
    const joined = box.run(["groups", "add", "release", "ann"]);
    assert.equal(joined.code, 0, joined.stderr);
    const self = box.run(["pipelines", "approve", run.doc.id, "--stage", "ok"], { SLIPWAY_USER: "ann" });
    assert.equal(self.code, 3, self.stderr);
    assert.match(self.stderr, /ann triggered run \S+ and may not approve it \(prevent_self_review\)/);
    const wrongStage = box.run(["pipelines", "approve", run.doc.id, "--stage", "prod"], { SLIPWAY_USER: "bob" });
    assert.equal(wrongStage.code, 2);
    const bob = box.json(["pipelines", "approve", run.doc.id, "--stage", "ok", "--comment", "looks good"], { SLIPWAY_USER: "bob" });
    assert.equal(bob.code, 0, bob.stderr);
    assert.deepEqual([bob.doc.decision.user, bob.doc.decision.comment], ["bob", "looks good"]);
    await waitFor(() => status(run.doc.id).status === "succeeded", { what: "the server to deploy prod after the approval", timeoutMs: 30_000 });
    const done = status(run.doc.id);
    assert.equal(done.stages[1].message, "approved by bob");
    assert.equal(done.stages[2].message, "deployed prod: revision 1");
    const audit = box.json(["audit"]).doc.entries.filter((e: any) => e.action === "pipeline approve").map((e: any) => [e.actor, e.outcome]);
    assert.deepEqual(audit, [["eve", "forbidden"], ["ann", "forbidden"], ["ann", "self_review"], ["bob", "not_an_approval"], ["bob", "ok"]]);
  });

  it("an approval nobody decides fails when its timeout passes", async () => {
    const run = box.json(["pipelines", "run", "hurry"], { SLIPWAY_USER: "ann" });
    assert.equal(run.doc.status, "waiting", run.stderr);
    await waitFor(() => status(run.doc.id).status === "failed", { what: "the approval to time out", timeoutMs: 30_000 });
    const done = status(run.doc.id);
    assert.match(done.stages[0].message, /^not approved within 2s \(timed out; 0 of 1 approval\(s\)\)$/);
    assert.equal(done.stages[1].status, "skipped");
    const late = box.run(["pipelines", "approve", run.doc.id, "--stage", "ok"], { SLIPWAY_USER: "bob" });
    assert.equal(late.code, 3);
    assert.match(late.stderr, /is not waiting for approval \(it is failed\)/);
  });
});
