// The endpoint objects' builder and a Deployment's readiness (the parts both the export and deploy-time
// serving rely on); the objects as a cluster receives them are tested in test/integration/k8s-serving.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readinessOf } from "./cluster.js";
import { endpointObjects } from "./objects.js";

const input = {
  project: "Shop_Main",
  target: "prod",
  endpoint: "scorer",
  address: "endpoint.scorer",
  name: "shop-prod-scorer",
  managedBy: "slipway",
  image: "img:1",
  imagePullPolicy: "IfNotPresent",
  replicas: 2,
  served: [{ model: "m", version: 3, percent: 100 }],
  secretKeys: ["DB_PASSWORD"],
  secretName: "shop-secrets",
};

describe("endpoint objects", () => {
  it("deploy time: namespace set, plain variables in the container ($ doubled), secret ones by reference, pods selected by target too", () => {
    const { deployment, service } = endpointObjects({ ...input, namespace: "ml", selectByTarget: true, environment: { values: { B: "x$(HOME)", A: "1" } } });
    assert.equal(deployment.metadata!.namespace, "ml");
    assert.equal(deployment.metadata!.labels!["slipway.dev/project"].startsWith("shop-main-"), true, "names folded into DNS labels");
    assert.equal(deployment.spec!.selector.matchLabels!["slipway.dev/target"], "prod");
    assert.deepEqual(service.spec!.selector, deployment.spec!.selector.matchLabels);
    const env = deployment.spec!.template.spec!.containers[0]!.env!;
    assert.deepEqual(env.slice(0, 3), [
      { name: "A", value: "1" },
      { name: "B", value: "x$$(HOME)" },
      { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "shop-secrets", key: "DB_PASSWORD" } } },
    ]);
    assert.equal(deployment.spec!.template.spec!.containers[0]!.envFrom, undefined);
  });

  it("the export: a ConfigMap for the module's variables, no namespace, pods selected by project and endpoint", () => {
    const { deployment } = endpointObjects({ ...input, environment: { configMap: "shop-env-m" } });
    assert.equal(deployment.metadata!.namespace, undefined);
    assert.equal(deployment.spec!.selector.matchLabels!["slipway.dev/target"], undefined);
    assert.deepEqual(deployment.spec!.template.spec!.containers[0]!.envFrom, [{ configMapRef: { name: "shop-env-m" } }]);
  });
});

describe("a Deployment's readiness", () => {
  const d = (status: object, generation = 1, replicas = 2) => ({ metadata: { generation }, spec: { replicas, selector: {}, template: {} }, status });
  it("ready only when every wanted replica is updated and ready and the controller has seen the change", () => {
    assert.equal(readinessOf(d({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2 })).state, "ready");
    assert.deepEqual(readinessOf(d({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1 })), { state: "progressing", replicas: 2, readyReplicas: 1, reason: "1 of 2 replica(s) ready" });
    assert.equal(readinessOf(d({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2 }, 2)).reason, "2 of 2 replica(s) ready (the change is not yet seen by the controller)");
    assert.equal(readinessOf(d({ observedGeneration: 1, replicas: 3, updatedReplicas: 2, readyReplicas: 3 })).state, "progressing", "old pods still running");
  });
  it("a failed rollout says why", () => {
    const r = readinessOf(d({ observedGeneration: 1, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: 'ReplicaSet "x" has timed out progressing.' }] }));
    assert.equal(r.reason, 'ProgressDeadlineExceeded: ReplicaSet "x" has timed out progressing.');
  });
});
