// Endpoints served on Kubernetes (`serving: { type: kubernetes }`) against a FAKE API server
// (test/helpers/fake-kube-api.ts). No Kubernetes API server can run on the test machines: the fake
// stores Deployments and Services with Kubernetes' bookkeeping (resourceVersion conflicts, an immutable
// clusterIP, generations) and sets a Deployment's status at once (ready, or not when its image or a
// Secret is missing). What is real: the CLI, the deploy engine and its state, the official client
// library and its HTTP requests, the objects. What is not: pods, images, probes, the Service's traffic.
// This has not run against a live cluster (docs/scale-out.md says so too).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { startFakeKube, type FakeKube } from "../helpers/fake-kube-api.js";

const TOKEN = "k8s-serving-s3cr3t-77";
const DB_PASSWORD = "hunter2-db-pass";

const project = {
  "slipway.yaml": `project: shop
include: [modules/*/module.yaml]
variables:
  api_token: { secret: true }
  tag: { default: "1.0" }
  ns: { default: "first" }
targets:
  k8s:
    default: true
    serving: { type: kubernetes, namespace: ml, image: "registry.example.com/ml/shop-serving:\${var.tag}", secret: serving-secrets, service_account: scorer }
  pending:
    serving: { type: kubernetes, namespace: ml, image: "registry.example.com/ml/missing:1.0", secret: serving-secrets }
  locked:
    serving: { type: kubernetes, namespace: locked, image: "registry.example.com/ml/shop-serving:1.0" }
  taken:
    serving: { type: kubernetes, namespace: taken, image: "registry.example.com/ml/shop-serving:1.0" }
  moving:
    serving: { type: kubernetes, namespace: "\${var.ns}", image: "registry.example.com/ml/shop-serving:1.0" }
`,
  "modules/m/module.env": `SCORER_MODE=fast\nDB_PASSWORD=${DB_PASSWORD}\nPRICE=$$5\n`,
  "modules/m/module.yaml": `module: m
resources:
  jobs:
    train:
      command: 'mkdir -p "$SLIPWAY_OUTPUT_DIR/model" && printf "flavor: command\\\\ncommand: python3 serve.py\\\\n" > "$SLIPWAY_OUTPUT_DIR/model/model.yaml" && echo "print(1)" > "$SLIPWAY_OUTPUT_DIR/model/serve.py"'
      registers: { model: scorer, path: model }
  models:
    scorer: {}
  endpoints:
    scorer:
      served: [{ model: scorer, version: 1 }]
      replicas: { min: 2, max: 3 }
`,
};

