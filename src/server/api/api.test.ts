// The API through its fetch handler (app.request, no port): every route family, the permission matrix
// (every family with every level), errors and limits, secrets, tokens, the audit chain. Real SQLite,
// real project files, real runs.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { captureBundle, fileBlobKey, scanSource } from "../../bundles/index.js";
import { canonicalJson, sha256 } from "../../util/hash.js";
import { ManualClock } from "../../clock.js";
import { readRuntimeEnvWith, type RuntimeEnv } from "../../env.js";
import { FsBlobStore } from "../../store/blobs/fs/fs-blob-store.js";
import { documentSchema } from "../../views/documents.js";
import { openControlPlane, type ControlPlane } from "../control-plane.js";
import { createApi } from "./app.js";
import { ROUTES } from "./routes.js";
import { SourceStore } from "./sources.js";
import type { Hono } from "hono";
import { waitFor } from "../../../test/helpers/wait.js";

const PROJECT: Record<string, string> = {
  "slipway.yaml": `project: demo
include: [modules/*/module.yaml]
variables:
  password:
    default: s3cr3t-value
    secret: true
targets:
  dev:
    default: true
`,
  "modules/app/module.yaml": `module: app
settings:
  password: \${var.password}
  region: eu
resources:
  jobs:
    hello:
      command: 'echo "hello"'
      params: { who: world }
  models:
    ghost: {}
`,
};

interface Harness {
  root: string;
  env: RuntimeEnv;
  cp: ControlPlane;
  app: Hono;
  logs: string[];
  tokens: Record<string, string>;
  call(who: string, method: string, path: string, body?: unknown, client?: string): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

async function harness(options: { clock?: ManualClock } = {}): Promise<Harness> {
  const root = mkdtempSync(join(tmpdir(), "slipway-api-"));
  const env = { ...readRuntimeEnvWith({ SLIPWAY_HOME: join(root, "home"), SLIPWAY_USER: "tester" }), ...(options.clock ? { clock: options.clock } : {}) };
  const cp = await openControlPlane(env);
  const logs: string[] = [];
  const app = createApi({ env, cp, sources: new SourceStore(env.home) }, { log: (l) => logs.push(l), maxJsonBytes: 64 * 1024 });
  const tokens: Record<string, string> = {};
  const at = cp.now();
  for (const [name, kind, admin] of [
    ["admin", "user", true],
    ["viewer", "user", false],
    ["runner", "user", false],
    ["manager", "user", false],
    ["querier", "user", false],
    ["outsider", "user", false],
    ["robot", "service_principal", false],
  ] as const) {
    await cp.identities.createPrincipal(name, kind, admin, "test", at);
    tokens[name] = (await cp.identities.createToken(name, { description: null, expiresAt: null }, at)).token;
  }
  const h: Harness = {
    root,
    env,
    cp,
    app,
    logs,
    tokens,
    async call(who, method, path, body, client = "127.0.0.1") {
      const headers: Record<string, string> = {};
      if (tokens[who]) headers.authorization = `Bearer ${tokens[who]}`;
      else if (who) headers.authorization = `Bearer ${who}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await app.request(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) }, { incoming: { socket: { remoteAddress: client } } });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed, text };
    },
    async close() {
      await cp.stores.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return h;
}

/** Uploads a project folder the way a client does: missing files only, then the manifest. */
async function upload(h: Harness, who: string, files: Record<string, string>): Promise<{ source: string; uploaded: number }> {
  const dir = join(h.root, `project-${Math.random().toString(36).slice(2)}`);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  const local = new FsBlobStore(join(h.root, "client-blobs"));
  const captured = await captureBundle(local, { sourceDir: dir });
  const missing = await h.call(who, "POST", "/sources/missing", { files: captured.manifest.files.map((f) => f.sha256) });
  assert.equal(missing.status, 200, missing.text);
  for (const sha of missing.body.missing as string[]) {
    const res = await h.app.request(`/api/v1/sources/files/${sha}`, { method: "PUT", headers: { authorization: `Bearer ${h.tokens[who]}` }, body: (await local.get(fileBlobKey(sha)))! });
    assert.equal(res.status, 200, await res.text());
  }
  // The upload format is the flat (version 1) manifest: every file by path, mode, size and sha256.
  const manifest = canonicalJson({ version: 1, files: captured.manifest.files.map((f) => ({ path: f.path, mode: f.mode, size: f.size, sha256: f.sha256 })) });
  const put = await h.call(who, "POST", "/sources", { manifest });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body, { ok: true, source: sha256(manifest), project: "demo" });
  return { source: sha256(manifest), uploaded: (missing.body.missing as string[]).length };
}

describe("API: sources, deployments, runs, models, identity", () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it("uploads a project once; an unchanged file is not sent again", async () => {
    const first = await upload(h, "admin", PROJECT);
    assert.equal(first.uploaded, 2);
    const second = await upload(h, "admin", { ...PROJECT, "modules/app/extra.txt": "new" });
    assert.equal(second.uploaded, 1, "only the new file is uploaded");
    await upload(h, "admin", PROJECT);
  });

  it("plan, deploy, status, history, settings answer with the CLI's documents; secrets are masked", async () => {
    const plan = await h.call("admin", "GET", "/projects/demo/plan");
    assert.equal(plan.status, 200, plan.text);
    assert.ok(documentSchema("plan").safeParse(plan.body).success);
    const deployed = await h.call("admin", "POST", "/projects/demo/deploy", {});
    assert.equal(deployed.status, 200, deployed.text);
    assert.equal(deployed.body.revision, 1);
    assert.ok(documentSchema("deploy").safeParse(deployed.body).success);
    for (const path of ["status", "history", "settings"]) {
      const r = await h.call("admin", "GET", `/projects/demo/${path}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(documentSchema(path === "settings" ? "settings list" : (path as "status")).safeParse(r.body).success, path);
    }
    const settings = await h.call("admin", "GET", "/projects/demo/settings");
    assert.ok(!settings.text.includes("s3cr3t-value"), "the secret setting is masked");
    const all = [plan.text, deployed.text, settings.text, ...h.logs].join("\n");
    assert.ok(!all.includes("s3cr3t-value"), "no secret in answers or log lines");
    for (const t of Object.values(h.tokens)) assert.ok(!h.logs.join("\n").includes(t), "no token in log lines");
  });

