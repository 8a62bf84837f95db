// The gateway's routes through its fetch handler (no port): MLflow scoring and the Open Inference
// Protocol, tokens and grants, errors, not-ready versions, the body bound, and the inference table.
// The endpoints are the real Endpoints class (rolling apply, traffic split) whose model runtimes are
// fakes; tokens and the inference table are real SQLite.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openSqliteState } from "../store/state/sqlite/sqlite-state.js";
import type { StateStore } from "../store/state/state-store.js";
import type { ModelManifest } from "../registry/manifest.js";
import { createToken, TokenVerifier } from "./auth.js";
import { Endpoints, type EndpointConfig, type ServedConfig } from "./endpoints.js";
import { asFetchHandler, createGateway } from "./gateway.js";
import { InferenceLog } from "./inference-log.js";
import { InferenceTable } from "./inference-table.js";
import { BadRequest } from "./protocols/index.js";
import type { InvokeRequest, InvokeResult, ModelRuntime } from "./runtimes/runtime.js";

/** A model runtime that answers from memory: `ready` is set by the test, errors on demand. */
class FakeRuntime implements ModelRuntime {
  isReady = true;
  readonly requests: InvokeRequest[] = [];
  constructor(readonly label: string, readonly served: ServedConfig) {}
  async start(): Promise<void> {}
  ready(): boolean {
    return this.isReady;
  }
  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    this.requests.push(request);
    const body = request.body as { inputs?: unknown };
    if (body && typeof body === "object" && "fail" in body) throw new Error("the model crashed");
    if (body && typeof body === "object" && "bad" in body) throw new BadRequest("input X needs 4 columns");
    return { status: 200, body: { predictions: [`${this.served.model}@${this.served.version}`], protocol: request.protocol } };
  }
  async stop(): Promise<void> {}
}

const command: ModelManifest = { flavor: "command", command: "serve", health: "/health", startup_timeout: 60 };
const onnx: ModelManifest = { flavor: "onnx", file: "model.onnx", inputs: [{ name: "X", type: "float32", shape: [-1, 4] }], outputs: [{ name: "y", type: "int64", shape: [-1] }] };

