// Promotion between targets and guarded rollouts, through the real CLI, real jobs, the real gateway
// and the real server's pipelines loop:
//   - `models promote` copies a version (files into qa's own persisted_data store, manifest, metrics,
//     lineage) and moves an alias; qa then serves the promoted files; promoting it again is a no-op;
//     a `promote` stage does the same in a pipeline;
//   - `artifacts promote` is not exercised here (test/integration/artifacts.test.ts builds wheels);
//   - a `rollout` stage whose candidate errors on some input (real requests through the gateway) is
//     rolled back: the endpoint serves the champion only again, the stage fails, `rolled_back` is sent;
//   - a good candidate is rolled out in steps, then made durable: the alias moves and the endpoint's
//     module is deployed (a new revision in history).
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Slipway } from "../../src/index.js";
import { sandbox, waitFor, type Sandbox } from "../helpers/cli.js";

const MAKE = `import json, os
out = os.environ["SLIPWAY_OUTPUT_DIR"]
os.makedirs(os.path.join(out, "model"), exist_ok=True)
open(os.path.join(out, "model", "model.yaml"), "w").write("flavor: command\\ncommand: python3 serve.py\\nhealth: /health\\n")
open(os.path.join(out, "model", "tag.txt"), "w").write(os.environ["SLIPWAY_PARAM_tag"])
open(os.path.join(out, "model", "serve.py"), "w").write(open("serve_template.py").read())
json.dump({"score": float(os.environ["SLIPWAY_PARAM_score"])}, open(os.path.join(out, "metrics.json"), "w"))
`;

// A "bad" model answers 500 when the first value of a row is negative.
const SERVE = `import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
TAG = open("tag.txt").read().strip()
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code); self.send_header("content-type", "application/json"); self.send_header("content-length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_GET(self):
        self._send(200 if self.path == "/health" else 404, {"ok": True})
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        rows = body.get("inputs") or []
        if TAG == "bad" and any(r[0] < 0 for r in rows):
            return self._send(500, {"error": "negative input"})
        self._send(200, {"predictions": [sum(r) for r in rows], "tag": TAG})
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
`;

