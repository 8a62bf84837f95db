// Pipelines through the API (app.request, no port): a run triggered by a token, the server's pipelines
// loop advancing it, and every approval rule with the token's actor as the approver: a listed approver
// without CAN_MANAGE on the gated target, a user with it who is not listed, the triggerer (self-review),
// and one who may; decisions are in the audit log. Real SQLite, real uploaded project, real deploys.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Hono } from "hono";
import { captureBundle, fileBlobKey } from "../../bundles/index.js";
import { readRuntimeEnvWith, type RuntimeEnv } from "../../env.js";
import { openStores, type Stores } from "../../store/open.js";
import { FsBlobStore } from "../../store/blobs/fs/fs-blob-store.js";
import { canonicalJson } from "../../util/hash.js";
import { documentSchema } from "../../views/documents.js";
import { PipelineLoop } from "../background/pipelines.js";
import { openControlPlane, type ControlPlane } from "../control-plane.js";
import { createApi } from "./app.js";
import { SourceStore } from "./sources.js";

const PROJECT: Record<string, string> = {
  "slipway.yaml": `project: demo
include: [modules/*/module.yaml]
targets:
  dev: { default: true }
  prod: {}
`,
  "modules/app/module.yaml": `module: app
resources:
  jobs:
    hello: { command: 'echo hello' }
  pipelines:
    release:
      stages:
        - { name: ok, type: approval, approvers: [user:viewer, user:runner, user:manager], timeout: 1h }
        - { name: prod, type: deploy, target: prod }
`,
};

