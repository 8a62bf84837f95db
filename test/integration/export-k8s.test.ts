// `slipway export k8s|helm` through the real CLI, on the project in test/fixtures/k8s/project (jobs, a
// schedule, an endpoint, settings, a secret variable and a secret-looking env-file entry). No
// Kubernetes API server runs here: the output is compared with golden files (UPDATE_GOLDEN=1 rewrites
// them) and validated offline (test/helpers/k8s-validate.ts), the chart after rendering its few
// template actions the way Helm would.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { REPO, sandbox, type Sandbox } from "../helpers/cli.js";
import { k8sProblems } from "../helpers/k8s-validate.js";

const FIXTURE = join(REPO, "test", "fixtures", "k8s");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const SECRETS = ["tok-3f9a-very-secret-value", "hunter2-database-password"];

function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue;
    const full = join(f.parentPath, f.name);
    out[relative(dir, full).split("\\").join("/")] = readFileSync(full, "utf8");
  }
  return out;
}

/** Compares a written folder with its golden copy (or rewrites the copy with UPDATE_GOLDEN=1). */
function golden(out: string, name: string): void {
  const dir = join(FIXTURE, "golden", name);
  const written = filesUnder(out);
  if (UPDATE) {
    rmSync(dir, { recursive: true, force: true });
    for (const [p, text] of Object.entries(written)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    return;
  }
  const stored = filesUnder(dir);
  assert.deepEqual(Object.keys(written).sort(), Object.keys(stored).sort(), `the files of ${name} differ from test/fixtures/k8s/golden/${name} (UPDATE_GOLDEN=1 rewrites them)`);
  for (const p of Object.keys(stored)) assert.equal(written[p], stored[p], `${name}/${p} differs from its golden file (UPDATE_GOLDEN=1 rewrites them)`);
}

/** Renders the chart's template actions (the only ones the export writes) with values.yaml, as Helm would. */
function renderChart(out: string): Array<Record<string, unknown>> {
  const values = parse(readFileSync(join(out, "values.yaml"), "utf8")) as { image: string; imagePullPolicy: string; secretName: string; endpoints: Record<string, { replicas: number }> };
  const objects: Array<Record<string, unknown>> = [];
  for (const f of readdirSync(join(out, "templates")).filter((f) => f.endsWith(".yaml"))) {
    const text = readFileSync(join(out, "templates", f), "utf8").replace(/\{\{ (.+?) \}\}/g, (_m, action: string) => {
      const known: Record<string, string> = {
        '"{{"': "{{",
        ".Values.image | quote": JSON.stringify(values.image),
        ".Values.imagePullPolicy | quote": JSON.stringify(values.imagePullPolicy),
        ".Values.secretName | quote": JSON.stringify(values.secretName),
        ".Release.Service | quote": '"Helm"',
        ".Values.image | sha256sum | trunc 6": createHash("sha256").update(values.image).digest("hex").slice(0, 6),
      };
      const index = /^index \.Values\.endpoints "([^"]+)" "replicas"$/.exec(action);
      if (index) return String(values.endpoints[index[1]!]!.replicas);
      assert.ok(action in known, `unexpected template action {{ ${action} }} in ${f}`);
      return known[action]!;
    });
    for (const d of parseAllDocuments(text)) objects.push(d.toJS());
  }
  return objects;
}

function manifests(out: string): Array<Record<string, unknown>> {
  return readdirSync(out)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => parseAllDocuments(readFileSync(join(out, f), "utf8")).map((d) => d.toJS() as Record<string, unknown>));
}