  it("the admin's first deploy made them the target's owner", async () => {
    const list = await h.call("admin", "GET", "/permissions?project=demo&target=dev");
    assert.deepEqual(list.body.permissions.filter((p: any) => p.source === "owner").map((p: any) => p.principal), ["admin"]);
  });

  it("runs: start, list, show, logs (also following), cancel; models and endpoints lists", async () => {
    const run = await h.call("admin", "POST", "/projects/demo/runs", { job: "hello" });
    assert.equal(run.status, 200, run.text);
    const id = run.body.id as string;
    const res = await h.app.request(`/api/v1/projects/demo/runs/${id}/logs?follow=true`, { headers: { authorization: `Bearer ${h.tokens.admin}` } });
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.filter((l) => l.line).map((l) => l.line), ["hello"]);
    assert.equal(lines.at(-1).document.status, "succeeded");
    for (const path of [`runs`, `runs/${id}`, `runs/${id}/results`, `runs/${id}/logs`, "models", "models/ghost/versions", "endpoints", "artifacts"]) {
      const r = await h.call("admin", "GET", `/projects/demo/${path}`);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
    }
    const sweep = await h.call("admin", "POST", "/projects/demo/sweeps", { job: "hello", values: { who: ["a", "b"] } });
    assert.equal(sweep.status, 200, sweep.text);
    assert.deepEqual(sweep.body.runs.map((r: any) => r.params.who), ["a", "b"]);
    for (const r of sweep.body.runs) {
      await waitFor(async () => ["succeeded", "failed"].includes((await h.call("admin", "GET", `/projects/demo/runs/${r.id}`)).body.status), { what: `sweep run ${r.id} to finish` });
    }
    const cancel = await h.call("admin", "POST", `/projects/demo/runs/${id}/cancel`, {});
    assert.equal(cancel.status, 409);
    assert.equal(cancel.body.error_code, "run_finished");
  });

  it("tokens: own tokens only, shown once, revocation and expiry end them", async () => {
    const mine = await h.call("viewer", "POST", "/tokens", { description: "ci", expires_in_s: 3600 });
    assert.equal(mine.status, 200, mine.text);
    assert.match(mine.body.token, /^swt_/);
    assert.equal(mine.body.user, "viewer");
    const listed = await h.call("viewer", "GET", "/tokens");
    assert.ok(!listed.text.includes(mine.body.token), "a token is shown once, never listed");
    assert.deepEqual(listed.body.tokens.map((t: any) => t.user), ["viewer", "viewer"]);
    const other = await h.call("viewer", "POST", "/tokens", { user: "admin" });
    assert.equal(other.status, 403);
    assert.match(other.body.message, /needs an administrator/);
    const grouped = await h.call("viewer", "POST", "/tokens", { groups: ["admins"] });
    assert.equal(grouped.status, 403, "non-administrators cannot give their tokens groups");
    assert.equal((await h.call(mine.body.token, "GET", "/whoami")).status, 200);
    assert.equal((await h.call("viewer", "DELETE", `/tokens/${mine.body.id}`)).status, 200);
    const revoked = await h.call(mine.body.token, "GET", "/whoami");
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error_code, "unauthenticated");
  });

  it("users and groups: administrators only; group membership grants what the group has", async () => {
    assert.equal((await h.call("viewer", "GET", "/users")).status, 403);
    const created = await h.call("admin", "POST", "/users", { name: "dana" });
    assert.equal(created.status, 200, created.text);
    assert.equal((await h.call("admin", "POST", "/users", { name: "dana" })).body.error_code, "principal_exists");
    const token = (await h.call("admin", "POST", "/tokens", { user: "dana" })).body.token as string;
    assert.equal((await h.call(token, "GET", "/projects/demo/status")).status, 403);
    assert.equal((await h.call("admin", "POST", "/groups/analysts/members", { member: "dana" })).status, 200);
    assert.equal((await h.call("admin", "POST", "/permissions", { level: "CAN_VIEW", project: "demo", target: "dev", group: "analysts" })).status, 200);
    assert.equal((await h.call(token, "GET", "/projects/demo/status")).status, 200);
    const groups = await h.call("admin", "GET", "/groups");
    assert.deepEqual(groups.body.groups, [{ name: "analysts", members: ["dana"] }]);
  });

  it("audit: every change with who, what, target, address, outcome; the chain verifies, and tampering is found", async () => {
    const log = await h.call("admin", "GET", "/audit");
    const actions = log.body.entries.map((e: any) => `${e.actor} ${e.action} ${e.outcome}`);
    for (const expected of ["admin deploy ok", "admin run ok", "admin cancel run_finished", "viewer token create ok", "viewer token revoke ok", "admin user create ok", "admin group add ok", "admin permission grant ok"]) assert.ok(actions.includes(expected), `${expected} in ${actions.join(", ")}`);
    const deploy = log.body.entries.find((e: any) => e.action === "deploy");
    assert.equal(deploy.project, "demo");
    assert.equal(deploy.target, "dev");
    assert.equal(deploy.client, "127.0.0.1");
    assert.equal((await h.call("viewer", "GET", "/audit")).status, 403);
    const ok = await h.call("admin", "GET", "/audit/verify");
    assert.equal(ok.status, 200);
    assert.equal(ok.body.intact, true);
    await sql`update audit_log set actor = 'mallory' where seq = 2`.execute(h.cp.stores.state.db);
    const broken = await h.call("admin", "GET", "/audit/verify");
    assert.equal(broken.status, 500);
    assert.equal(broken.body.error_code, "audit_tampered");
    assert.equal(broken.body.broken_at, 2);
    assert.match(broken.body.reason, /entry 2 was changed/);
  });
});

