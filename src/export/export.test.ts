// The export's building blocks on compiled projects: names, quantities, Kubernetes' $ expansion,
// secrets as references (or refused), names Kubernetes cannot take, and __proto__ as plain data.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { compileFiles, projectYaml } from "../../test/helpers/kinds.js";
import { exportFiles } from "./files.js";
import { buildManifests, type Parameters } from "./manifests.js";
import { quantity } from "../util/kubernetes/resources.js";
import { dnsLabel } from "../util/kubernetes/names.js";

const P: Parameters = { image: "img:1", imagePullPolicy: "IfNotPresent", secretName: "s", replicas: (_e, min) => min, jobNameSuffix: "", managedBy: "slipway" };
const SECRET_VAR = "variables:\n  token: { default: sk-live-0123456789, secret: true }\n";
const jobModule = (job: string) => `module: m\nresources:\n  jobs:\n${job}`;

describe("Kubernetes export", () => {
  it("folds names into DNS labels: unchanged when valid, hashed when folded, distinct, bounded", () => {
    assert.equal(dnsLabel("shop-train"), "shop-train");
    const a = dnsLabel("shop-prepare_data");
    const b = dnsLabel("shop-prepare-Data");
    assert.match(a, /^shop-prepare-data-[0-9a-f]{8}$/);
    assert.notEqual(a, b);
    assert.equal(dnsLabel("x".repeat(80)).length, 63);
    assert.equal(dnsLabel("x".repeat(80), 52).length, 52);
    assert.match(dnsLabel("__proto__"), /^proto-[0-9a-f]{8}$/);
  });

  it("writes memory sizes as Kubernetes quantities", () => {
    assert.deepEqual(["512M", "4GB", "2GiB", "1g", "64K", "1.5G"].map(quantity), ["512M", "4G", "2Gi", "1G", "64k", "1.5G"]);
  });

  it("refers to secrets with $(NAME) and doubles every other $", () => {
    const compiled = compileFiles({ "slipway.yaml": projectYaml(SECRET_VAR), "modules/m/module.yaml": jobModule('    j:\n      command: echo "$$HOME" $1\n      env: { H: "Bearer ${var.token} costs $5" }\n') });
    const job = buildManifests(compiled, P).manifests.find((m) => m.address === "job.j")!.objects[0] as any;
    const c = job.spec.template.spec.containers[0];
    assert.equal(c.command[2], 'echo "$$$$HOME" $$1');
    assert.deepEqual(c.env.find((e: any) => e.name === "H"), { name: "H", value: "Bearer $(SLIPWAY_VAR_token) costs $$5" });
    assert.ok(!JSON.stringify(job).includes("sk-live-0123456789"));
  });

  it("refuses a secret in a command or a task's env (it would be written out)", () => {
    const inCommand = compileFiles({ "slipway.yaml": projectYaml(SECRET_VAR), "modules/m/module.yaml": jobModule("    j:\n      command: curl -H ${var.token} x\n") });
    assert.throws(() => buildManifests(inCommand, P), (e: any) => e.code === "secret_in_command" && !e.message.includes("sk-live"));
    const inTask = compileFiles({ "slipway.yaml": projectYaml(SECRET_VAR), "modules/m/module.yaml": jobModule("    j:\n      tasks:\n        a: { command: run, env: { T: \"${var.token}\" } }\n") });
    assert.throws(() => buildManifests(inTask, P), (e: any) => e.code === "secret_in_command");
  });

  it("refuses a setting key Kubernetes cannot take, naming it", () => {
    const compiled = compileFiles({ "slipway.yaml": projectYaml(), "modules/m/module.yaml": 'module: m\nsettings:\n  "a key": x\n' });
    assert.throws(() => buildManifests(compiled, P), (e: any) => e.code === "export_unsupported" && e.message.includes('"m.a key"'));
  });

  it("keeps __proto__ as data: an env-file variable named __proto__ is a ConfigMap key", () => {
    const compiled = compileFiles({ "slipway.yaml": projectYaml(), "application.env": "__proto__=polluted\n", "modules/m/module.yaml": jobModule("    j: { command: run }\n") });
    const cm = buildManifests(compiled, P).manifests.find((m) => m.file.startsWith("configmap-unit-env-m"))!.objects[0] as any;
    assert.ok(Object.hasOwn(cm.data, "__proto__"));
    assert.match(stringify(cm), /__proto__: polluted/);
    assert.equal(({} as any).polluted, undefined);
  });

  it("is deterministic, and the chart escapes {{ in the project's text", () => {
    const files = { "slipway.yaml": projectYaml(), "modules/m/module.yaml": jobModule('    j: { command: "echo {{ .Values.x }}" }\n') };
    const one = exportFiles(compileFiles(files), { format: "helm", image: "i", imagePullPolicy: "Always" });
    const two = exportFiles(compileFiles(files), { format: "helm", image: "i", imagePullPolicy: "Always" });
    assert.deepEqual(one, two);
    const job = one.files.find((f) => f.address === "job.j")!;
    assert.match(job.content, /echo \{\{ "\{\{" \}\} \.Values\.x \}\}/);
  });
});