describe("slipway export k8s and helm", () => {
  let box: Sandbox;
  let root: string;
  before(() => {
    box = sandbox(filesUnder(join(FIXTURE, "project")));
    root = dirname(box.dir);
  });
  after(() => box.cleanup());

  it("export k8s writes the golden manifests, valid against Kubernetes' schemas and the client's models", () => {
    const out = join(root, "k8s");
    const r = box.json(["export", "k8s", "-t", "prod", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    golden(out, "k8s");
    const objects = manifests(out);
    assert.deepEqual(objects.map((o) => o.kind).sort(), ["ConfigMap", "ConfigMap", "CronJob", "Deployment", "Job", "Job", "Service"]);
    for (const o of objects) assert.deepEqual(k8sProblems(o), [], `${String(o.kind)} ${JSON.stringify((o.metadata as { name: string }).name)}`);
    // What the project says, as Kubernetes reads it.
    const cron = objects.find((o) => o.kind === "CronJob") as any;
    assert.equal(cron.spec.schedule, "0 2 * * *");
    assert.equal(cron.spec.timeZone, "Europe/Paris");
    assert.equal(cron.spec.concurrencyPolicy, "Replace");
    const train = objects.find((o) => o.kind === "Job" && (o.metadata as any).annotations["slipway.dev/address"] === "job.train") as any;
    assert.equal(train.spec.suspend, true, "a job not run on deploy is a suspended Job");
    const container = train.spec.template.spec.containers[0];
    assert.deepEqual(container.resources.limits, { cpu: "2", memory: "4G", "nvidia.com/gpu": "1" });
    assert.equal(container.command[2], 'python3 train.py --catalog shop && echo "$$HOME $$(date)"', "$ is doubled: Kubernetes expands $(NAME) in commands");
    assert.deepEqual(container.env.find((e: any) => e.name === "AUTH_HEADER"), { name: "AUTH_HEADER", value: "Bearer $(SLIPWAY_VAR_api_token)" });
    assert.deepEqual(container.env.find((e: any) => e.name === "SLIPWAY_VAR_api_token").valueFrom, { secretKeyRef: { name: "shop-secrets", key: "SLIPWAY_VAR_api_token" } });
    const deployment = objects.find((o) => o.kind === "Deployment") as any;
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(deployment.spec.template.spec.containers[0].readinessProbe.httpGet.path, "/v2/health/ready");
    assert.deepEqual(r.doc.secret, { name: "shop-secrets", keys: ["DB_PASSWORD", "SLIPWAY_VAR_api_token", "setting.core.api_token_copy"] });
    assert.match(r.doc.apply, /^kubectl apply -n NAMESPACE -f /);
  });

  it("export helm writes the golden chart; rendered with its values it is valid too", () => {
    const out = join(root, "helm");
    const r = box.json(["export", "helm", "-t", "prod", "--out", out, "--image", "registry.example/shop:1.2"]);
    assert.equal(r.code, 0, r.stderr);
    golden(out, "helm");
    assert.equal(r.doc.apply, `helm upgrade --install shop-prod ${out} --namespace NAMESPACE --create-namespace`);
    const objects = renderChart(out);
    assert.equal(objects.length, 7);
    for (const o of objects) assert.deepEqual(k8sProblems(o), [], `${String(o.kind)} ${JSON.stringify((o.metadata as { name: string }).name)}`);
    const job = objects.find((o) => o.kind === "Job" && (o.metadata as any).annotations["slipway.dev/address"] === "job.prepare_data") as any;
    assert.match(job.spec.template.spec.containers[0].command[2], /echo fetch \{\{ not a template \}\}/, "text with {{ is escaped for Helm and renders as written");
    assert.equal(job.spec.template.spec.containers[0].image, "registry.example/shop:1.2");
  });

  it("no secret value is written: not in any file, not in the output", () => {
    const r = box.run(["export", "k8s", "-t", "dev", "--out", join(root, "k8s-dev")]);
    assert.equal(r.code, 0, r.stderr);
    for (const dir of ["k8s", "helm", "k8s-dev"]) {
      for (const [p, text] of Object.entries(filesUnder(join(root, dir)))) for (const s of SECRETS) assert.ok(!text.includes(s), `${dir}/${p} holds a secret`);
    }
    for (const s of SECRETS) assert.ok(!(r.stdout + r.stderr).includes(s));
    // The settings ConfigMap leaves out the setting that holds the secret.
    assert.ok(!readFileSync(join(root, "k8s-dev", "configmap-shop-settings.yaml"), "utf8").includes("api_token_copy"));
  });

  it("a second export into its own folder replaces it, removing files it no longer writes", () => {
    const out = join(root, "k8s");
    const moduleFile = join(box.dir, "modules", "ml", "module.yaml");
    const original = readFileSync(moduleFile, "utf8");
    try {
      writeFileSync(moduleFile, original.replace(/ {2}endpoints:[\s\S]*$/, ""));
      const r = box.json(["export", "k8s", "-t", "prod", "--out", out]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.doc.removed, ["endpoint-shop-churn-api.yaml"]);
      assert.ok(!existsSync(join(out, "endpoint-shop-churn-api.yaml")));
    } finally {
      writeFileSync(moduleFile, original);
    }
  });

  it("refuses a folder it did not write (unless --force), a symbolic link, and never writes through one", () => {
    const foreign = join(root, "foreign");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "keep.txt"), "mine\n");
    const refused = box.json(["export", "k8s", "-t", "prod", "--out", foreign]);
    assert.equal(refused.code, 3);
    assert.equal(refused.doc.error.code, "export_out_not_empty");
    assert.deepEqual(readdirSync(foreign), ["keep.txt"]);
    const forced = box.run(["export", "k8s", "-t", "prod", "--out", foreign, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(readFileSync(join(foreign, "keep.txt"), "utf8"), "mine\n");
    // A marker that is a link to a file elsewhere is replaced, not written through.
    const target = join(root, "target.txt");
    writeFileSync(target, "untouched\n");
    const linked = join(root, "linked-marker");
    mkdirSync(linked);
    symlinkSync(target, join(linked, ".slipway-export.json"));
    assert.equal(box.run(["export", "k8s", "-t", "prod", "--out", linked, "--force"]).code, 0);
    assert.equal(readFileSync(target, "utf8"), "untouched\n");

    const elsewhere = join(root, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(root, "link"));
    const link = box.json(["export", "k8s", "-t", "prod", "--out", join(root, "link")]);
    assert.equal(link.code, 2);
    assert.equal(link.doc.error.code, "export_out_unsafe");
    // A chart folder whose templates/ is a link out: refused, nothing written there.
    const chart = join(root, "chart");
    mkdirSync(chart);
    symlinkSync(elsewhere, join(chart, "templates"));
    const through = box.json(["export", "helm", "-t", "prod", "--out", chart, "--force"]);
    assert.equal(through.code, 2, through.stderr);
    assert.equal(through.doc.error.code, "export_out_unsafe");
    assert.deepEqual(readdirSync(elsewhere), []);
    // A forged marker that lists a file behind a linked folder: the file outside is not deleted.
    writeFileSync(join(elsewhere, "victim.yaml"), "keep me\n");
    writeFileSync(join(chart, ".slipway-export.json"), JSON.stringify({ written_by: "slipway export", files: ["templates/victim.yaml", "../elsewhere/victim.yaml"] }));
    const forged = box.json(["export", "helm", "-t", "prod", "--out", chart]);
    assert.equal(forged.code, 2, forged.stderr);
    assert.equal(readFileSync(join(elsewhere, "victim.yaml"), "utf8"), "keep me\n");
  });
});
