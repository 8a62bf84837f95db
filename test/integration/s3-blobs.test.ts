// A target whose blobs are in an S3-compatible object store — a real one: OpenStack Swift with its
// s3api middleware on 127.0.0.1 (scripts/services/swift.sh, started by scripts/test.sh) — through the
// real CLI: hook scripts and revision snapshots, job bundles, stage logs, provenance, registered model
// versions, an endpoint served from them, its inference table archived on the way out, and a published
// artifact all land in the bucket and read back; nothing goes to SLIPWAY_HOME/blobs or /archives.
// Credentials reach Slipway the usual way: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
import assert from "node:assert/strict";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { after, before, describe, it } from "node:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { captureBundle, fileBlobKey } from "../../src/bundles/index.js";
import { readRuntimeEnvWith } from "../../src/env.js";
import { SourceStore } from "../../src/server/api/sources.js";
import { MemoryBlobStore } from "../../src/store/blobs/memory-blob-store.js";
import { blobStoreAt } from "../../src/store/open.js";
import { canonicalJson } from "../../src/util/hash.js";
import { REPO, sandbox, type Sandbox } from "../helpers/cli.js";
import { servingProject } from "../helpers/projects.js";
import { adminClient, awsEnv, createBucket, listObjects, removeBucket, s3Skip, testS3, useAwsEnv } from "../helpers/s3.js";

const IRIS = { inputs: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] };

