// The Kubernetes executor against a FAKE API server (test/helpers/fake-kube-api.ts). No Kubernetes API
// server can run on the test machines: the fake implements the few endpoints the executor calls through
// the official client library, and "runs" each Job's pod by executing its container's command as a
// real local process with the pod's environment. So what is real here: the CLI, the client library and
// its HTTP requests, the Job bodies, the runner in the "pod" (the real `slipway internal-runner --pod`),
// the run's outcome, logs and state (SQLite on a shared folder; PostgreSQL and S3 on the real test
// servers when they run). What is not: scheduling, image pulls, resource limits, the kubelet (the fake
// simulates ImagePullBackOff, Unschedulable, OOMKilled, eviction and activeDeadlineSeconds on request).
// This backend has not run against a live cluster (docs/scale-out.md says so too).
import assert from "node:assert/strict";
import { adminSql } from "../helpers/state-backends.js";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BIN, sandbox, type Sandbox } from "../helpers/cli.js";
import { startFakeKube, type FakeKube } from "../helpers/fake-kube-api.js";
import { awsEnv, createBucket, listObjects, removeBucket, s3Skip, testS3 } from "../helpers/s3.js";
import { waitFor, waitForValue } from "../helpers/wait.js";

const TOKEN = "s3cr3t-value-42";

const project = {
  "slipway.yaml": `project: kube
include: [modules/*/module.yaml]
variables:
  token: { secret: true }
targets:
  k8s:
    default: true
    executor:
      type: kubernetes
      namespace: ml
      image: registry.example.com/ml/slipway:1.0
      secret: run-secrets
      service_account: runner
      volume: { claim: shared, path: "\${env.K8S_SHARED}" }
  badimage:
    executor: { type: kubernetes, namespace: ml, image: "registry.example.com/ml/missing:1.0", secret: run-secrets, volume: { claim: shared, path: "\${env.K8S_SHARED}" } }
  nowhere:
    executor: { type: kubernetes, namespace: ml, image: "registry.example.com/ml/slipway:1.0" }
  nocontext:
    executor: { type: kubernetes, namespace: ml, image: "registry.example.com/ml/slipway:1.0", context: prod-eu, volume: { claim: shared, path: "\${env.K8S_SHARED}" } }
`,
  "modules/m/module.yaml": `module: m
resources:
  jobs:
    hello:
      source: src
      params: { who: world }
      command: 'echo "hello $SLIPWAY_PARAM_who token-length=$$\{#SLIPWAY_VAR_token} host=$HOSTNAME"; cat greeting.txt; echo "{\\"who\\": \\"$SLIPWAY_PARAM_who\\"}" > "$SLIPWAY_OUTPUT_DIR/results.json"'
      compute: { cpus: 2, memory: 64M }
    fail:
      command: 'echo about to fail; exit 7'
    ticks:
      command: 'for i in $(seq 1 3000); do echo "tick $i"; sleep 0.1; done'
    limited:
      command: 'echo started; sleep 300'
      compute: { time_limit: 2s }
    gpu:
      command: 'true'
      compute: { gpus: 1 }
`,
  "modules/m/src/greeting.txt": "from the bundle\n",
};