describe("API: pipelines and approvals", () => {
  let root: string;
  let env: RuntimeEnv;
  let cp: ControlPlane;
  let app: Hono;
  let stores: Stores;
  let loop: PipelineLoop;
  const tokens: Record<string, string> = {};
  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const res = await app.request(`/api/v1${path}`, { method, headers: { authorization: `Bearer ${tokens[who]}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined }, { incoming: { socket: { remoteAddress: "127.0.0.1" } } });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text), text };
  };
  /** The server's loop, until the run stops moving. */
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      const t = await loop.tick();
      await loop.engine.drain();
      if (!t.advanced) return;
    }
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "slipway-api-pipelines-"));
    env = readRuntimeEnvWith({ SLIPWAY_HOME: join(root, "home"), SLIPWAY_USER: "tester", SLIPWAY_SERVER_PORT: "0" });
    cp = await openControlPlane(env);
    app = createApi({ env, cp, sources: new SourceStore(env.home) });
    for (const [name, admin] of [["admin", true], ["viewer", false], ["runner", false], ["manager", false], ["outsider", false]] as const) {
      await cp.identities.createPrincipal(name, "user", admin, "test", cp.now());
      tokens[name] = (await cp.identities.createToken(name, { description: null, expiresAt: null }, cp.now())).token;
    }
    // Upload the project (missing files, then the manifest), as a client does.
    const dir = join(root, "project");
    for (const [p, c] of Object.entries(PROJECT)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), c);
    }
    const local = new FsBlobStore(join(root, "client-blobs"));
    const captured = await captureBundle(local, { sourceDir: dir });
    const missing = await call("admin", "POST", "/sources/missing", { files: captured.manifest.files.map((f) => f.sha256) });
    for (const sha of missing.body.missing as string[]) await app.request(`/api/v1/sources/files/${sha}`, { method: "PUT", headers: { authorization: `Bearer ${tokens.admin}` }, body: (await local.get(fileBlobKey(sha)))! });
    const manifest = canonicalJson({ version: 1, files: captured.manifest.files.map((f) => ({ path: f.path, mode: f.mode, size: f.size, sha256: f.sha256 })) });
    assert.equal((await call("admin", "POST", "/sources", { manifest })).status, 200);
    assert.equal((await call("admin", "POST", "/projects/demo/deploy", {})).status, 200);
    for (const [level, target, user] of [["CAN_RUN", "dev", "runner"], ["CAN_VIEW", "dev", "viewer"], ["CAN_VIEW", "dev", "outsider"], ["CAN_VIEW", "dev", "manager"], ["CAN_MANAGE", "prod", "manager"], ["CAN_MANAGE", "prod", "runner"], ["CAN_MANAGE", "prod", "outsider"], ["CAN_VIEW", "prod", "viewer"]]) {
      const g = await call("admin", "POST", "/permissions", { level, project: "demo", target, user });
      assert.equal(g.status, 200, g.text);
    }
    stores = await openStores(env.home);
    loop = new PipelineLoop({ env, stores, clock: env.clock, owner: "server:1", log: () => {} });
  });
  after(async () => {
    await loop.stop();
    await stores.close();
    await cp.stores.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("a run triggered through the API waits for approval; each approval rule is enforced with the token's actor", async () => {
    assert.equal((await call("viewer", "POST", "/projects/demo/pipelines/release/runs", {})).status, 403, "starting a run needs CAN_RUN");
    const started = await call("runner", "POST", "/projects/demo/pipelines/release/runs", {});
    assert.equal(started.status, 200, started.text);
    assert.ok(documentSchema("pipelines run").safeParse(started.body).success, started.text);
    assert.equal(started.body.user, "runner");
    const id = started.body.id as string;
    await settle();
    const waiting = await call("viewer", "GET", `/projects/demo/pipeline-runs/${id}`);
    assert.equal(waiting.body.status, "waiting");
    const approval = waiting.body.stages[0].approval;
    assert.equal(approval.target, "prod");
    assert.deepEqual(approval.plan.map((p: any) => [p.target, p.create]), [["prod", 3]], "the approval shows the plan of the deploy it gates");

    const viewer = await call("viewer", "POST", `/projects/demo/pipeline-runs/${id}/approve`, { stage: "ok" });
    assert.equal(viewer.status, 403);
    assert.equal(viewer.body.error.code, "forbidden");
    assert.match(viewer.body.error.message, /viewer may not approve stage ok of pipeline run \S+ on demo\/prod: that needs CAN_MANAGE/);
    const outsider = await call("outsider", "POST", `/projects/demo/pipeline-runs/${id}/approve`, { stage: "ok" });
    assert.equal(outsider.status, 403);
    assert.match(outsider.body.error.message, /outsider is not an approver/);
    const self = await call("runner", "POST", `/projects/demo/pipeline-runs/${id}/approve`, { stage: "ok" });
    assert.equal(self.status, 403);
    assert.equal(self.body.error.code, "self_review");
    const ok = await call("manager", "POST", `/projects/demo/pipeline-runs/${id}/approve`, { stage: "ok", comment: "ship it" });
    assert.equal(ok.status, 200, ok.text);
    assert.ok(documentSchema("pipelines approve").safeParse(ok.body).success, ok.text);
    assert.deepEqual([ok.body.decision.user, ok.body.decision.comment], ["manager", "ship it"]);

    await settle();
    const done = await call("viewer", "GET", `/projects/demo/pipeline-runs/${id}`);
    assert.equal(done.body.status, "succeeded", done.text);
    assert.equal(done.body.stages[1].message, "deployed prod: revision 1");
    const status = await call("admin", "GET", "/projects/demo/status?target=prod");
    assert.equal(status.body.revision, 1, "prod was deployed by the approved stage");

    const audit = await call("admin", "GET", "/audit");
    const decisions = audit.body.entries.filter((e: any) => e.action.startsWith("pipeline"));
    assert.deepEqual(
      decisions.map((e: any) => [e.actor, e.action, e.outcome]),
      [
        ["viewer", "pipeline run", "forbidden"],
        ["runner", "pipeline run", "ok"],
        ["viewer", "pipeline approve", "forbidden"],
        ["outsider", "pipeline approve", "forbidden"],
        ["runner", "pipeline approve", "self_review"],
        ["manager", "pipeline approve", "ok"],
      ],
    );
    for (const path of ["/projects/demo/pipelines", "/projects/demo/pipelines/release/runs", `/projects/demo/pipeline-runs/${id}/logs?stage=prod`]) {
      const r = await call("viewer", "GET", path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
    }
  });
});