describe("endpoints served on Kubernetes against a fake API server", () => {
  let fake: FakeKube;
  let box: Sandbox;
  const json = async (args: string[], env?: NodeJS.ProcessEnv) => {
    const r = await box.runAsync([...args, "--json"], env);
    try {
      return { code: r.code, doc: JSON.parse(r.stdout), stderr: r.stderr };
    } catch {
      throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    }
  };
  const ok = async (args: string[], env?: NodeJS.ProcessEnv) => {
    const r = await box.runAsync(args, env);
    assert.equal(r.code, 0, `${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const sent = (method: string, kind: string, from = 0) => fake.requests.slice(from).filter((r) => r.method === method && (r.body?.kind === kind || (method === "DELETE" && r.path.includes(`/${kind === "Deployment" ? "deployments" : "services"}/`))));

  before(async () => {
    box = sandbox(project);
    fake = await startFakeKube({ path: [], root: dirname(box.home) });
    fake.missingImages.add("registry.example.com/ml/missing:1.0");
    fake.secrets.set("ml/serving-secrets", { SLIPWAY_VAR_api_token: TOKEN, DB_PASSWORD });
    fake.forbidden.add("create deployments locked");
    fake.forbidden.add("get deployments locked");
    fake.forbidden.add("list deployments locked");
    Object.assign(box.env, { KUBECONFIG: fake.kubeconfig, SLIPWAY_VAR_api_token: TOKEN });
    // Each target's model version, from a local run of the job (the executor is local).
    for (const target of ["k8s", "pending", "locked", "taken", "moving"]) await ok(["run", "train", "--from-source", "--wait", "-t", target]);
  });
  after(async () => {
    await fake?.close();
    box?.cleanup();
  });

  it("fake API: plan shows the endpoint with where it goes; deploy creates one Deployment and one Service with labels, image, replicas, probes, and env without secret values", async () => {
    const plan = await json(["plan"]);
    assert.equal(plan.code, 0, plan.stderr);
    const action = plan.doc.actions.find((a: { address: string }) => a.address === "endpoint.scorer");
    assert.equal(action.action, "create");
    assert.equal(action.placement, "Kubernetes: Deployment and Service ml/shop-k8s-scorer");
    const planText = await ok(["plan"]);
    assert.match(planText.stdout, /\+ +create +endpoint\.scorer +\(Kubernetes: Deployment and Service ml\/shop-k8s-scorer\)/);
    assert.equal(plan.doc.actions.find((a: { address: string }) => a.address === "job.train").placement, undefined);

    const from = fake.requests.length;
    const deployed = await ok(["deploy", "--yes"]);
    assert.match(deployed.stdout + deployed.stderr, /created Deployment ml\/shop-k8s-scorer/);
    const [deployment] = sent("POST", "Deployment", from).map((r) => r.body);
    const [service] = sent("POST", "Service", from).map((r) => r.body);
    assert.equal(sent("POST", "Deployment", from).length, 1);
    assert.equal(sent("POST", "Service", from).length, 1);
    assert.ok(fake.requests.slice(from).every((r) => !r.path.includes("/namespaces/") || r.path.includes("/namespaces/ml/")), "everything in the target's namespace");

    assert.equal(deployment.apiVersion, "apps/v1");
    assert.equal(deployment.metadata.name, "shop-k8s-scorer");
    assert.equal(deployment.metadata.namespace, "ml");
    assert.deepEqual(deployment.metadata.labels, {
      "app.kubernetes.io/managed-by": "slipway",
      "app.kubernetes.io/part-of": "shop",
      "slipway.dev/endpoint": "scorer",
      "slipway.dev/project": "shop",
      "slipway.dev/target": "k8s",
    });
    assert.equal(deployment.metadata.annotations["slipway.dev/address"], "endpoint.scorer");
    assert.equal(deployment.spec.replicas, 2, "replicas.min");
    assert.deepEqual(deployment.spec.selector.matchLabels, { "slipway.dev/endpoint": "scorer", "slipway.dev/project": "shop", "slipway.dev/target": "k8s" }, "two targets may share a namespace");
    const pod = deployment.spec.template.spec;
    assert.equal(pod.serviceAccountName, "scorer");
    const container = pod.containers[0];
    assert.equal(container.image, "registry.example.com/ml/shop-serving:1.0");
    assert.equal(container.imagePullPolicy, "IfNotPresent");
    assert.deepEqual(container.ports, [{ name: "http", containerPort: 8080 }]);
    assert.deepEqual(container.readinessProbe.httpGet, { path: "/v2/health/ready", port: "http" });
    assert.deepEqual(container.livenessProbe.httpGet, { path: "/v2/health/live", port: "http" });
    assert.equal(container.envFrom, undefined, "the module's plain variables are written in the container, no ConfigMap is needed");
    const env = Object.fromEntries(container.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env.SCORER_MODE, "fast");
    assert.equal(env.SLIPWAY_PROJECT, "shop");
    assert.equal(env.SLIPWAY_ENDPOINT, "scorer");
    assert.equal(env.SLIPWAY_PORT, "8080");
    assert.deepEqual(JSON.parse(env.SLIPWAY_SERVED), [{ model: "scorer", version: 1, percent: 100 }], "the version it serves");
    assert.deepEqual(env.SLIPWAY_VAR_api_token, { secretKeyRef: { name: "serving-secrets", key: "SLIPWAY_VAR_api_token" } });
    assert.deepEqual(env.DB_PASSWORD, { secretKeyRef: { name: "serving-secrets", key: "DB_PASSWORD" } }, "a secret-looking env-file entry is a Secret key too");
    assert.equal(env.PRICE, "$$$$5", "every $ doubled: Kubernetes expands $(NAME) in values");

    assert.equal(service.apiVersion, "v1");
    assert.equal(service.metadata.name, "shop-k8s-scorer");
    assert.equal(service.spec.type, "ClusterIP");
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    assert.deepEqual(service.spec.ports, [{ name: "http", port: 80, targetPort: "http" }]);

    // No secret value went to the API, the terminal or the state's record.
    for (const secret of [TOKEN, DB_PASSWORD]) {
      assert.ok(!JSON.stringify(fake.requests).includes(secret), "a secret value reached the API server");
      assert.ok(!(deployed.stdout + deployed.stderr).includes(secret));
      assert.ok(!(await box.runAsync(["plan", "--json", "--var", "tag=9"])).stdout.includes(secret), "nor the plan's changes");
    }
    const after = await json(["plan"]);
    assert.equal(after.doc.summary.create + after.doc.summary.update + after.doc.summary.replace, 0, "nothing left to do after the deploy");
  });

  it("fake API: status and endpoints list show the Deployment's readiness; the local gateway does not serve the endpoint", async () => {
    const status = await json(["status"]);
    assert.equal(status.code, 0, status.stderr);
    const e = status.doc.endpoints.find((x: { name: string }) => x.name === "scorer");
    assert.equal(e.serving, "ready");
    assert.equal(e.url, "http://shop-k8s-scorer.ml.svc");
    assert.deepEqual(e.kubernetes, { namespace: "ml", name: "shop-k8s-scorer", state: "ready", replicas: 2, ready_replicas: 2 });
    const text = await ok(["status"]);
    assert.match(text.stdout, /endpoint scorer: http:\/\/shop-k8s-scorer\.ml\.svc \(on Kubernetes: Deployment ml\/shop-k8s-scorer, 2\/2 ready\)/);

    const list = await json(["endpoints", "list"]);
    assert.equal(list.doc.endpoints[0].served[0].ready, true);
    assert.equal(list.doc.endpoints[0].kubernetes.state, "ready");
    assert.equal(list.doc.endpoints[0].config_version, 1);

    const query = await json(["endpoints", "query", "scorer", "--data", '{"inputs": [[1]]}']);
    assert.equal(query.code, 2);
    assert.equal(query.doc.error.code, "endpoint_on_kubernetes");
    assert.match(query.doc.error.hint, /kubectl port-forward -n ml service\/shop-k8s-scorer 8080:80/);
    // The gateway of the home's server (if deploy started one) has no such endpoint.
    const server = await json(["server", "status"]);
    if (server.doc.running && server.doc.url) {
      const r = await fetch(`${server.doc.url}/serving-endpoints/scorer/invocations`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
      assert.notEqual(r.status, 200);
    }
  });

  it("fake API: a changed image is a replace of the same objects (plan shows it, the Service keeps its cluster IP); rollback re-applies the previous spec", async () => {
    const plan = await json(["plan", "--var", "tag=1.1"]);
    const action = plan.doc.actions.find((a: { address: string }) => a.address === "endpoint.scorer");
    assert.equal(action.action, "update");
    assert.deepEqual(
      action.changes.find((c: { path: string }) => c.path === "kubernetes.image"),
      { path: "kubernetes.image", before: "registry.example.com/ml/shop-serving:1.0", after: "registry.example.com/ml/shop-serving:1.1" },
    );
    const ip = fake.objects.get("Service/ml/shop-k8s-scorer").spec.clusterIP;
    const from = fake.requests.length;
    const deployed = await ok(["deploy", "--yes", "--var", "tag=1.1"]);
    assert.match(deployed.stdout + deployed.stderr, /replaced Deployment ml\/shop-k8s-scorer/);
    const [put] = sent("PUT", "Deployment", from).map((r) => r.body);
    assert.equal(put.spec.template.spec.containers[0].image, "registry.example.com/ml/shop-serving:1.1");
    assert.ok(put.metadata.resourceVersion, "a replace carries the resourceVersion it read");
    assert.equal(sent("POST", "Deployment", from).length, 0);
    assert.equal(fake.objects.get("Service/ml/shop-k8s-scorer").spec.clusterIP, ip);
    assert.equal(fake.objects.get("Deployment/ml/shop-k8s-scorer").metadata.generation, 2);

    const history = await json(["history"]);
    const first = Math.min(...history.doc.deployments.filter((d: { revision: number | null }) => d.revision !== null).map((d: { revision: number }) => d.revision));
    await ok(["rollback", "--to", String(first), "--yes"]);
    assert.equal(fake.objects.get("Deployment/ml/shop-k8s-scorer").spec.template.spec.containers[0].image, "registry.example.com/ml/shop-serving:1.0");
    const list = await json(["endpoints", "list"]);
    assert.equal(list.doc.endpoints[0].config_version, 3);
  });

  it("fake API: a 409 conflict fails the deploy with what to do, and the next deploy goes through", async () => {
    fake.conflictOnce.add("update deployments");
    const failed = await json(["deploy", "--yes", "--var", "tag=1.2"]);
    assert.equal(failed.code, 1);
    assert.equal(failed.doc.error.code, "kubernetes_serving_failed");
    const text = JSON.stringify(failed.doc);
    assert.match(text, /refused to replace Deployment ml\/shop-k8s-scorer: 409/);
    assert.match(text, /deploy again/);
    await ok(["deploy", "--yes", "--var", "tag=1.2"]);
    assert.equal(fake.objects.get("Deployment/ml/shop-k8s-scorer").spec.template.spec.containers[0].image, "registry.example.com/ml/shop-serving:1.2");
  });

  it("fake API: a Deployment whose image cannot be pulled is shown not ready with the reason", async () => {
    await ok(["deploy", "-t", "pending", "--yes"]);
    const status = await json(["status", "-t", "pending"]);
    const e = status.doc.endpoints[0];
    assert.equal(e.serving, "not_ready");
    assert.equal(e.kubernetes.state, "progressing");
    assert.equal(e.kubernetes.ready_replicas, 0);
    assert.match(e.kubernetes.reason, /^0 of 2 replica\(s\) ready; pod shop-pending-scorer-1-0: ImagePullBackOff \(Back-off pulling image "registry.example.com\/ml\/missing:1.0"\)$/);
    const list = await json(["endpoints", "list", "-t", "pending"]);
    assert.equal(list.doc.endpoints[0].served[0].ready, false);
    // Two targets share namespace ml: their objects have their own names, and each Service selects its own target's pods.
    assert.equal(fake.objects.get("Service/ml/shop-pending-scorer").spec.selector["slipway.dev/target"], "pending");
    assert.equal(fake.objects.get("Service/ml/shop-k8s-scorer").spec.selector["slipway.dev/target"], "k8s");
    // Someone relabels the Deployment as theirs: destroy deletes the Service and leaves the Deployment, saying so.
    fake.objects.get("Deployment/ml/shop-pending-scorer").metadata.labels = { app: "adopted-by-someone" };
    const destroyed = await ok(["destroy", "-t", "pending", "--yes"]);
    assert.match(destroyed.stdout, /skipped Deployment ml\/shop-pending-scorer \(not made by Slipway for this endpoint: left as it is\)/);
    assert.equal(fake.objects.has("Service/ml/shop-pending-scorer"), false);
    assert.equal(fake.objects.has("Deployment/ml/shop-pending-scorer"), true);
    assert.equal(fake.objects.has("Deployment/ml/shop-k8s-scorer"), true, "the other target's objects are untouched");
  });

  it("fake API: 403 forbidden fails the deploy naming the permissions it needs", async () => {
    const r = await json(["deploy", "-t", "locked", "--yes"]);
    assert.equal(r.code, 1);
    const text = JSON.stringify(r.doc);
    assert.match(text, /refused to read Deployment locked\/shop-locked-scorer: 403 deployments.apps \\"shop-locked-scorer\\" is forbidden/);
    assert.match(text, /kubectl auth can-i create deployments -n locked/);
    // Nothing was recorded as served.
    assert.equal((await json(["endpoints", "list", "-t", "locked"])).doc.endpoints.length, 0);
  });

  it("fake API: moving a target to another namespace deletes the old objects and makes new ones", async () => {
    await ok(["deploy", "-t", "moving", "--yes"]);
    assert.ok(fake.objects.has("Deployment/first/shop-moving-scorer"));
    const plan = await json(["plan", "-t", "moving", "--var", "ns=second"]);
    const action = plan.doc.actions.find((a: { address: string }) => a.address === "endpoint.scorer");
    assert.equal(action.placement, "Kubernetes: Deployment and Service second/shop-moving-scorer");
    assert.deepEqual(action.changes.find((c: { path: string }) => c.path === "kubernetes.namespace"), { path: "kubernetes.namespace", before: "first", after: "second" });
    const moved = await ok(["deploy", "-t", "moving", "--yes", "--var", "ns=second"]);
    assert.match(moved.stdout, /deleted Service first\/shop-moving-scorer/);
    assert.match(moved.stdout, /created Deployment second\/shop-moving-scorer/);
    assert.deepEqual([...fake.objects.keys()].filter((k) => k.includes("shop-moving-scorer")).sort(), ["Deployment/second/shop-moving-scorer", "Service/second/shop-moving-scorer"]);
    const list = await ok(["endpoints", "list", "-t", "moving", "--var", "ns=second"]);
    // No Secret shop-secrets in namespace second (the default name; the fake has none there): not ready, and why.
    assert.match(list.stdout, /on Kubernetes: Deployment and Service second\/shop-moving-scorer, 0\/2 replica\(s\) ready \(0 of 2 replica\(s\) ready; pod shop-moving-scorer-1-0: CreateContainerConfigError \(secret "shop-secrets" not found\)\)/);
    assert.match(list.stdout, /scorer@1 +100% +not ready/);
    await ok(["destroy", "-t", "moving", "--yes", "--var", "ns=second"]);
    assert.deepEqual([...fake.objects.keys()].filter((k) => k.includes("shop-moving-scorer")), []);
  });

  it("fake API: doctor checks that the API answers and the target's Deployments and Services can be listed", async () => {
    const ok = await json(["doctor"]);
    const check = ok.doc.checks.find((c: { name: string }) => c.name === "kubernetes serving");
    assert.equal(check?.status, "ok", JSON.stringify(ok.doc.checks));
    assert.match(check.message, /v1\.31\.0-fake.*Deployments and Services in namespace ml can be listed, for target k8s/);
    const locked = await json(["doctor", "-t", "locked"]);
    const failed = locked.doc.checks.find((c: { name: string }) => c.name === "kubernetes serving");
    assert.equal(failed?.status, "fail", JSON.stringify(locked.doc.checks));
    assert.match(failed.message, /refused to list Deployments in namespace locked: 403/);
    assert.match(failed.fix, /kubectl auth can-i create deployments -n locked/);
  });

  it("fake API: an object of that name Slipway did not make is neither replaced nor deleted", async () => {
    const foreign = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "shop-taken-scorer", namespace: "taken", resourceVersion: "1", generation: 1, labels: { app: "someone-else" } }, spec: { replicas: 1 } };
    fake.objects.set("Deployment/taken/shop-taken-scorer", foreign);
    const r = await json(["deploy", "-t", "taken", "--yes"]);
    assert.equal(r.code, 1);
    assert.match(JSON.stringify(r.doc), /Deployment taken\/shop-taken-scorer already exists and is not made by Slipway/);
    assert.equal(fake.objects.get("Deployment/taken/shop-taken-scorer"), foreign);
    await ok(["destroy", "-t", "taken", "--yes"]);
    assert.equal(fake.objects.get("Deployment/taken/shop-taken-scorer"), foreign);
  });

  it("fake API: an unreachable API server fails the deploy with how to check it", async () => {
    const unreachable = join(dirname(box.home), "unreachable.kubeconfig");
    // Port 9 on 127.0.0.1 (discard): nothing listens there in the test machines.
    writeFileSync(unreachable, readFileSync(fake.kubeconfig, "utf8").replace(fake.url, "http://127.0.0.1:9"), { mode: 0o600 });
    const r = await json(["deploy", "-t", "taken", "--yes"], { KUBECONFIG: unreachable });
    assert.equal(r.code, 1);
    const text = JSON.stringify(r.doc);
    assert.match(text, /the Kubernetes API at http:\/\/127.0.0.1:9 could not be reached/);
    assert.match(text, /kubectl cluster-info/);
    const status = await json(["status"], { KUBECONFIG: unreachable });
    assert.equal(status.code, 0);
    assert.equal(status.doc.endpoints[0].serving, "unknown");
    assert.equal(status.doc.endpoints[0].kubernetes.state, "unknown");
  });

  it("fake API: destroy deletes the endpoint's Service and Deployment", async () => {
    const from = fake.requests.length;
    const r = await ok(["destroy", "--yes"]);
    assert.match(r.stdout, /- +delete +endpoint\.scorer +\(Kubernetes: Deployment and Service ml\/shop-k8s-scorer\)/);
    assert.match(r.stdout + r.stderr, /deleted Deployment ml\/shop-k8s-scorer/);
    const deletes = fake.requests.slice(from).filter((x) => x.method === "DELETE").map((x) => x.path);
    assert.deepEqual(deletes, ["/api/v1/namespaces/ml/services/shop-k8s-scorer", "/apis/apps/v1/namespaces/ml/deployments/shop-k8s-scorer"]);
    assert.equal(fake.objects.has("Deployment/ml/shop-k8s-scorer"), false);
    assert.equal(fake.objects.has("Service/ml/shop-k8s-scorer"), false);
    assert.equal((await json(["status"])).doc.endpoints.length, 0);
  });
});