describe("API: format-2 uploads and progress streams", () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  const put = async (kind: "files" | "trees", sha: string, data: string | Buffer) => {
    const res = await h.app.request(`/api/v1/sources/${kind}/${sha}`, { method: "PUT", headers: { authorization: `Bearer ${h.tokens.admin}` }, body: data });
    return { status: res.status, body: JSON.parse(await res.text()) };
  };

  it("a tree node is kept only once everything it names is here; then the record registers the source", async () => {
    const dir = join(h.root, "tree-project");
    const files = { ...PROJECT, "modules/core/module.yaml": "module: core\nhooks:\n  - name: setup\n    deploy: deploy.sh\n", "modules/core/deploy.sh": "#!/usr/bin/env bash\necho core ran\n" };
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), c, { mode: p.endsWith(".sh") ? 0o755 : 0o644 });
    }
    const scan = await scanSource(dir, join(h.root, "tree.index"));
    const tree = scan.tree();
    const root = tree.nodes.at(-1)!; // children before their parents: the root is last
    assert.equal(root.hash, tree.root);
    const early = await put("trees", root.hash, root.data);
    assert.equal(early.status, 404, "a node naming what the server lacks is refused");
    assert.equal(early.body.error_code, "unknown_source");
    const missing = await h.call("admin", "POST", "/sources/missing", { trees: [tree.root] });
    assert.deepEqual(missing.body.missing_trees, [tree.root]);
    for (const f of scan.files) assert.equal((await put("files", f.sha256, readFileSync(scan.paths.get(f.path)!))).status, 200);
    for (const n of tree.nodes) assert.equal((await put("trees", n.hash, n.data)).status, 200, n.hash);
    const registered = await h.call("admin", "POST", "/sources", { manifest: tree.record.data });
    assert.equal(registered.status, 200, registered.text);
    assert.deepEqual(registered.body, { ok: true, source: scan.hash, project: "demo" });
    assert.deepEqual((await h.call("admin", "POST", "/sources/missing", { trees: [tree.root] })).body.missing_trees, [], "the root stands for the whole tree");
    const bad = await put("trees", "0".repeat(64), root.data);
    assert.equal(bad.status, 400, "the bytes must hash to the name");
  });

  it("asked for newline-delimited JSON, a deploy streams its plan, actions and hook output, then the document", async () => {
    const res = await h.app.request("/api/v1/projects/demo/deploy", { method: "POST", headers: { authorization: `Bearer ${h.tokens.admin}`, accept: "application/x-ndjson", "content-type": "application/json" }, body: "{}" });
    assert.match(res.headers.get("content-type") ?? "", /application\/x-ndjson/);
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines[0].plan, "the plan comes first");
    assert.ok(lines.some((l) => l.action_finished?.address === "hook.core.setup" && l.ok === true));
    assert.ok(lines.some((l) => l.output?.address === "hook.core.setup"), "hook output");
    const last = lines.at(-1);
    assert.equal(last.document.ok, true);
    assert.equal(last.document.revision, 1);
    assert.ok(!JSON.stringify(lines).includes("s3cr3t-value"), "events are masked");
    const audit = await h.call("admin", "GET", "/audit?limit=5");
    assert.ok(audit.body.entries.some((e: any) => e.action === "deploy" && e.outcome === "ok"), "a streamed change is audited");
    const failed = await h.app.request("/api/v1/projects/nope/status", { headers: { authorization: `Bearer ${h.tokens.admin}`, accept: "application/x-ndjson" } });
    const end = JSON.parse((await failed.text()).trim().split("\n").at(-1)!);
    assert.equal(end.failure.error_code, "unknown_project");
  });
});

