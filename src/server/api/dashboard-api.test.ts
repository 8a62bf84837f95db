// The dashboard's side of the API through the fetch handler (no port): the sign-in session (cookie
// flags, CSRF refusals, sign-out revokes, failures rate-limited and audited) and the routes the pages
// use (projects, access, hooks, revision diff, log events, endpoint metrics). Real SQLite, real runs.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Hono } from "hono";
import { captureBundle, fileBlobKey } from "../../bundles/index.js";
import { readRuntimeEnvWith } from "../../env.js";
import { FsBlobStore } from "../../store/blobs/fs/fs-blob-store.js";
import { canonicalJson } from "../../util/hash.js";
import { openControlPlane, type ControlPlane } from "../control-plane.js";
import { createApi } from "./app.js";
import { fieldDiff, requestMetrics, revisionDiff } from "./dashboard-routes.js";
import type { RecordedResource } from "../../resources.js";
import { SourceStore } from "./sources.js";

const PROJECT: Record<string, string> = {
  "slipway.yaml": "project: demo\ninclude: [modules/*/module.yaml]\ntargets:\n  dev:\n    default: true\n  qa: {}\n",
  "modules/app/module.yaml": `module: app
hooks:
  - name: setup
    deploy: deploy.sh
settings:
  region: eu
resources:
  jobs:
    hello:
      command: 'echo "hello"; echo "world"'
`,
  "modules/app/deploy.sh": "#!/usr/bin/env bash\necho \"setting up $SLIPWAY_MODULE\"\n",
};

const ORIGIN = "http://dash.test";

