// Models and endpoints through the real CLI: real runs register real models, a real local server
// (started by deploy) serves them on 127.0.0.1 with real onnxruntime and real model processes.
import assert from "node:assert/strict";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { processAlive } from "../../src/util/run-script.js";
import { Slipway } from "../../src/index.js";
import { exited, REPO, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { homeArchive } from "../helpers/home-backends.js";
import { servingProject } from "../helpers/projects.js";

const IRIS = { inputs: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] };

describe("models and endpoints", () => {
  let box: Sandbox;
  let url = "";
  let token = "";
  const post = (path: string, body: unknown, auth: string | null = token, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

  before(() => {
    box = sandbox(servingProject(REPO, (p) => readFileSync(p, "utf8")));
    symlinkSync(join(REPO, "node_modules"), join(box.dir, "node_modules"));
    assert.equal(box.run(["deploy", "--phase", "0"]).code, 0);
  });
  after(() => box.cleanup());

  it("refuses to deploy an endpoint whose model has no version yet, naming the job that registers it", () => {
    const r = box.run(["deploy"]);
    assert.equal(r.code, 2, "model_version_missing is invalid input (exit 2, from the error-code registry)");
    assert.match(r.stderr, /endpoint ep-onnx serves clf@champion: model clf has no versions in serve\/dev/);
    assert.match(r.stderr, /hint: job train_iris registers clf: run `slipway run train_iris --wait -t dev` first/);
  });

  it("registers versions from runs; only_if_better keeps the champion unless beaten", () => {
    assert.equal(box.run(["run", "train_iris", "--wait"]).code, 0);
    const worse = box.json(["run", "train_iris", "--wait", "--param", "epochs=5"]).doc;
    assert.equal(worse.results.registration.registered, false);
    assert.match(worse.results.registration.reason, /accuracy .* is not better than the champion \(version 1/);
    assert.equal(box.run(["run", "train_echo", "--wait"]).code, 0);
    const versions = box.json(["models", "versions", "clf"]).doc.versions;
    assert.equal(versions.length, 1);
    assert.deepEqual(versions[0].aliases, ["champion"]);
    assert.equal(versions[0].flavor, "onnx");
    assert.match(versions[0].lineage.run, /^r\w+/);
    assert.ok(versions[0].metrics.accuracy > 0.8);
    const shown = box.json(["models", "show", "clf@champion"]).doc;
    assert.deepEqual(Object.keys(shown.files).sort(), ["model.onnx", "model.yaml"]);
    assert.equal(box.run(["models", "show", "clf@nope"]).code, 2);
  });

  it("deploy starts the local server and serves the registered versions", async () => {
    const r = box.json(["deploy"]);
    assert.equal(r.code, 0, r.stderr);
    const list = box.json(["endpoints", "list"]).doc.endpoints;
    const onnx = list.find((e: any) => e.name === "ep-onnx");
    assert.deepEqual(onnx.served, [{ model: "clf", version: 1, percent: 100, ready: true }]);
    url = new URL(onnx.url).origin;
    token = box.json(["tokens", "create", "--user", "tester"]).doc.token;
    const live = await fetch(`${url}/v2/health/ready`);
    assert.equal(live.status, 200);
  });

  it("answers every MLflow scoring format as MLflow does, and the Open Inference Protocol alike", async () => {
    const answers = [];
    for (const body of [IRIS, { instances: IRIS.inputs }, { dataframe_split: { columns: ["a", "b", "c", "d"], data: IRIS.inputs } }, { dataframe_records: IRIS.inputs.map(([a, b, c, d]) => ({ a, b, c, d })) }]) {
      const r = await post("/serving-endpoints/ep-onnx/invocations", body);
      assert.equal(r.status, 200);
      answers.push(((await r.json()) as any).predictions);
    }
    // Tensors in: outputs by name; a DataFrame in: records, one per output element (MLflow's onnx flavor).
    const [setosa, virginica] = answers[0].probabilities as number[][];
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], [...setosa!, ...virginica!].map((p) => ({ probabilities: p })));
    assert.deepEqual(answers[3], answers[2]);
    assert.ok(setosa![0]! > 0.9 && virginica![2]! > 0.5, JSON.stringify(answers[0]));
    const oip = await post("/v2/models/ep-onnx/infer", { id: "q1", inputs: [{ name: "X", shape: [2, 4], datatype: "FP32", data: IRIS.inputs.flat() }] });
    assert.equal(oip.status, 200);
    const doc = (await oip.json()) as any;
    assert.equal(doc.id, "q1");
    assert.equal(doc.model_version, "1");
    assert.deepEqual(doc.outputs[0].shape, [2, 3]);
    assert.equal((await fetch(`${url}/v2/models/ep-onnx/ready`)).status, 200);
    const meta = (await (await fetch(`${url}/v2/models/ep-onnx`)).json()) as any;
    assert.deepEqual(meta.inputs, [{ name: "X", datatype: "FP32", shape: [-1, 4] }]);
  });

  it("the SDK reads the registry, queries endpoints and reads their inference tables", async () => {
    const slipway = new Slipway({ project: box.dir, home: box.home });
    assert.deepEqual((await slipway.models.versions("clf")).map((v) => [v.version, v.aliases]), [[1, ["champion"]]]);
    assert.equal((await slipway.models.show("clf@champion")).flavor, "onnx");
    const answer = await slipway.endpoints.query("ep-onnx", IRIS, { token });
    assert.equal(answer.status, 200);
    assert.equal(((answer.body as any).predictions.probabilities as number[][]).length, 2);
    const logged = await slipway.endpoints.logs("ep-onnx", 1);
    assert.equal(logged[0]!.request_id, answer.requestId);
    assert.deepEqual((await slipway.endpoints.list()).map((e) => e.name).sort(), ["ep-cmd", "ep-onnx"]);
  });

  it("401 without a valid token, 403 without CAN_QUERY, 200 for a group that has it, 400 for malformed bodies", async () => {
    assert.equal((await post("/serving-endpoints/ep-onnx/invocations", IRIS, null)).status, 401);
    assert.equal((await post("/serving-endpoints/ep-onnx/invocations", IRIS, "swt_not-a-token")).status, 401);
    const outsider = box.json(["tokens", "create", "--user", "mallory"]).doc.token;
    const denied = await post("/serving-endpoints/ep-onnx/invocations", IRIS, outsider);
    assert.equal(denied.status, 403);
    assert.match(((await denied.json()) as any).message, /mallory may not query ep-onnx/);
    const analyst = box.json(["tokens", "create", "--user", "ann", "--group", "analysts"]).doc.token;
    assert.equal((await post("/serving-endpoints/ep-cmd/invocations", { inputs: [[1, 2]] }, analyst)).status, 200);
    assert.equal((await post("/serving-endpoints/ep-onnx/invocations", IRIS, analyst)).status, 403);
    const bad = await post("/serving-endpoints/ep-onnx/invocations", "{not json");
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).message, /not valid JSON/);
    const shape = await post("/serving-endpoints/ep-onnx/invocations", { inputs: [[1, 2, 3]] });
    assert.equal(shape.status, 400);
    assert.match(((await shape.json()) as any).message, /shape \[1,3\], the model expects \[-1,4\]/);
    const neither = await post("/serving-endpoints/ep-onnx/invocations", { rows: [] });
    assert.match(((await neither.json()) as any).message, /none of "dataframe_split", "dataframe_records", "instances", "inputs"/);
    assert.equal((await post("/serving-endpoints/nope/invocations", IRIS)).status, 404);
  });

  it("restarts a crashed model server; while it is down the endpoint answers 503 with Retry-After", async () => {
    const pidFile = join(box.home, "models", "serve", "dev", "echo", "1", "server.pid");
    const pid = Number(readFileSync(pidFile, "utf8"));
    process.kill(pid, "SIGKILL");
    await waitFor(() => !processAlive(pid), 5000, "the model server to die");
    let saw503 = false;
    await waitFor(
      () => {
        void fetch(`${url}/v2/models/ep-cmd/ready`).then((r) => (saw503 ||= r.status === 503));
        return saw503;
      },
      5000,
      "the endpoint to report not ready",
    );
    const down = await post("/serving-endpoints/ep-cmd/invocations", { inputs: [[1, 2]] });
    if (down.status === 503) assert.equal(down.headers.get("retry-after"), "1");
    else assert.equal(down.status, 200, "it may already be back");
    await waitFor(() => existsSync(pidFile) && Number(readFileSync(pidFile, "utf8")) !== pid, 15_000, "a restarted model server");
    await waitFor(async () => (await post("/serving-endpoints/ep-cmd/invocations", { inputs: [[1, 2]] })).status === 200, { timeoutMs: 15_000, intervalMs: 100, what: "the restarted server to answer" });
  });

  it("moves traffic to a new version in a rolling update under load, with zero failed requests, then splits it", async () => {
    assert.equal(box.run(["run", "train_echo", "--wait", "--param", "tag=v2", "--param", "score=2"]).code, 0);
    assert.deepEqual(box.json(["plan"]).doc.actions.map((a: any) => [a.action, a.address]), [["update", "endpoint.ep-cmd"]]);
    let stop = false;
    const statuses: number[] = [];
    const tags = new Set<string>();
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          const r = await post("/serving-endpoints/ep-cmd/invocations", { inputs: [[1, 2]] });
          statuses.push(r.status);
          tags.add(((await r.json()) as any).tag);
        }
      }),
    );
    // The deploy starts under load and ends with traffic on the new version; the load goes on until
    // enough requests were answered by each version.
    await waitFor(() => statuses.length >= 25, { what: "requests answered before the deploy" });
    const d = box.start(["deploy"]);
    const deployed = exited(d);
    await waitFor(() => tags.has("v2") && statuses.length >= 60, { timeoutMs: 60_000, what: "requests answered by v2" });
    stop = true;
    await load;
    const done = await deployed;
    assert.equal(done.code, 0, done.stderr);
    assert.ok(statuses.length > 50, `${statuses.length} requests`);
    assert.deepEqual([...new Set(statuses)], [200], "no request failed during the switch");
    assert.deepEqual([...tags].sort(), ["v1", "v2"]);

    box.write({ "modules/m/module.yaml": readFileSync(join(box.dir, "modules/m/module.yaml"), "utf8").replace("served: [{ model: echo, alias: champion }]", "served: [{ model: echo, version: 1, percent: 50 }, { model: echo, version: 2, percent: 50 }]") });
    assert.equal(box.run(["deploy"]).code, 0);
    const seen: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const r = await post("/serving-endpoints/ep-cmd/invocations", { inputs: [[1]] });
      const v = r.headers.get("x-served-model-version")!;
      seen[v] = (seen[v] ?? 0) + 1;
    }
    assert.ok(seen["echo@1"]! > 50 && seen["echo@2"]! > 50, JSON.stringify(seen));
  });

  it("logs every answered request in the inference table with ids and latencies", async () => {
    const before = box.json(["endpoints", "logs", "ep-onnx", "--limit", "1000"]).doc.requests.length;
    for (let i = 0; i < 25; i++) assert.equal((await post("/serving-endpoints/ep-onnx/invocations", { ...IRIS, client_request_id: `c-${i}` })).status, 200);
    const rows = box.json(["endpoints", "logs", "ep-onnx", "--limit", "1000"]).doc.requests;
    assert.equal(rows.length, before + 25);
    const last = rows[rows.length - 1];
    assert.equal(last.client_request_id, "c-24");
    assert.match(last.request_id, /^[0-9a-f-]{36}$/);
    assert.equal(last.model, "clf");
    assert.equal(last.model_version, 1);
    assert.equal(last.status, 200);
    assert.ok(last.latency_ms >= last.model_ms && last.gateway_ms >= 0 && last.queue_ms >= 0);
    assert.match(last.request, /5\.1/);
    assert.match(last.response, /predictions/);
  });

  it("shows when endpoints expire; a redeploy resets the clock; the reaper destroys them after the TTL, archiving the inference table", async () => {
    const first = box.json(["status"]).doc.endpoints.find((e: any) => e.name === "ep-onnx");
    assert.equal(Date.parse(first.expires_at) - Date.parse(first.deployed_at), 3_600_000);
    const halfway = { SLIPWAY_CLOCK_OFFSET_MS: String(30 * 60_000) };
    assert.deepEqual(box.json(["endpoints", "reap"], halfway).doc.destroyed, []);
    assert.equal(box.run(["deploy"], halfway).code, 0);
    const reset = box.json(["status"]).doc.endpoints.find((e: any) => e.name === "ep-onnx");
    assert.ok(Date.parse(reset.expires_at) - Date.parse(first.expires_at) >= 29 * 60_000, "the redeploy moved the expiry");
    const logged = box.json(["endpoints", "logs", "ep-onnx", "--limit", "1000"]).doc.requests.length;
    // 70 minutes after the first deploy: 40 after the redeploy, so nothing expires yet.
    assert.deepEqual(box.json(["endpoints", "reap"], { SLIPWAY_CLOCK_OFFSET_MS: String(70 * 60_000) }).doc.destroyed, []);
    const gone = box.json(["endpoints", "reap"], { SLIPWAY_CLOCK_OFFSET_MS: String(100 * 60_000) }).doc.destroyed;
    assert.deepEqual(gone.sort(), ["serve/dev/ep-cmd", "serve/dev/ep-onnx"]);
    assert.deepEqual(box.json(["status"]).doc.endpoints, []);
    assert.equal(box.json(["history"]).doc.deployments[0].operation, "expire");
    // The misc archive: a folder of the home by default, the bucket under the backend matrix.
    const misc = homeArchive(box.home, "misc");
    const [key] = await misc.list("inference/serve/dev/ep-onnx/");
    const rows = gunzipSync((await misc.get(key!))!).toString("utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(rows.length, logged);
    assert.equal(box.run(["endpoints", "logs", "ep-onnx"]).code, 2, "the endpoint is gone");
  });
});