describe("gateway routes (fetch handler)", () => {
  let root: string;
  let store: StateStore;
  let log: InferenceLog;
  let endpoints: Endpoints;
  let fetchHandler: (r: Request) => Promise<Response>;
  const runtimes: FakeRuntime[] = [];
  const tokens: Record<string, string> = {};

  const config = (name: string, served: Array<Pick<ServedConfig, "model" | "version" | "percent"> & { manifest?: ModelManifest }>, grants: EndpointConfig["grants"], sample = 1): EndpointConfig => ({
    project: "p",
    target: "dev",
    name,
    configVersion: 1,
    served: served.map((s) => ({ manifest: command, dir: "/nowhere", ...s })),
    grants,
    inference: { sample, maxBodyBytes: 64 },
    replicas: { min: 1, max: 1 },
  });
  const call = (method: string, path: string, body?: unknown, token: string | null = tokens.ada!, headers: Record<string, string> = {}) =>
    fetchHandler(
      new Request(`http://gateway.test${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
  const runtimeOf = (endpoint: string) => runtimes.filter((r) => r.label.startsWith(`${endpoint}:`));

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "slipway-gateway-"));
    store = openSqliteState(":memory:");
    await store.migrate();
    log = await InferenceLog.open(join(root, "inference.db"));
    endpoints = new Endpoints({ env: {}, log: () => {} });
    // The runtimes are fakes: no process, no onnxruntime.
    (endpoints as unknown as { runtimeFor(c: EndpointConfig, s: ServedConfig, i: number): ModelRuntime }).runtimeFor = (c, s, i) => {
      const r = new FakeRuntime(`${c.name}: ${s.model}@${s.version} #${i + 1}`, s);
      runtimes.push(r);
      return r;
    };
    for (const [user, groups] of [["ada", []], ["ann", ["analysts"]], ["mallory", []]] as const) {
      tokens[user] = await createToken(store.tokens(), { user, groups: [...groups] }, null, "2026-01-01T00:00:00.000Z");
    }
    await endpoints.apply(config("fraud", [{ model: "clf", version: 1, percent: 100, manifest: onnx }], [{ level: "CAN_MANAGE", user: "ada" }, { level: "CAN_QUERY", group: "analysts" }]));
    await endpoints.apply(config("split", [{ model: "echo", version: 1, percent: 50 }, { model: "echo", version: 2, percent: 50 }], [{ level: "CAN_QUERY", group: "users" }]));
    await endpoints.apply(config("quiet", [{ model: "echo", version: 3, percent: 100 }], [{ level: "CAN_QUERY", user: "ada" }], 0));
    fetchHandler = asFetchHandler(createGateway({ endpoints, tokens: new TokenVerifier(store.tokens()), log, now: () => Date.UTC(2026, 0, 2) }), { maxBodyBytes: 1024 });
  });
  after(async () => {
    await log.close();
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("MLflow scoring answers with the model's output, a request id and the version that answered", async () => {
    const r = await call("POST", "/serving-endpoints/fraud/invocations", { inputs: [[5.1, 3.5, 1.4, 0.2]] });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { predictions: ["clf@1"], protocol: "mlflow" });
    assert.match(r.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
    assert.equal(r.headers.get("x-served-model-version"), "clf@1");
    assert.equal(r.headers.get("content-type"), "application/json");
  });

  it("the Open Inference Protocol: infer, health, model metadata and readiness", async () => {
    const infer = await call("POST", "/v2/models/fraud/infer", { inputs: [{ name: "X", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] });
    assert.equal(infer.status, 200);
    assert.equal(((await infer.json()) as { protocol: string }).protocol, "oip");
    assert.deepEqual(await (await call("GET", "/v2/health/live", undefined, null)).json(), { live: true });
    assert.equal((await call("GET", "/v2/health/ready", undefined, null)).status, 200);
    const meta = await call("GET", "/v2/models/fraud", undefined, null);
    assert.deepEqual(await meta.json(), { name: "fraud", versions: ["1"], platform: "onnxruntime_onnx", inputs: [{ name: "X", datatype: "FP32", shape: [-1, 4] }], outputs: [{ name: "y", datatype: "INT64", shape: [-1] }] });
    assert.equal(((await (await call("GET", "/v2/models/split", undefined, null)).json()) as { platform: string }).platform, "command");
    assert.deepEqual(await (await call("GET", "/v2/models/fraud/ready", undefined, null)).json(), { name: "fraud", ready: true });
  });

  it("OIP routes: errors as {\"error\"}, GET /v2, versioned routes pick that version, config", async () => {
    const missing = await call("POST", "/v2/models/nope/infer", {});
    assert.deepEqual([missing.status, await missing.json()], [404, { error: "no endpoint named nope" }]);
    const anonymous = await call("POST", "/v2/models/fraud/infer", {}, null);
    assert.deepEqual([anonymous.status, await anonymous.json()], [401, { error: "send a bearer token: Authorization: Bearer <token> (create one with `slipway tokens create`)" }]);
    const one = { inputs: [{ name: "X", shape: [1, 1], datatype: "FP32", data: [1] }] };
    const crashed = await call("POST", "/v2/models/fraud/infer", { fail: true, ...one });
    assert.deepEqual([crashed.status, await crashed.json()], [500, { error: "the model failed: the model crashed" }]);
    assert.deepEqual(((await (await call("GET", "/v2", undefined, null)).json()) as { extensions: string[] }).extensions, ["binary_tensor_data", "model_configuration"]);
    for (let i = 0; i < 6; i++) assert.equal((await call("POST", "/v2/models/split/versions/2/infer", one)).headers.get("x-served-model-version"), "echo@2");
    const unknown = await call("POST", "/v2/models/split/versions/3/infer", one);
    assert.deepEqual([unknown.status, await unknown.json()], [404, { error: "endpoint split does not serve version 3 (it serves 1, 2)" }]);
    assert.deepEqual(await (await call("GET", "/v2/models/split/versions/1/ready", undefined, null)).json(), { name: "split", ready: true });
    const config = (await (await call("GET", "/v2/models/fraud/versions/1/config", undefined, null)).json()) as { input: unknown; max_batch_size: number };
    assert.deepEqual([config.input, config.max_batch_size], [[{ name: "X", data_type: "TYPE_FP32", dims: [-1, 4] }], 0]);
    assert.deepEqual(await (await call("GET", "/v2/nowhere", undefined, null)).json(), { error: "no route for GET /v2/nowhere" });
  });

  it("MLflow routes: 415 for content types it does not read, CSV as a DataFrame, /ping, /health, /version", async () => {
    const form = await call("POST", "/serving-endpoints/fraud/invocations", "inputs=1", tokens.ada, { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(form.status, 415);
    assert.match(await form.text(), /only supports the following content types/);
    const csv = await call("POST", "/serving-endpoints/fraud/invocations", "a,b\n1,2\n", tokens.ada, { "content-type": "text/csv" });
    assert.equal(csv.status, 200);
    const seen = runtimeOf("fraud")[0]!.requests.at(-1)!;
    assert.deepEqual([seen.body, seen.contentType], [{ dataframe_split: { columns: ["a", "b"], data: [[1, 2]] } }, "text/csv"]);
    for (const path of ["/ping", "/health", "/serving-endpoints/fraud/ping", "/serving-endpoints/fraud/health"]) assert.equal(await (await call("GET", path, undefined, null)).text(), "\n");
    assert.match(await (await call("GET", "/version", undefined, null)).text(), /^\d+\.\d+\.\d+/);
    assert.equal((await call("GET", "/serving-endpoints/nope/ping", undefined, null)).status, 404);
  });

  it("401 without a token or with an unknown one, 403 without CAN_QUERY; a group grant and `users` let callers in", async () => {
    const none = await call("POST", "/serving-endpoints/fraud/invocations", { inputs: [[1]] }, null);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), "Bearer");
    assert.equal(((await none.json()) as { error_code: string }).error_code, "UNAUTHENTICATED");
    assert.equal((await call("POST", "/serving-endpoints/fraud/invocations", { inputs: [[1]] }, "swt_not-a-token")).status, 401);
    assert.equal((await call("POST", "/serving-endpoints/fraud/invocations", { inputs: [[1]] }, tokens.ada!.slice(0, -1))).status, 401);
    const denied = await call("POST", "/serving-endpoints/fraud/invocations", { inputs: [[1]] }, tokens.mallory);
    assert.equal(denied.status, 403);
    assert.deepEqual(await denied.json(), { error_code: "PERMISSION_DENIED", message: "mallory may not query fraud: CAN_QUERY or CAN_MANAGE is needed" });
    assert.equal((await call("POST", "/serving-endpoints/fraud/invocations", { inputs: [[1]] }, tokens.ann)).status, 200, "analysts have CAN_QUERY");
    assert.equal((await call("POST", "/serving-endpoints/split/invocations", { inputs: [[1]] }, tokens.mallory)).status, 200, "`users` is every token holder");
    assert.equal((await call("POST", "/serving-endpoints/quiet/invocations", { inputs: [[1]] }, tokens.ann)).status, 403);
  });

  it("404 for an unknown endpoint (before any token check) and an unknown route", async () => {
    const missing = await call("POST", "/serving-endpoints/nope/invocations", { inputs: [[1]] }, null);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error_code: "RESOURCE_DOES_NOT_EXIST", message: "no endpoint named nope" });
    assert.equal((await call("POST", "/v2/models/nope/infer", {})).status, 404);
    assert.equal((await call("GET", "/v2/models/nope", undefined, null)).status, 404);
    const route = await call("DELETE", "/serving-endpoints/fraud/invocations");
    assert.equal(route.status, 404);
    assert.equal(((await route.json()) as { error_code: string }).error_code, "ENDPOINT_NOT_FOUND");
    assert.equal((await call("GET", "/", undefined, null)).status, 404);
  });

  it("400 for a body that is not JSON or that the model refuses; 500 when the model fails", async () => {
    const bad = await call("POST", "/serving-endpoints/fraud/invocations", "{not json");
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /^the body is not valid JSON/);
    const refused = await call("POST", "/serving-endpoints/fraud/invocations", { bad: true });
    assert.deepEqual([refused.status, await refused.json()], [400, { error_code: "BAD_REQUEST", message: "input X needs 4 columns" }]);
    const failed = await call("POST", "/serving-endpoints/fraud/invocations", { fail: true });
    assert.deepEqual([failed.status, await failed.json()], [500, { error_code: "INTERNAL_ERROR", message: "the model failed: the model crashed" }]);
  });

  it("413 for a body over the bound, whether it says its length or not; the model never sees it", async () => {
    const before = runtimeOf("fraud")[0]!.requests.length;
    const big = JSON.stringify({ inputs: [Array.from({ length: 300 }, () => 1.5)] });
    assert.ok(big.length > 1024);
    const declared = await call("POST", "/serving-endpoints/fraud/invocations", big, tokens.ada, { "content-length": String(big.length) });
    assert.equal(declared.status, 413);
    assert.deepEqual(await declared.json(), { error_code: "REQUEST_TOO_LARGE", message: "request bodies are limited to 1024 bytes" });
    const streamed = await fetchHandler(
      new Request("http://gateway.test/serving-endpoints/fraud/invocations", {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.ada}` },
        body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(big)), c.close()) }),
        duplex: "half",
      } as RequestInit),
    );
    assert.equal(streamed.status, 413);
    assert.equal(runtimeOf("fraud")[0]!.requests.length, before);
    assert.equal((await call("POST", "/serving-endpoints/fraud/invocations", { inputs: [[1, 2, 3, 4]] })).status, 200, "a body within the bound is served");
  });

  it("503 with Retry-After while no version is ready; ready routes say so; a split sends traffic to the ready version", async () => {
    const [v1, v2] = runtimeOf("split");
    v1!.isReady = false;
    try {
      for (let i = 0; i < 10; i++) assert.equal((await call("POST", "/serving-endpoints/split/invocations", { inputs: [[1]] })).headers.get("x-served-model-version"), "echo@2");
      assert.equal((await call("GET", "/v2/health/ready", undefined, null)).status, 503);
      v2!.isReady = false;
      const down = await call("POST", "/serving-endpoints/split/invocations", { inputs: [[1]] });
      assert.equal(down.status, 503);
      assert.equal(down.headers.get("retry-after"), "1");
      assert.equal(((await down.json()) as { error_code: string }).error_code, "TEMPORARILY_UNAVAILABLE");
      const ready = await call("GET", "/v2/models/split/ready", undefined, null);
      assert.deepEqual([ready.status, ready.headers.get("retry-after")], [503, "1"]);
    } finally {
      v1!.isReady = true;
      v2!.isReady = true;
    }
  });

  it("logs answered requests in the inference table (client request id, truncated bodies), and nothing for an endpoint that samples none", async () => {
    const table = new InferenceTable(join(root, "inference.db"));
    try {
      await log.flush();
      const before = table.count({ project: "p", target: "dev", endpoint: "fraud" });
      const r = await call("POST", "/serving-endpoints/fraud/invocations", { client_request_id: "c-1", inputs: [[1, 2, 3, 4]], padding: "x".repeat(100) });
      assert.equal(r.status, 200);
      assert.equal((await call("POST", "/serving-endpoints/quiet/invocations", { inputs: [[1]] })).status, 200);
      await log.flush();
      assert.equal(table.count({ project: "p", target: "dev", endpoint: "fraud" }), before + 1);
      const row = table.read({ project: "p", target: "dev", endpoint: "fraud" }, 1)[0]!;
      assert.equal(row.client_request_id, "c-1");
      assert.equal(row.request_id, r.headers.get("x-request-id"));
      assert.equal(row.timestamp, "2026-01-02T00:00:00.000Z");
      assert.deepEqual([row.model, row.model_version, row.status], ["clf", 1, 200]);
      assert.equal(row.request!.length, 64, "bodies are cut at the endpoint's max_body_bytes");
      assert.equal(table.count({ project: "p", target: "dev", endpoint: "quiet" }), 0);
      // The model never sees client_request_id.
      assert.equal("client_request_id" in (runtimeOf("fraud")[0]!.requests.at(-1)!.body as object), false);
    } finally {
      table.close();
    }
  });
});