describe("dashboard API: sign-in session, CSRF, dashboard routes", () => {
  let root: string;
  let cp: ControlPlane;
  let app: Hono;
  const tokens: Record<string, string> = {};

  const request = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown; client?: string } = {}) => {
    const headers: Record<string, string> = { host: "dash.test", ...init.headers };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const res = await app.request(`${ORIGIN}/api/v1${path}`, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) }, { incoming: { socket: { remoteAddress: init.client ?? "127.0.0.1" } } });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON (event stream) */
    }
    return { status: res.status, headers: res.headers, body, text };
  };
  const bearer = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });
  const signIn = async (who: string, headers: Record<string, string> = {}) => {
    const r = await request("/session", { method: "POST", headers: { "x-slipway-csrf": "1", origin: ORIGIN, ...headers }, body: { token: tokens[who] } });
    assert.equal(r.status, 200, r.text);
    return { cookie: /slipway_session=([^;]+)/.exec(r.headers.get("set-cookie")!)![1]!, setCookie: r.headers.get("set-cookie")!, body: r.body };
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "slipway-dash-api-"));
    const env = readRuntimeEnvWith({ SLIPWAY_HOME: join(root, "home"), SLIPWAY_USER: "tester" });
    cp = await openControlPlane(env);
    app = createApi({ env, cp, sources: new SourceStore(env.home) });
    const at = cp.now();
    for (const [name, admin] of [["admin", true], ["viewer", false], ["outsider", false]] as const) {
      await cp.identities.createPrincipal(name, "user", admin, "test", at);
      tokens[name] = (await cp.identities.createToken(name, { description: null, expiresAt: null }, at)).token;
    }
    // Upload the project the way a client does (flat manifest), deploy it twice (a setting changes).
    const upload = async (files: Record<string, string>) => {
      const dir = join(root, `project-${Math.random().toString(36).slice(2)}`);
      for (const [p, c] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, p)), { recursive: true });
        writeFileSync(join(dir, p), c, { mode: p.endsWith(".sh") ? 0o755 : 0o644 });
      }
      const local = new FsBlobStore(join(root, "client-blobs"));
      const captured = await captureBundle(local, { sourceDir: dir });
      const missing = await request("/sources/missing", { method: "POST", headers: bearer("admin"), body: { files: captured.manifest.files.map((f) => f.sha256) } });
      for (const sha of missing.body.missing as string[]) {
        const res = await app.request(`/api/v1/sources/files/${sha}`, { method: "PUT", headers: bearer("admin"), body: (await local.get(fileBlobKey(sha)))! });
        assert.equal(res.status, 200);
      }
      const manifest = canonicalJson({ version: 1, files: captured.manifest.files.map((f) => ({ path: f.path, mode: f.mode, size: f.size, sha256: f.sha256 })) });
      assert.equal((await request("/sources", { method: "POST", headers: bearer("admin"), body: { manifest } })).status, 200);
    };
    await upload(PROJECT);
    assert.equal((await request("/projects/demo/deploy", { method: "POST", headers: bearer("admin"), body: {} })).status, 200);
    await upload({ ...PROJECT, "modules/app/module.yaml": PROJECT["modules/app/module.yaml"]!.replace("region: eu", "region: us") });
    assert.equal((await request("/projects/demo/deploy", { method: "POST", headers: bearer("admin"), body: {} })).status, 200);
    assert.equal((await request("/permissions", { method: "POST", headers: bearer("admin"), body: { level: "CAN_VIEW", project: "demo", target: "dev", user: "viewer" } })).status, 200);
  });
  after(async () => {
    await cp.stores.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("sign-in answers with a new session token only as an HttpOnly, SameSite=Strict cookie; it authenticates the same user", async () => {
    const { cookie, setCookie, body } = await signIn("viewer");
    assert.match(setCookie, /^slipway_session=swt_[^;]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    assert.notEqual(cookie, tokens.viewer, "a new token, not the one signed in with");
    assert.ok(!JSON.stringify(body).includes(cookie), "the token is not in the body");
    assert.equal(body.user, "viewer");
    const me = await request("/whoami", { headers: { cookie: `other=1; slipway_session=${cookie}` } });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.user, "viewer");
    // The identity store accepts it (what /apps/ routes rely on), and it expires in 12 hours.
    const actor = await cp.identities.authenticate(cookie, cp.now(), "x");
    assert.equal(actor?.name, "viewer");
    const listed = (await cp.identities.tokens("viewer")).find((t) => t.description === "dashboard session")!;
    assert.ok(listed.expires_at && Date.parse(listed.expires_at) - Date.now() <= 12 * 3600 * 1000 + 60_000);
    const https = await signIn("viewer", { "x-forwarded-proto": "https", origin: "https://dash.test" });
    assert.match(https.setCookie, /; Secure$/);
  });

  it("sign-in needs the CSRF header and this server's origin (no login CSRF)", async () => {
    for (const headers of [{}, { "x-slipway-csrf": "1", origin: "https://evil.example" }, { "x-slipway-csrf": "1", "sec-fetch-site": "cross-site" }] as Array<Record<string, string>>) {
      const r = await request("/session", { method: "POST", headers, body: { token: tokens.viewer } });
      assert.equal(r.status, 403, r.text);
      assert.equal(r.body.error_code, "csrf_refused");
      assert.ok(!r.headers.get("set-cookie"));
    }
  });

  it("a change made with the cookie needs X-Slipway-CSRF and the own origin; bearer requests are unaffected", async () => {
    const { cookie } = await signIn("admin");
    const change = (headers: Record<string, string>) => request("/tokens", { method: "POST", headers: { cookie: `slipway_session=${cookie}`, ...headers }, body: { description: "t" } });
    const forged = await change({});
    assert.equal(forged.status, 403);
    assert.equal(forged.body.error_code, "csrf_refused");
    assert.match(forged.body.message, /x-slipway-csrf/);
    const otherSite = await change({ "x-slipway-csrf": "1", origin: "https://evil.example" });
    assert.equal(otherSite.status, 403);
    assert.match(otherSite.body.message, /evil\.example/);
    assert.equal((await change({ "x-slipway-csrf": "1", origin: "http://dash.test.evil.example" })).status, 403);
    const ok = await change({ "x-slipway-csrf": "1", origin: ORIGIN });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await change({ "x-slipway-csrf": "1" })).status, 200, "no Origin (same-origin GET-like clients): the header suffices");
    // Reads need no header.
    assert.equal((await request("/tokens", { headers: { cookie: `slipway_session=${cookie}` } })).status, 200);
    // Bearer: no CSRF header needed, and a cookie beside it is ignored.
    assert.equal((await request("/tokens", { method: "POST", headers: { ...bearer("admin"), cookie: "slipway_session=junk" }, body: { description: "b" } })).status, 200);
  });

  it("sign-out revokes the session and clears the cookie; sign-in and sign-out are audited", async () => {
    const { cookie } = await signIn("viewer");
    const out = await request("/session", { method: "DELETE", headers: { cookie: `slipway_session=${cookie}`, "x-slipway-csrf": "1", origin: ORIGIN } });
    assert.equal(out.status, 200, out.text);
    assert.match(out.headers.get("set-cookie")!, /^slipway_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0/);
    const after = await request("/whoami", { headers: { cookie: `slipway_session=${cookie}` } });
    assert.equal(after.status, 401);
    assert.match(after.headers.get("set-cookie")!, /^slipway_session=; .*Max-Age=0/, "a dead session cookie is cleared");
    const audit = await request("/audit?limit=1000", { headers: bearer("admin") });
    const actions = audit.body.entries.map((e: any) => `${e.action} ${e.actor} ${e.outcome}`);
    assert.ok(actions.includes("sign in viewer ok"));
    assert.ok(actions.includes("sign out viewer ok"));
    assert.ok(!audit.text.includes(cookie), "no session token in the audit log");
  });

  it("failed sign-ins are audited and count toward the per-address limit", async () => {
    for (let i = 0; i < 10; i++) {
      const r = await request("/session", { method: "POST", headers: { "x-slipway-csrf": "1" }, body: { token: "swt_wrong" }, client: "10.0.0.9" });
      assert.equal(r.status, 401);
    }
    const blocked = await request("/session", { method: "POST", headers: { "x-slipway-csrf": "1" }, body: { token: tokens.viewer }, client: "10.0.0.9" });
    assert.equal(blocked.status, 429);
    const audit = await request("/audit?limit=1000", { headers: bearer("admin") });
    assert.ok(audit.body.entries.some((e: any) => e.action === "sign in" && e.outcome === "unauthenticated" && e.client === "10.0.0.9"));
  });

  it("projects lists only the targets the caller may view; access tells the caller's levels", async () => {
    assert.deepEqual((await request("/projects", { headers: bearer("admin") })).body.projects, [{ name: "demo", targets: [{ name: "dev", default: true }, { name: "qa", default: false }] }]);
    // qa is unclaimed (nobody deployed it): anyone may view it until someone does.
    assert.deepEqual((await request("/projects", { headers: bearer("viewer") })).body.projects[0].targets.map((t: any) => t.name), ["dev", "qa"]);
    const viewer = await request("/projects/demo/access", { headers: bearer("viewer") });
    assert.equal(viewer.status, 200, viewer.text);
    assert.deepEqual(viewer.body.levels, ["CAN_VIEW"]);
    assert.equal(viewer.body.admin, false);
    const outsider = await request("/projects/demo/access", { headers: bearer("outsider") });
    assert.equal(outsider.status, 403);
    assert.deepEqual((await request("/projects", { headers: bearer("outsider") })).body.projects[0].targets.map((t: any) => t.name), ["qa"]);
  });

  it("hooks with their last output; the diff between two revisions, field by field", async () => {
    const hooks = await request("/projects/demo/hooks", { headers: bearer("viewer") });
    assert.equal(hooks.status, 200, hooks.text);
    assert.deepEqual(hooks.body.hooks.map((h: any) => [h.address, h.exit_code, h.output]), [["hook.app.setup", 0, ["setting up app"]]]);
    const diff = await request("/projects/demo/revisions/diff?from=1&to=2", { headers: bearer("viewer") });
    assert.equal(diff.status, 200, diff.text);
    assert.deepEqual(diff.body.changed, [{ address: "setting.app.region", fields: [{ field: "value", from: "eu", to: "us" }] }]);
    assert.deepEqual([diff.body.added, diff.body.removed], [[], []]);
    const latest = await request("/projects/demo/revisions/diff?from=2", { headers: bearer("viewer") });
    assert.equal(latest.body.to, 2);
    assert.deepEqual(latest.body.changed, []);
    const unknown = await request("/projects/demo/revisions/diff?from=9", { headers: bearer("viewer") });
    assert.equal(unknown.body.error_code, "unknown_revision");
    assert.equal((await request("/projects/demo/revisions/diff?from=1", { headers: bearer("outsider") })).status, 403);
  });

  it("a run's log lines as server-sent events, ending with the document and an end event", async () => {
    const run = await request("/projects/demo/runs", { method: "POST", headers: bearer("admin"), body: { job: "hello" } });
    assert.equal(run.status, 200, run.text);
    const events = await request(`/projects/demo/runs/${run.body.id}/events`, { headers: bearer("viewer") });
    assert.equal(events.status, 200);
    assert.match(events.headers.get("content-type")!, /^text\/event-stream/);
    const data = events.text.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => JSON.parse(e.slice(6)));
    assert.deepEqual(data.filter((d) => d.line).map((d) => d.line), ["hello", "world"]);
    assert.equal(data.at(-1).document.status, "succeeded");
    assert.match(events.text, /event: end\ndata: \{\}\n\n$/);
    assert.equal((await request(`/projects/demo/runs/${run.body.id}/events`, { headers: bearer("outsider") })).status, 403);
  });

  it("endpoint metrics: an unknown endpoint is refused; buckets give rate, errors, p50 and p99", async () => {
    const r = await request("/projects/demo/endpoints/nope/metrics", { headers: bearer("viewer") });
    assert.notEqual(r.status, 200);
    const rows = [10, 20, 30, 40, 1000].map((ms, i) => ({ timestamp: `2026-01-01T00:00:0${i}Z`, status: i === 4 ? 500 : 200, latency_ms: ms }));
    rows.push({ timestamp: "2026-01-01T00:01:30Z", status: 200, latency_ms: 5 });
    assert.deepEqual(requestMetrics(rows, 60), [
      { at: "2026-01-01T00:00:00.000Z", requests: 5, rate_per_s: 5 / 60, errors: 1, error_rate: 0.2, p50_ms: 30, p99_ms: 1000 },
      { at: "2026-01-01T00:01:00.000Z", requests: 1, rate_per_s: 1 / 60, errors: 0, error_rate: 0, p50_ms: 5, p99_ms: 5 },
    ]);
    const setting = (value: string, sensitive?: boolean) => ({ address: "setting.app.pw", kind: "setting", spec: { module: "app", key: "pw", value, ...(sensitive ? { sensitive } : {}) }, specHash: value }) as unknown as RecordedResource;
    assert.deepEqual(revisionDiff([setting("old-secret", true)], [setting("new-secret", true)]).changed, [{ address: "setting.app.pw", fields: [{ field: "value", from: "***", to: "***" }] }], "a secret setting's values never show");
    assert.deepEqual(revisionDiff([setting("old-secret", true)], [setting("plain")]).changed[0]!.fields, [{ field: "sensitive", from: true, to: null }, { field: "value", from: "***", to: "***" }]);
    assert.deepEqual(fieldDiff({ a: 1, b: { c: [1] } }, { a: 1, b: { c: [2] }, d: "x" }), [
      { field: "b.c", from: [1], to: [2] },
      { field: "d", from: null, to: "x" },
    ]);
  });
});