describe("blobs in S3 (a real S3-compatible server)", { skip: s3Skip }, () => {
  let box: Sandbox;
  let bucket = "";
  const env = () => awsEnv();
  const keys = async (prefix: string) => (await listObjects(bucket, prefix)).map((o) => o.key);

  before(async () => {
    bucket = await createBucket("slipway-it");
    const files = servingProject(REPO, (p) => readFileSync(p, "utf8"));
    files["slipway.yaml"] = files["slipway.yaml"]!.replace(
      "    ttl: 1h\n",
      `    ttl: 1h\n    blobs: { type: s3, bucket: ${bucket}, prefix: slipway/dev, endpoint: "${testS3!.endpoint}", region: ${testS3!.region} }\n`,
    );
    // A hook (its script is kept in the blob store) and an archive artifact (published to the bucket).
    files["modules/m/module.yaml"] = files["modules/m/module.yaml"]!.replace("resources:\n", "hooks:\n  - name: setup\n    deploy: setup.sh\nresources:\n  artifacts:\n    labels: { type: archive, path: labels, version: \"1.0\" }\n");
    files["modules/m/setup.sh"] = "#!/bin/sh\necho set up\n";
    files["modules/m/labels/classes.txt"] = "setosa\nversicolor\nvirginica\n";
    box = sandbox(files);
    symlinkSync(join(REPO, "node_modules"), join(box.dir, "node_modules"));
  });
  after(async () => {
    box?.run(["server", "stop"], env());
    box?.cleanup();
    if (bucket) await removeBucket(bucket);
  });

  it("deploy keeps the hook script and the revision snapshot in the bucket", async () => {
    const r = box.run(["deploy", "--phase", "0"], env());
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Warning|NodeVersionSupport/, "the AWS SDK prints nothing of its own");
    const stored = await keys("slipway/dev/");
    assert.ok(stored.some((k) => /^slipway\/dev\/scripts\/[0-9a-f]{64}$/.test(k)), `a hook script in ${stored.join(", ")}`);
    assert.ok(stored.some((k) => /^slipway\/dev\/snapshots\/[0-9a-f]{64}\.v2\.json\.gz$/.test(k)), "a revision snapshot");
    assert.ok(stored.some((k) => /^slipway\/dev\/revisions\/n\/[A-Za-z0-9_-]{22}$/.test(k)), "the nodes of the revision's trie");
  });

  it("a run's bundle, logs, outputs and provenance go to the bucket, and its model version reads back from it", async () => {
    const run = box.json(["run", "train_iris", "--wait"], env());
    assert.equal(run.code, 0, run.stderr);
    const id = run.doc.run_id ?? run.doc.id ?? run.doc.run?.id;
    assert.ok(id, JSON.stringify(run.doc).slice(0, 300));
    const source = await keys("slipway/dev/archives/job_source/");
    assert.ok(source.some((k) => /\/bundles\/[0-9a-f]{64}\.json$/.test(k)), "the bundle record");
    assert.ok(source.some((k) => /\/files\/[0-9a-f]{64}$/.test(k)), "the bundle's files");
    assert.ok((await keys("slipway/dev/archives/stage_logs/")).some((k) => k.endsWith(".log")), "stage logs");
    assert.ok((await keys("slipway/dev/archives/provenance/")).length > 0, "provenance");
    const persisted = await keys("slipway/dev/archives/persisted_data/");
    assert.ok(persisted.length >= 2, `model files and outputs.json in ${persisted.join(", ")}`);
    assert.ok(!existsSync(join(box.home, "blobs")), "nothing under SLIPWAY_HOME/blobs");
    assert.ok(!existsSync(join(box.home, "archives")), "nothing under SLIPWAY_HOME/archives");

    const echo = box.run(["run", "train_echo", "--wait"], env());
    assert.equal(echo.code, 0, echo.stderr);
    const shown = box.json(["models", "show", "clf@champion"], env());
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(Object.keys(shown.doc.files).sort(), ["model.onnx", "model.yaml"]);
    // the run's log is read back from the stage-logs archive
    const logs = box.run(["logs", id], env());
    assert.equal(logs.code, 0, logs.stderr);

    // The same source again: its files are in the bucket, so nothing of them is uploaded again.
    const before = await listObjects(bucket, "slipway/dev/archives/job_source/");
    assert.equal(box.run(["run", "train_iris", "--wait", "--param", "epochs=5"], env()).code, 0);
    const afterRun = await listObjects(bucket, "slipway/dev/archives/job_source/");
    const added = afterRun.filter((o) => !before.some((b) => b.key === o.key));
    assert.ok(added.every((o) => !/\/files\//.test(o.key) || o.size < 1024), `only small metadata added: ${added.map((o) => `${o.key} ${o.size}`).join(", ")}`);
  });

  it("an endpoint serves the model version fetched from the bucket; rolling back archives its inference table to the bucket", async () => {
    const deployed = box.json(["deploy"], env());
    assert.equal(deployed.code, 0, deployed.stderr);
    const onnx = box.json(["endpoints", "list"], env()).doc.endpoints.find((e: any) => e.name === "ep-onnx");
    assert.deepEqual(onnx.served, [{ model: "clf", version: 1, percent: 100, ready: true }]);
    const token = box.json(["tokens", "create", "--user", "tester"], env()).doc.token;
    const answer = await fetch(`${new URL(onnx.url).origin}/serving-endpoints/ep-onnx/invocations`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ inputs: IRIS.inputs }) });
    assert.equal(answer.status, 200, await answer.clone().text());
    const [setosa, virginica] = ((await answer.json()) as any).predictions.probabilities as number[][];
    assert.ok(setosa![0]! > 0.9 && virginica![2]! > 0.5, "the iris model trained by the run, fetched from the bucket");
    const cmd = box.json(["endpoints", "query", "ep-cmd", "--data", JSON.stringify({ inputs: [[1, 2]] })], env());
    assert.equal(cmd.code, 0, cmd.stderr);
    assert.match(JSON.stringify(cmd.doc), /"tag":"v1"/, "the command model's files came back from the bucket");

    // Revision 1 (the phase-0 deploy) comes back from its snapshot in the bucket; the endpoints go,
    // and ep-onnx's inference table is archived to the misc store: the bucket.
    const history = box.json(["history"], env()).doc;
    const first = Math.min(...(history.revisions ?? history.deployments ?? []).map((d: any) => d.revision).filter((n: unknown) => typeof n === "number"));
    const rolled = box.json(["rollback", "--to", String(first), "--yes"], env());
    assert.equal(rolled.code, 0, rolled.stderr);
    const misc = await listObjects(bucket, "slipway/dev/archives/misc/inference/serve/dev/ep-onnx/");
    assert.equal(misc.length, 1, "one archived inference table");
    const body = await (await adminClient().send(new GetObjectCommand({ Bucket: bucket, Key: misc[0]!.key }))).Body!.transformToByteArray();
    const rows = gunzipSync(Buffer.from(body)).toString("utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(rows.length >= 1 && rows.some((r) => r.endpoint === "ep-onnx" || r.model === "clf"), JSON.stringify(rows[0]));
  });

  it("artifacts publish to the bucket and list from it", async () => {
    const built = box.run(["artifacts", "build", "labels"], env());
    assert.equal(built.code, 0, built.stderr);
    const published = box.json(["artifacts", "publish", "labels"], env());
    assert.equal(published.code, 0, published.stderr);
    const stored = await keys("slipway/dev/archives/artifacts/serve/labels/");
    assert.ok(stored.some((k) => k.endsWith("targets/dev/1.0.json")), stored.join(", "));
    assert.ok(stored.some((k) => k.endsWith("labels-1.0.tar.gz")), stored.join(", "));
    const list = box.json(["artifacts", "list", "labels"], env());
    assert.equal(list.code, 0, list.stderr);
    assert.match(JSON.stringify(list.doc), /"1\.0"/);
    assert.match(JSON.stringify(list.doc), new RegExp(`s3://${bucket}/slipway/dev/archives/artifacts/`));
  });

  it("with credentials the store refuses, a command that needs the bucket fails with blob_store_failed and names the variables; status does not need it", () => {
    const wrong = { ...env(), AWS_ACCESS_KEY_ID: "nobody", AWS_SECRET_ACCESS_KEY: "wrong" };
    const run = box.json(["run", "train_iris", "--wait"], wrong);
    assert.equal(run.code, 1, JSON.stringify(run.doc));
    assert.equal(run.doc.error.code, "blob_store_failed");
    assert.match(run.doc.error.hint, /AWS_ACCESS_KEY_ID/);
    const status = box.run(["status"], wrong);
    assert.equal(status.code, 0, status.stderr);
  });
});