describe("promotion and rollouts", () => {
  let box: Sandbox;
  let hooks: Server;
  const events: Array<{ event: string; body: any }> = [];
  let token = "";

  before(async () => {
    hooks = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        events.push({ event: String(req.headers["x-slipway-event"]), body: JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", r));
    const port = (hooks.address() as AddressInfo).port;
    box = sandbox({
      // qa keeps model files in its own store: a promotion copies them there.
      "slipway.yaml": "project: rel\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n  qa:\n    archives:\n      persisted_data: { type: fs, path: qa-models }\n",
      "modules/ml/module.yaml": `module: ml
resources:
  models:
    m: {}
  jobs:
    train:
      params: { tag: good, score: "0.8" }
      source: src
      command: python3 make.py
      registers: { model: m, path: model, metric: score }
  endpoints:
    ep-\${target.name}:
      phase: 1
      served: [{ model: m, alias: champion }]
  pipelines:
    to-qa:
      stages:
        - { name: promote, type: promote, model: m@champion, from: dev, to: qa, alias: champion }
        - { name: note, type: notify, message: "promoted", when: "stages.promote.promoted == true" }
    roll:
      stages:
        - { name: roll, type: rollout, endpoint: ep-dev, model: m@challenger, steps: [50, 100], bake: 1s, min_requests: 4, max_error_rate: 0.2, alias: champion, gate: { metric: score, min_absolute_change: 0.05 } }
      notifications:
        - webhook: { url: "http://127.0.0.1:${port}/hook" }
          events: [rolled_back, succeeded, failed, promoted]
`,
      "modules/ml/src/make.py": MAKE,
      "modules/ml/src/serve_template.py": SERVE,
    });
    const d = box.run(["deploy", "--phase", "0"]);
    assert.equal(d.code, 0, d.stderr);
    const t = box.run(["run", "train", "--wait"]);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(box.run(["models", "alias", "set", "m", "champion", "1"]).code, 0);
  });
  after(async () => {
    box.run(["server", "stop"]);
    box.cleanup();
    await new Promise<void>((r) => hooks.close(() => r()));
  });

  it("models promote copies a version with its files, metrics and lineage, moves the alias, and says so once (CLI and SDK)", async () => {
    const first = box.json(["models", "promote", "m@champion", "--from", "dev", "--to", "qa", "--alias", "champion"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.doc.promoted, true);
    assert.deepEqual(first.doc.from, { target: "dev", version: 1 });
    assert.deepEqual(first.doc.to, { target: "qa", version: 1 });
    assert.deepEqual(first.doc.copied, { files: 3, bytes: first.doc.copied.bytes, present: 0 }, "the model folder's model.yaml, tag.txt and serve.py, into qa's own store");
    const dev = box.json(["models", "show", "m@1"]).doc;
    const qa = box.json(["models", "show", "m@champion", "-t", "qa"]).doc;
    assert.deepEqual(qa.files, dev.files);
    assert.deepEqual(qa.metrics, { score: 0.8 });
    assert.deepEqual(qa.lineage, dev.lineage);
    assert.equal(qa.promoted_from.target, "dev");
    assert.equal(qa.promoted_from.version, 1);
    assert.equal(dev.promoted_from, null);
    assert.match(box.run(["models", "show", "m@champion", "-t", "qa"]).stdout, /^  promoted from: dev version 1 at \S+$/m);

    const again = box.run(["models", "promote", "m/1", "--from", "dev", "--to", "qa"]);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, "m version 1 of dev is already in qa as version 1: nothing to promote\n");
    assert.equal(box.json(["models", "versions", "m", "-t", "qa"]).doc.versions.length, 1);

    const same = box.run(["models", "promote", "m@1", "--from", "dev", "--to", "dev"]);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /--from and --to are both dev/);
    // The SDK: the same operation.
    const sdk = await new Slipway({ project: box.dir, home: box.home }).models.promote("m/1", { from: "dev", to: "qa" });
    assert.deepEqual([sdk.promoted, sdk.to, sdk.version.promotedFrom?.target], [false, { target: "qa", version: 1 }, "dev"]);
    const unknown = box.run(["models", "promote", "m@1", "--from", "dev", "--to", "prod"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown target "prod"/);
  });

  it("qa serves the promoted version from its own store; a promote stage of a pipeline is a no-op the second time", async () => {
    const d = box.run(["deploy", "-t", "qa"]);
    assert.equal(d.code, 0, d.stderr);
    token = box.json(["tokens", "create", "--user", "tester"]).doc.token;
    const ep = box.json(["endpoints", "list", "-t", "qa"]).doc.endpoints[0];
    assert.deepEqual(ep.served.map((s: any) => [s.model, s.version, s.percent]), [["m", 1, 100]]);
    const r = await fetch(ep.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ inputs: [[1, 2]] }) });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { predictions: [3], tag: "good" });

    assert.equal(box.run(["deploy"]).code, 0, "dev: the pipelines and the endpoint");
    const run = box.json(["pipelines", "run", "to-qa"]);
    assert.equal(run.code, 0, run.stderr);
    const promote = run.doc.stages.find((s: any) => s.name === "promote");
    assert.equal(promote.status, "succeeded");
    assert.equal(promote.message, "m version 1 of dev was already in qa as version 1: nothing to promote; m@champion -> version 1");
    assert.equal(run.doc.stages.find((s: any) => s.name === "note").status, "skipped");
  });

  /** Sends requests to ep-dev until `done` says stop; returns which version answered each and with what status. */
  async function traffic(inputs: number[][][], done: () => boolean): Promise<Array<{ version: string; status: number }>> {
    const url = box.json(["endpoints", "list"]).doc.endpoints.find((e: any) => e.name === "ep-dev").url;
    const seen: Array<{ version: string; status: number }> = [];
    for (let i = 0; !done() && i < 5000; i++) {
      const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ inputs: inputs[i % inputs.length] }) });
      await r.arrayBuffer();
      seen.push({ version: String(r.headers.get("x-served-model-version")), status: r.status });
      await new Promise((res) => setTimeout(res, 20));
    }
    return seen;
  }

  const runStatus = (id: string) => box.json(["pipelines", "status", id]).doc;

  it("a candidate that errors on some input is rolled back: the champion serves alone again, the stage fails, rolled_back is sent", async () => {
    assert.equal(box.run(["run", "train", "--wait", "--param", "tag=bad", "--param", "score=0.9"]).code, 0);
    assert.equal(box.run(["models", "alias", "set", "m", "challenger", "2"]).code, 0);
    const started = box.json(["pipelines", "run", "roll"]);
    assert.equal(started.doc.status, "waiting", started.stderr);
    const id = started.doc.id;
    assert.match(started.doc.stages[0].message, /^step 1\/2: m@2 at 50% until /);
    let finished = false;
    const poll = setInterval(() => {
      void box.runAsync(["pipelines", "status", id, "--json"]).then((r) => {
        if (["failed", "succeeded"].includes(JSON.parse(r.stdout).status)) finished = true;
      });
    }, 300);
    const seen = await traffic([[[1, 2]], [[-1, 2]]], () => finished);
    clearInterval(poll);
    const done = runStatus(id);
    assert.equal(done.status, "failed");
    const stage = done.stages[0];
    assert.match(stage.message, /^rolled back m@2 on ep-dev: error rate \d+\.\d% at 50% is above max_error_rate 20% .*; the endpoint serves what is deployed again$/);
    assert.ok(seen.some((s) => s.version === "m@2" && s.status === 500), "the candidate answered some requests with 500 through the gateway");
    // After the rollback only the champion answers.
    const afterwards = await traffic([[[-1, 2]]], ((n) => () => n++ >= 10)(0));
    assert.deepEqual([...new Set(afterwards.map((s) => `${s.version} ${s.status}`))], ["m@1 200"]);
    await waitFor(() => events.some((e) => e.event === "rolled_back"), 10_000);
    const hook = events.find((e) => e.event === "rolled_back")!.body;
    assert.equal(hook.stage, "roll");
    assert.match(hook.title, /rolled back m@2 on ep-dev/);
    assert.equal(box.json(["models", "show", "m@champion"]).doc.version, 1, "the alias did not move");
  });

  it("a good candidate is rolled out in steps; at the end the alias moves and the endpoint's module is deployed (a revision)", async () => {
    const revisions = box.json(["history"]).doc.deployments.length;
    assert.equal(box.run(["run", "train", "--wait", "--param", "tag=good", "--param", "score=0.95"]).code, 0);
    assert.equal(box.run(["models", "alias", "set", "m", "challenger", "3"]).code, 0);
    const started = box.json(["pipelines", "run", "roll"]);
    const id = started.doc.id;
    let finished = false;
    const poll = setInterval(() => {
      void box.runAsync(["pipelines", "status", id, "--json"]).then((r) => {
        if (["failed", "succeeded"].includes(JSON.parse(r.stdout).status)) finished = true;
      });
    }, 300);
    const seen = await traffic([[[1, 2]], [[-1, 2]]], () => finished);
    clearInterval(poll);
    const done = runStatus(id);
    assert.equal(done.status, "succeeded", JSON.stringify(done.stages));
    assert.match(done.stages[0].message, /^rolled out m@3 to 100% of ep-dev in 2 step\(s\); m@champion -> 3, deployed \(revision \d+\)$/);
    assert.ok(seen.some((s) => s.version === "m@3"));
    assert.ok(seen.every((s) => s.status === 200));
    assert.equal(box.json(["models", "show", "m@champion"]).doc.version, 3);
    const ep = box.json(["endpoints", "list"]).doc.endpoints.find((e: any) => e.name === "ep-dev");
    assert.deepEqual(ep.served.map((s: any) => [s.version, s.percent]), [[3, 100]]);
    assert.equal(box.json(["history"]).doc.deployments.length, revisions + 1);
    const logs = box.run(["pipelines", "logs", id, "--stage", "roll"]).stdout;
    assert.match(logs, /gate: m@3 passes \(score 0\.95; champion m@1: 0\.8, change 0\.15\)/);
    assert.match(logs, /step 1\/2: m@3 serves 50%/);
    assert.match(logs, /step 2\/2 at 100%: \d+ request\(s\), 0 error\(s\)/);
  });
});