describe("API: errors and limits", () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it("no token, an unknown token: 401 with error_code, message and hint", async () => {
    for (const who of ["", "swt_unknown"]) {
      const r = await h.call(who, "GET", "/whoami", undefined, `10.0.0.${who ? 2 : 1}`);
      assert.equal(r.status, 401);
      assert.equal(r.body.error_code, "unauthenticated");
      assert.equal(typeof r.body.message, "string");
      assert.equal(typeof r.body.hint, "string");
    }
  });

  it("failed authentication is rate-limited per client address", async () => {
    for (let i = 0; i < 10; i++) assert.equal((await h.call("swt_guess", "GET", "/whoami", undefined, "10.9.9.9")).status, 401);
    const blocked = await h.call("admin", "GET", "/whoami", undefined, "10.9.9.9");
    assert.equal(blocked.status, 429, "even a valid token, from that address");
    assert.equal(blocked.body.error_code, "rate_limited");
    assert.equal((await h.call("admin", "GET", "/whoami", undefined, "10.9.9.10")).status, 200, "other addresses are not affected");
  });

  it("requests without any credentials are refused but not counted as guesses", async () => {
    for (let i = 0; i < 12; i++) assert.equal((await h.call("", "GET", "/whoami", undefined, "10.9.9.11")).status, 401);
    assert.equal((await h.call("admin", "GET", "/whoami", undefined, "10.9.9.11")).status, 200);
  });

  it("oversized bodies are refused (413); malformed ones are 400; unknown routes 404", async () => {
    const big = await h.call("admin", "POST", "/tokens", JSON.stringify({ description: "x".repeat(100_000) }));
    assert.equal(big.status, 413);
    assert.equal(big.body.error_code, "request_too_large");
    const bad = await h.call("admin", "POST", "/tokens", "{");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, "invalid_request");
    const wrong = await h.call("admin", "POST", "/tokens", { expires_in_s: "soon" });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.error.diagnostics[0].message, /expires_in_s/);
    const none = await h.call("admin", "GET", "/nope");
    assert.equal(none.status, 404);
    assert.equal(none.body.error_code, "unknown_route");
    const project = await h.call("admin", "GET", "/projects/never/status");
    assert.equal(project.status, 404);
    assert.equal(project.body.error_code, "unknown_project");
  });

  it("an expired token is refused", async () => {
    const clock = new ManualClock(Date.now());
    const m = await harness({ clock });
    try {
      const t = await m.call("viewer", "POST", "/tokens", { expires_in_s: 60 });
      assert.equal((await m.call(t.body.token, "GET", "/whoami")).status, 200);
      clock.advance(61_000);
      assert.equal((await m.call(t.body.token, "GET", "/whoami")).status, 401);
    } finally {
      await m.close();
    }
  });

  it("the OpenAPI 3.1 document lists every route, with the documents' schemas", async () => {
    const res = await h.app.request("/api/v1/openapi.json");
    const doc = (await res.json()) as any;
    assert.equal(doc.openapi, "3.1.0");
    for (const r of ROUTES) {
      const path = `/api/v1${r.path.replace(/:([a-z0-9_]+)/g, "{$1}")}`;
      assert.ok(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path}`);
    }
    const status = doc.paths["/api/v1/projects/{project}/status"].get;
    assert.ok(JSON.stringify(status.responses["200"]).includes("pending"), "the status document's schema");
  });
});

// ---- the permission matrix: every route family with every level
type Level = "none" | "CAN_VIEW" | "CAN_RUN" | "CAN_MANAGE" | "CAN_QUERY";
const NEEDS: Record<string, Level | "admin"> = { view: "CAN_VIEW", run: "CAN_RUN", manage: "CAN_MANAGE", query: "CAN_QUERY", admin: "admin" };
const RANK: Record<Level, number> = { none: -1, CAN_QUERY: 0, CAN_VIEW: 1, CAN_RUN: 2, CAN_MANAGE: 3 };
function allowed(held: Level, needed: Level | "admin"): boolean {
  if (needed === "admin") return false;
  if (needed === "CAN_QUERY") return held === "CAN_QUERY" || held === "CAN_MANAGE";
  return held !== "CAN_QUERY" && RANK[held] >= RANK[needed];
}

const FAMILIES: Array<{ family: keyof typeof NEEDS; method: string; path: string; body?: unknown }> = [
  { family: "view", method: "GET", path: "/projects/demo/plan" },
  { family: "view", method: "GET", path: "/projects/demo/status" },
  { family: "view", method: "GET", path: "/projects/demo/history" },
  { family: "view", method: "GET", path: "/projects/demo/settings" },
  { family: "view", method: "GET", path: "/projects/demo/runs" },
  { family: "view", method: "GET", path: "/projects/demo/archives/stage_logs" },
  { family: "view", method: "GET", path: "/projects/demo/models" },
  { family: "view", method: "GET", path: "/projects/demo/endpoints" },
  { family: "view", method: "GET", path: "/projects/demo/artifacts" },
  { family: "view", method: "GET", path: "/permissions?project=demo&target=dev" },
  { family: "view", method: "GET", path: "/projects/demo/access" },
  { family: "view", method: "GET", path: "/projects/demo/hooks" },
  { family: "view", method: "GET", path: "/projects/demo/revisions/diff?from=1" },
  { family: "run", method: "POST", path: "/projects/demo/runs", body: { job: "hello" } },
  // A parameter the job lacks: refused after the permission check, so no runs outlive the test.
  { family: "run", method: "POST", path: "/projects/demo/sweeps", body: { job: "hello", values: { nope: ["a", "b"] } } },
  { family: "run", method: "POST", path: "/projects/demo/runs/rnope/cancel", body: {} },
  { family: "manage", method: "POST", path: "/projects/demo/deploy", body: {} },
  { family: "manage", method: "POST", path: "/projects/demo/rollback", body: { to: 1 } },
  { family: "manage", method: "POST", path: "/projects/demo/destroy", body: {} },
  { family: "manage", method: "PUT", path: "/projects/demo/models/ghost/aliases/champion", body: { version: 1 } },
  { family: "manage", method: "POST", path: "/projects/demo/endpoints/reap", body: {} },
  { family: "manage", method: "POST", path: "/permissions", body: { level: "CAN_VIEW", project: "demo", target: "dev", user: "outsider" } },
  { family: "query", method: "POST", path: "/projects/demo/endpoints/ep/query", body: { data: "{}" } },
  { family: "admin", method: "GET", path: "/users" },
  { family: "admin", method: "GET", path: "/audit" },
];

describe("API: the permission matrix", () => {
  let h: Harness;
  const holders: Record<Level, string> = { none: "outsider", CAN_VIEW: "viewer", CAN_RUN: "runner", CAN_MANAGE: "manager", CAN_QUERY: "querier" };
  before(async () => {
    h = await harness();
    await upload(h, "admin", PROJECT);
    assert.equal((await h.call("admin", "POST", "/projects/demo/deploy", {})).status, 200);
    for (const [level, who] of Object.entries(holders)) {
      if (level === "none") continue;
      const scope = level === "CAN_QUERY" ? { target: "dev", resource: "endpoint.ep" } : { target: "dev" };
      assert.equal((await h.call("admin", "POST", "/permissions", { level, project: "demo", ...scope, user: who })).status, 200);
    }
  });
  after(async () => {
    // The runs the allowed POST /runs started must end before their home is removed.
    await waitFor(async () => !(await h.call("admin", "GET", "/projects/demo/runs")).body.runs.some((r: { status: string }) => r.status === "queued" || r.status === "running"), { timeoutMs: 60_000, what: "the matrix's runs to finish" });
    await h.close();
  });

  for (const [level, who] of Object.entries(holders) as Array<[Level, string]>) {
    it(`${level}: the routes it allows succeed (or fail for another reason), the others are 403 naming the level needed`, async () => {
      for (const f of FAMILIES) {
        const needed = NEEDS[f.family]!;
        const r = await h.call(who, f.method, f.path, f.body);
        if (allowed(level, needed)) {
          assert.notEqual(r.status, 403, `${level} ${f.method} ${f.path}: ${r.text}`);
          assert.notEqual(r.status, 401);
        } else {
          assert.equal(r.status, 403, `${level} ${f.method} ${f.path} should be forbidden: ${r.text}`);
          assert.equal(r.body.error_code, "forbidden");
          assert.match(r.body.message, needed === "admin" ? /needs an administrator/ : new RegExp(`needs ${needed}`), `${f.method} ${f.path}`);
        }
      }
    });
  }

  it("administrators pass everywhere; a service principal is not a user of the same name", async () => {
    for (const f of FAMILIES) assert.notEqual((await h.call("admin", f.method, f.path, f.body)).status, 403, `${f.method} ${f.path}`);
    assert.equal((await h.call("admin", "POST", "/permissions", { level: "CAN_VIEW", project: "demo", target: "dev", user: "robot" })).status, 200);
    assert.equal((await h.call("robot", "GET", "/projects/demo/status")).status, 403);
    assert.equal((await h.call("admin", "POST", "/permissions", { level: "CAN_VIEW", project: "demo", target: "dev", service_principal: "robot" })).status, 200);
    assert.equal((await h.call("robot", "GET", "/projects/demo/status")).status, 200);
  });

  it("a target nobody has claimed: the first deployer owns it", async () => {
    const second = { ...PROJECT, "slipway.yaml": PROJECT["slipway.yaml"]!.replace("  dev:\n    default: true\n", "  dev:\n    default: true\n  qa: {}\n") };
    await upload(h, "admin", second);
    // qa has a project-wide grant? none: only dev has grants, so qa is unclaimed… but grants on demo/dev do not count for qa.
    const r = await h.call("outsider", "POST", "/projects/demo/deploy", { target: "qa" });
    assert.equal(r.status, 200, r.text);
    const owners = await h.call("admin", "GET", "/permissions?project=demo&target=qa");
    assert.deepEqual(owners.body.permissions.map((p: any) => `${p.principal} ${p.level} ${p.source}`), ["outsider CAN_MANAGE owner"]);
    assert.equal((await h.call("viewer", "POST", "/projects/demo/deploy", { target: "qa" })).status, 403, "claimed now");
  });
});

describe("API: promotion needs CAN_VIEW on the source and CAN_MANAGE on the destination, and is audited", () => {
  let h: Harness;
  const TWO_TARGETS = { ...PROJECT, "slipway.yaml": PROJECT["slipway.yaml"]!.replace("targets:\n  dev:\n    default: true\n", "targets:\n  dev:\n    default: true\n  qa: {}\n") };
  before(async () => {
    h = await harness();
    await upload(h, "admin", TWO_TARGETS);
    for (const target of ["dev", "qa"]) assert.equal((await h.call("admin", "POST", "/projects/demo/deploy", { target })).status, 200);
    const grant = (level: string, target: string, user: string) => h.call("admin", "POST", "/permissions", { level, project: "demo", target, user });
    for (const r of [grant("CAN_VIEW", "dev", "viewer"), grant("CAN_MANAGE", "qa", "viewer"), grant("CAN_MANAGE", "dev", "manager"), grant("CAN_VIEW", "qa", "manager"), grant("CAN_MANAGE", "qa", "runner")]) assert.equal((await r).status, 200);
  });
  after(() => h.close());

  // viewer: CAN_VIEW on dev, CAN_MANAGE on qa; manager: CAN_MANAGE on dev, CAN_VIEW on qa; runner: CAN_MANAGE on qa only.
  it("each caller as its grants allow; the attempt is in the audit log either way", async () => {
    const promote = (who: string) => h.call(who, "POST", "/projects/demo/models/ghost@champion/promote", { from: "dev", to: "qa", alias: "champion" });
    const allowed = await promote("viewer");
    assert.equal(allowed.status, 404, allowed.text);
    assert.equal(allowed.body.error_code, "unknown_model_version", "allowed: it then finds no version to promote");
    const devOnly = await promote("manager");
    assert.equal(devOnly.status, 403);
    assert.match(devOnly.body.message, /needs CAN_MANAGE/);
    const qaOnly = await promote("runner");
    assert.equal(qaOnly.status, 403);
    assert.match(qaOnly.body.message, /needs CAN_VIEW/);
    const artifact = await h.call("viewer", "POST", "/projects/demo/artifacts/dqm@1.0.0/promote", { from: "dev", to: "qa" });
    assert.equal(artifact.status, 404, artifact.text);
    const log = await h.call("admin", "GET", "/audit");
    const actions = log.body.entries.map((e: any) => `${e.actor} ${e.action} ${e.outcome}`);
    for (const expected of ["viewer models promote unknown_model_version", "manager models promote forbidden", "runner models promote forbidden", "viewer artifacts promote unknown_artifact_version"]) assert.ok(actions.includes(expected), `${expected} in ${actions.join(", ")}`);
  });
});