describe("the control plane's uploaded sources in S3 (SLIPWAY_SERVER_BLOBS)", { skip: s3Skip }, () => {
  let bucket = "";
  let root = "";
  before(async () => {
    useAwsEnv();
    bucket = await createBucket("slipway-srv");
    root = mkdtempSync(join(tmpdir(), "slipway-srv-s3-"));
  });
  after(async () => {
    if (bucket) await removeBucket(bucket);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("files and manifests go to the bucket; another server on the same bucket has them and materialises the source", async () => {
    const location = `s3://${bucket}/server/?endpoint=${encodeURIComponent(testS3!.endpoint)}&region=${testS3!.region}`;
    const env = readRuntimeEnvWith({ SLIPWAY_HOME: join(root, "home-a"), SLIPWAY_SERVER_BLOBS: location });
    assert.equal(env.serverBlobs, location);
    const project = join(root, "project");
    for (const [p, c] of Object.entries({ "slipway.yaml": "project: demo\ntargets:\n  dev: { default: true }\n", "src/a.txt": "a\n", "src/b.txt": "b\n" })) {
      mkdirSync(dirname(join(project, p)), { recursive: true });
      writeFileSync(join(project, p), c);
    }
    const client = new MemoryBlobStore();
    const captured = await captureBundle(client, { sourceDir: project });
    const shas = captured.manifest.files.map((f) => f.sha256);
    const manifest = canonicalJson({ version: 1, files: captured.manifest.files.map((f) => ({ path: f.path, mode: f.mode, size: f.size, sha256: f.sha256 })) });

    const first = new SourceStore(env.home, blobStoreAt(env.serverBlobs!));
    assert.deepEqual((await first.missing(shas)).sort(), [...new Set(shas)].sort());
    for (const sha of shas) await first.putFile(sha, (await client.get(fileBlobKey(sha)))!);
    const put = await first.putManifest(manifest);
    assert.equal(put.project, "demo");
    const stored = (await listObjects(bucket, "server/")).map((o) => o.key);
    assert.ok(stored.some((k) => k.startsWith("server/bundles/")), stored.join(", "));
    assert.equal(stored.filter((k) => k.startsWith("server/files/")).length, new Set(shas).size);

    const second = new SourceStore(join(root, "home-b"), blobStoreAt(location));
    assert.deepEqual(await second.missing(shas), [], "nothing to upload again");
    const dir = await second.dirFor("demo", put.source);
    assert.equal(readFileSync(join(dir, "src", "b.txt"), "utf8"), "b\n");
  });
});