describe("kubernetes executor against a fake API server", { concurrency: true }, () => {
  let fake: FakeKube;
  let box: Sandbox;
  let bin: string;
  const json = async (args: string[]) => {
    const r = await box.runAsync([...args, "--json"]);
    try {
      return { code: r.code, doc: JSON.parse(r.stdout), stderr: r.stderr };
    } catch {
      throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    }
  };
  const show = async (id: string) => (await json(["runs", "show", id])).doc;
  const created = (run: string) => fake.requests.find((r) => r.method === "POST" && r.body?.metadata?.labels?.["slipway.dev/run"] === run)?.body;

  before(async () => {
    bin = mkdtempSync(join(tmpdir(), "fake-kube-bin-"));
    // The image's `slipway` command: this checkout's CLI.
    writeFileSync(join(bin, "slipway"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, "slipway"), 0o755);
    box = sandbox(project);
    const pods = join(dirname(box.home), "pods");
    mkdirSync(pods);
    fake = await startFakeKube({ path: [bin], root: pods });
    fake.missingImages.add("registry.example.com/ml/missing:1.0");
    fake.secrets.set("ml/run-secrets", { SLIPWAY_VAR_token: TOKEN });
    Object.assign(box.env, { KUBECONFIG: fake.kubeconfig, K8S_SHARED: dirname(box.home), SLIPWAY_VAR_token: TOKEN });
    for (const target of ["k8s", "badimage", "nowhere", "nocontext"]) {
      const deployed = await box.runAsync(["deploy", "-t", target, "--yes"]);
      assert.equal(deployed.code, 0, deployed.stderr);
    }
  });
  after(async () => {
    await fake?.close();
    box?.cleanup();
    if (bin) rmSync(bin, { recursive: true, force: true });
  });

  it("a run completes: one Job with the job's resources and labels, the runner in its pod, results and logs recorded", async () => {
    const { code, doc } = await json(["run", "hello", "--wait", "--param", "who=kube"]);
    assert.equal(code, 0, JSON.stringify(doc));
    assert.equal(doc.status, "succeeded");
    assert.equal(doc.executor, "kubernetes");
    assert.deepEqual(doc.results, { who: "kube" });
    assert.equal(doc.handle.namespace, "ml");
    assert.equal(doc.handle.job, `slipway-${doc.id}`);
    const log = (await box.runAsync(["logs", doc.id])).stdout;
    // The task ran in the pod (its HOSTNAME is the pod's name) and got the secret from the Secret.
    assert.match(log, new RegExp(`\\[main\\] hello kube token-length=${TOKEN.length} host=slipway-${doc.id}-`));
    assert.match(log, /\[main\] from the bundle/);
  });

  it("the Job body: requests and limits, labels, the runner command, the Secret by reference and never a secret value", async () => {
    const { doc } = await json(["run", "hello", "--wait"]);
    assert.equal(doc.status, "succeeded", JSON.stringify(doc));
    const body = created(doc.id);
    assert.ok(body, "the executor created a Job");
    assert.equal(body.apiVersion, "batch/v1");
    assert.equal(body.kind, "Job");
    assert.deepEqual(body.metadata.labels, { "app.kubernetes.io/managed-by": "slipway", "slipway.dev/project": "kube", "slipway.dev/target": "k8s", "slipway.dev/job": "hello", "slipway.dev/run": doc.id });
    assert.equal(body.spec.backoffLimit, 0);
    const pod = body.spec.template.spec;
    assert.equal(pod.restartPolicy, "Never");
    assert.equal(pod.serviceAccountName, "runner");
    assert.deepEqual(pod.volumes, [{ name: "shared", persistentVolumeClaim: { claimName: "shared" } }]);
    const c = pod.containers[0];
    assert.equal(c.image, "registry.example.com/ml/slipway:1.0");
    assert.deepEqual(c.command, ["slipway", "internal-runner", "--pod", doc.id]);
    assert.deepEqual(c.resources, { requests: { cpu: "2", memory: "64M" }, limits: { cpu: "2", memory: "64M" } });
    assert.deepEqual(c.volumeMounts, [{ name: "shared", mountPath: dirname(box.home) }]);
    assert.deepEqual(
      c.env.find((e: { name: string }) => e.name === "SLIPWAY_VAR_token"),
      { name: "SLIPWAY_VAR_token", valueFrom: { secretKeyRef: { name: "run-secrets", key: "SLIPWAY_VAR_token" } } },
    );
    assert.ok(c.env.some((e: { name: string }) => e.name === "SLIPWAY_RUN_INSTRUCTIONS"));
    // Not anywhere in the request: the value, nor in any request the executor sent.
    assert.ok(!JSON.stringify(fake.requests).includes(TOKEN), "no request carries the secret's value");
  });

  it("a run fails: the task's exit code is recorded by the runner in the pod", async () => {
    const r = await box.runAsync(["run", "fail", "--wait"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\[main\] about to fail/);
    assert.match(r.stdout, /exited with code 7/);
  });

  it("cancel deletes the Job (propagationPolicy Background) and the runner records the cancellation", async () => {
    const { doc } = await json(["run", "ticks"]);
    await waitFor(async () => (await show(doc.id)).status === "running", { timeoutMs: 30_000, what: "the run to start in its pod" });
    const cancelled = await json(["cancel", doc.id]);
    assert.equal(cancelled.code, 0, JSON.stringify(cancelled.doc) + cancelled.stderr);
    assert.equal(cancelled.doc.status, "cancelled");
    const del = fake.requests.find((r) => r.method === "DELETE" && r.path === `/apis/batch/v1/namespaces/ml/jobs/slipway-${doc.id}`);
    assert.ok(del, "a DELETE of the run's Job");
    assert.equal(del.query.propagationPolicy ?? del.body?.propagationPolicy, "Background");
    assert.equal(fake.job(doc.id), undefined);
    const shown = await show(doc.id);
    assert.equal(shown.status, "cancelled");
  });

  it("OOMKilled: the run fails with the reason and what to raise", async () => {
    const { doc } = await json(["run", "ticks"]);
    await waitFor(async () => (await show(doc.id)).status === "running", { timeoutMs: 30_000, what: "the run to start" });
    fake.oomKill(doc.id);
    const ended = await waitForValue(() => show(doc.id), (r) => r.status !== "running", { timeoutMs: 30_000 });
    assert.equal(ended.status, "failed");
    assert.match(ended.reason, /ran out of memory \(OOMKilled.*\): raise the job's compute\.memory/);
  });

  it("Evicted: the run is lost, with the kubelet's message", async () => {
    const { doc } = await json(["run", "ticks"]);
    await waitFor(async () => (await show(doc.id)).status === "running", { timeoutMs: 30_000, what: "the run to start" });
    fake.evict(doc.id);
    const ended = await waitForValue(() => show(doc.id), (r) => r.status !== "running", { timeoutMs: 30_000 });
    assert.equal(ended.status, "lost");
    assert.match(ended.reason, /was evicted on fake-node-1: The node was low on resource: memory/);
  });

  it("DeadlineExceeded: the job's time limit is activeDeadlineSeconds; the runner records failed with the reason", async () => {
    const { doc } = await json(["run", "limited"]);
    assert.equal(created(doc.id).spec.activeDeadlineSeconds, 2);
    const ended = await waitForValue(() => show(doc.id), (r) => r.status !== "queued" && r.status !== "running", { timeoutMs: 60_000 });
    assert.equal(ended.status, "failed", JSON.stringify(ended));
    assert.match(ended.reason, /reached its time limit \(DeadlineExceeded, activeDeadlineSeconds 2\): raise the job's compute\.time_limit/);
  });

  it("ImagePullBackOff: the run stays queued with the reason shown, and cancel takes it off", async () => {
    const { doc } = await json(["run", "hello", "-t", "badimage"]);
    const waiting = await waitForValue(() => show(doc.id), (r) => !!r.reason, { timeoutMs: 30_000 });
    assert.equal(waiting.status, "queued");
    assert.match(waiting.reason, /pod slipway-.* is pending: ImagePullBackOff \(Back-off pulling image "registry\.example\.com\/ml\/missing:1\.0"\): check the executor's image/);
    const cancelled = await json(["cancel", doc.id, "-t", "badimage"]);
    assert.equal(cancelled.doc.status, "cancelled", JSON.stringify(cancelled.doc));
    assert.equal(fake.job(doc.id), undefined);
  });

  it("Unschedulable: a GPU run on a cluster without GPUs waits with the scheduler's words; gpus become nvidia.com/gpu", async () => {
    const { doc } = await json(["run", "gpu"]);
    assert.deepEqual(created(doc.id).spec.template.spec.containers[0].resources, { limits: { "nvidia.com/gpu": "1" } });
    const waiting = await waitForValue(() => show(doc.id), (r) => !!r.reason, { timeoutMs: 30_000 });
    assert.equal(waiting.status, "queued");
    assert.match(waiting.reason, /is pending: Unschedulable \(0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu\.\)/);
    await json(["cancel", doc.id]);
  });

  it("a target whose stores are local folders without a shared volume is refused before anything is recorded", async () => {
    const r = await box.runAsync(["run", "hello", "-t", "nowhere"]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /target nowhere runs on Kubernetes, but its runs' pods cannot reach local folders: the state database \(SQLite\) at /);
    assert.match(r.stderr, /hint: use network stores/);
    const runs = await json(["runs", "-t", "nowhere"]);
    assert.deepEqual(runs.doc.runs ?? runs.doc, []);
  });

  it("a context the kubeconfig lacks fails with the contexts it has", async () => {
    const r = await box.runAsync(["run", "hello", "-t", "nocontext"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /the kubeconfig has no context "prod-eu" \(it has: fake, other\)/);
  });

  it("doctor checks a kubernetes target: the kubeconfig loads and the API answers", async () => {
    const ok = await json(["doctor"]);
    const check = ok.doc.checks.find((c: { name: string }) => c.name === "kubernetes");
    assert.ok(check, JSON.stringify(ok.doc.checks));
    assert.equal(check.status, "ok", JSON.stringify(check));
    assert.match(check.message, /v1\.31\.0-fake/);
    const bad = await json(["doctor", "-t", "nocontext"]);
    const failed = bad.doc.checks.find((c: { name: string }) => c.name === "kubernetes");
    assert.equal(failed.status, "fail", JSON.stringify(failed));
    assert.match(failed.message, /no context "prod-eu"/);
    const unreachable = await json(["doctor", "-t", "nowhere"]);
    const stores = unreachable.doc.checks.find((c: { name: string }) => c.name === "kubernetes stores");
    assert.equal(stores?.status, "fail", JSON.stringify(unreachable.doc.checks));
  });
});

// Without a shared volume: state in PostgreSQL and blobs in S3 (the real test servers), the pod's home
// its own, the secrets (the PostgreSQL URL when it has a password, the AWS keys) from the Secret, and
// `logs` reading the pod's log through the API while the run goes on.
const pgUrl = process.env.SLIPWAY_TEST_PG_URL || undefined;
const netSkip = s3Skip ?? (pgUrl ? undefined : "SLIPWAY_TEST_PG_URL is not set (npm test starts a PostgreSQL server)");

describe("kubernetes executor against a fake API server, with network stores (PostgreSQL, S3)", { skip: netSkip }, () => {
  let fake: FakeKube;
  let box: Sandbox;
  let bin: string;
  let bucket: string;
  let database: string;
  const admin = (sql: string) => adminSql(pgUrl!, sql);

  before(async () => {
    bucket = await createBucket("k8s-exec");
    database = `slipway_k8s_${process.pid}`;
    await admin(`CREATE DATABASE ${database}`);
    const url = new URL(pgUrl!);
    url.pathname = `/${database}`;
    bin = mkdtempSync(join(tmpdir(), "fake-kube-bin-"));
    writeFileSync(join(bin, "slipway"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, "slipway"), 0o755);
    box = sandbox({
      ...project,
      "slipway.yaml": `project: kube
include: [modules/*/module.yaml]
variables:
  token: { secret: true }
targets:
  net:
    default: true
    state: { type: postgres, url: "\${env.K8S_PG_URL}" }
    blobs: { type: s3, bucket: ${bucket}, endpoint: "${testS3!.endpoint}", region: ${testS3!.region} }
    executor: { type: kubernetes, namespace: ml, image: "registry.example.com/ml/slipway:1.0" }
`,
    });
    const pods = join(dirname(box.home), "pods");
    mkdirSync(pods);
    fake = await startFakeKube({ path: [bin], root: pods });
    const aws = awsEnv();
    fake.secrets.set("ml/kube-secrets", { SLIPWAY_VAR_token: TOKEN, AWS_ACCESS_KEY_ID: aws.AWS_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: aws.AWS_SECRET_ACCESS_KEY!, SLIPWAY_STATE_URL: url.toString() });
    Object.assign(box.env, aws, { KUBECONFIG: fake.kubeconfig, K8S_PG_URL: url.toString(), SLIPWAY_VAR_token: TOKEN });
    const deployed = await box.runAsync(["deploy", "--yes"]);
    assert.equal(deployed.code, 0, deployed.stderr);
  });
  after(async () => {
    await fake?.close();
    box?.cleanup();
    if (bin) rmSync(bin, { recursive: true, force: true });
    if (bucket) await removeBucket(bucket).catch(() => {});
    if (database) await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
  });

  it("a run completes in a pod that shares no folder with this machine; its logs come from the pod log API, then the archive", async () => {
    const r = await box.runAsync(["run", "ticks", "--json"]);
    const id = JSON.parse(r.stdout).id as string;
    // While it runs, its task log is only in the pod: `logs` reads the pod's log.
    await waitFor(async () => /\[main\] tick 3\n/.test((await box.runAsync(["logs", id])).stdout), { timeoutMs: 30_000, what: "tick lines through the pod log API" });
    assert.ok(fake.requests.some((q) => q.method === "GET" && /\/pods\/slipway-.*\/log$/.test(q.path)), "the pod log was read");
    const cancelled = await box.runAsync(["cancel", id, "--json"]);
    assert.equal(JSON.parse(cancelled.stdout).status, "cancelled", cancelled.stderr);
    const done = await box.runAsync(["run", "hello", "--wait", "--json", "--param", "who=net"]);
    const doc = JSON.parse(done.stdout);
    assert.equal(doc.status, "succeeded", done.stdout + done.stderr);
    assert.deepEqual(doc.results, { who: "net" });
    const log = (await box.runAsync(["logs", doc.id])).stdout;
    assert.equal(log.match(/hello net token-length=15/g)?.length, 1, log);
    // The run's folder never existed on this machine beyond its instructions, which are gone.
    assert.ok((await listObjects(bucket, "archives/stage_logs/")).some((o) => o.key.endsWith(`${doc.id}/main.log`)));
    const body = fake.requests.find((q) => q.method === "POST" && q.body?.metadata?.labels?.["slipway.dev/run"] === doc.id)!.body;
    const env = body.spec.template.spec.containers[0].env as Array<{ name: string; value?: string; valueFrom?: unknown }>;
    assert.equal(env.find((e) => e.name === "SLIPWAY_HOME"), undefined, "the pod's home is its own");
    assert.ok(env.some((e) => e.name === "AWS_SECRET_ACCESS_KEY" && e.valueFrom), "AWS keys by reference");
    const text = JSON.stringify(fake.requests);
    assert.ok(!text.includes(TOKEN) && !text.includes(awsEnv().AWS_SECRET_ACCESS_KEY!), "no secret value in any request");
    if (new URL(pgUrl!).password) assert.ok(!text.includes(new URL(pgUrl!).password), "nor the database password");
  });
});
