// Apps through the real CLI: deploy starts the local server, which runs the app's command from its
// bundle, supervises it and routes /apps/NAME/ to it behind the sign-in; updates roll; destroy stops it.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { processAlive } from "../../src/util/run-script.js";
import { sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { appProject } from "../helpers/app-project.js";

describe("apps", () => {
  let box: Sandbox;
  let url = "";
  const tokens: Record<string, string> = {};
  const get = (path: string, token?: string, headers: Record<string, string> = {}) => fetch(`${url}${path}`, { redirect: "manual", headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const appsList = () => box.json(["apps", "list"]).doc.apps as any[];

  before(() => {
    box = sandbox(appProject());
  });
  after(() => {
    box.run(["server", "stop"]);
    box.cleanup();
  });

  it("deploy runs the app behind /apps/web/ and records it", () => {
    const r = box.json(["deploy"]);
    assert.equal(r.code, 0, r.stderr);
    const apps = appsList();
    assert.equal(apps.length, 1);
    assert.equal(apps[0].name, "web");
    assert.equal(apps[0].state, "running");
    assert.equal(apps[0].ready_replicas, 1);
    url = new URL(apps[0].url).origin;
    assert.equal(apps[0].url, `${url}/apps/web/`);
    for (const user of ["tester", "alice", "mallory"]) tokens[user] = box.json(["tokens", "create", "--user", user]).doc.token;
    tokens.viewer = box.json(["tokens", "create", "--user", "vic", "--group", "viewers"]).doc.token;
    assert.equal(box.json(["plan"]).doc.changes?.length ?? 0, 0, "nothing to do after a deploy");
  });

  it("lets in users with CAN_USE (or the owner), passing their name and never their credentials", async () => {
    for (const [who, token] of [["alice", tokens.alice], ["tester", tokens.tester], ["vic", tokens.viewer]] as const) {
      const r = await get("/apps/web/whoami", token, { "x-slipway-user": "admin", cookie: "other=1" });
      assert.equal(r.status, 200, who);
      const doc = (await r.json()) as any;
      assert.equal(doc.user, who);
      assert.equal(doc.prefix, "/apps/web");
      assert.equal(doc.authorization, null);
      assert.equal(doc.cookie, "other=1");
    }
    // The session cookie works as a sign-in and does not reach the app either.
    const byCookie = await get("/apps/web/whoami", undefined, { cookie: `theme=x; slipway_session=${tokens.alice}` });
    assert.equal(byCookie.status, 200);
    const doc = (await byCookie.json()) as any;
    assert.equal(doc.user, "alice");
    assert.equal(doc.cookie, "theme=x");
  });

  it("refuses others: 401 for clients, a redirect to the sign-in page for browsers, 403 without CAN_USE", async () => {
    const anonymous = await get("/apps/web/whoami");
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /Bearer/);
    const browser = await get("/apps/web/whoami?x=1", undefined, { accept: "text/html,application/xhtml+xml" });
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.get("location"), `/signin?next=${encodeURIComponent("/apps/web/whoami?x=1")}`);
    assert.equal((await get("/apps/web/whoami", "swt_forged")).status, 401);
    const outsider = await get("/apps/web/whoami", tokens.mallory);
    assert.equal(outsider.status, 403);
    assert.match(((await outsider.json()) as any).message, /mallory may not use app web: that needs CAN_USE/);
    // The bare name redirects to the folder, so the app's relative links work.
    const bare = await get("/apps/web");
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get("location"), "/apps/web/");
    assert.equal((await get("/apps/nope/", tokens.alice)).status, 404);
  });

  it("guards the session: cross-site writes refused, the app cannot set the session cookie, its redirects stay under the prefix", async () => {
    const cookie = `slipway_session=${tokens.alice}`;
    const forged = await fetch(`${url}/apps/web/echo`, { method: "POST", headers: { cookie, origin: "https://evil.example" }, body: "x" });
    assert.equal(forged.status, 403);
    const own = await fetch(`${url}/apps/web/echo`, { method: "POST", headers: { cookie, origin: url }, body: "hello" });
    assert.equal(own.status, 200);
    assert.deepEqual(await own.json(), { method: "POST", body: "hello" });
    const set = await get("/apps/web/set-cookie", tokens.alice);
    assert.deepEqual(set.headers.getSetCookie(), ["app_pref=dark; Path=/apps/web"]);
    const home = await get("/apps/web/go-home", tokens.alice);
    assert.equal(home.headers.get("location"), "/apps/web/whoami");
  });

  it("tunnels upgrades (WebSockets) for signed-in users only, and not for a page elsewhere riding on the session", async () => {
    const open = (headers: Record<string, string>) =>
      new Promise<{ status: number; user?: string; echo?: string }>((resolve, reject) => {
        const req = httpRequest(`${url}/apps/web/ws`, { headers: { connection: "Upgrade", upgrade: "echo", ...headers } });
        req.on("upgrade", (res, socket) => {
          socket.once("data", (d: Buffer) => {
            resolve({ status: res.statusCode ?? 0, user: String(res.headers["x-user"]), echo: d.toString("utf8") });
            socket.destroy();
          });
          socket.write("ping");
        });
        req.on("response", (res) => (res.resume(), resolve({ status: res.statusCode ?? 0 })));
        req.on("error", reject);
        req.end();
      });
    assert.deepEqual(await open({ authorization: `Bearer ${tokens.alice}` }), { status: 101, user: "alice", echo: "ping" });
    assert.equal((await open({})).status, 401);
    assert.equal((await open({ authorization: `Bearer ${tokens.mallory}` })).status, 403);
    assert.equal((await open({ cookie: `slipway_session=${tokens.alice}`, origin: "https://evil.example" })).status, 403);
    assert.equal((await open({ cookie: `slipway_session=${tokens.alice}`, origin: url })).status, 101);
  });

  it("gives the app its own identity: a token for app-web that the API knows, refused beyond its grants, never logged", async () => {
    const call = async (path: string, method = "GET") => (await (await get(`/apps/web/api?path=${encodeURIComponent(path)}&method=${method}`, tokens.alice)).json()) as any;
    const me = await call("/api/v1/whoami");
    assert.equal(me.status, 200, JSON.stringify(me));
    assert.equal(me.body.name ?? me.body.user, "app-web");
    assert.equal(me.body.kind, "service_principal");
    assert.equal((await call("/api/v1/users")).status, 403, "listing users needs an administrator");
    assert.equal((await call("/api/v1/audit")).status, 403);
    // The token and the secret env value never reach the app's log.
    const logs = box.run(["apps", "logs", "web"]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /listening on \d+ with key \*\*\*/);
    assert.doesNotMatch(logs.stdout, /k3y-s3cr3t-value|swt_/);
    assert.doesNotMatch(readFileSync(join(box.home, "logs", "apps", "web.log"), "utf8"), /k3y-s3cr3t-value|swt_/);
  });

  it("restarts the app when it crashes", async () => {
    const before = appsList()[0];
    await get("/apps/web/crash", tokens.alice);
    await waitFor(() => {
      const a = appsList()[0];
      return a.restarts === before.restarts + 1 && a.ready_replicas === 1 && a.pids[0] !== before.pids[0];
    }, 20_000);
    assert.equal((await get("/apps/web/whoami", tokens.alice)).status, 200);
    assert.match(box.run(["apps", "logs", "web"]).stdout, /crashing on request[\s\S]*exited \(code 3\); restarting/);
  });

  it("follows the log with apps logs -f", async () => {
    const follower = box.start(["apps", "logs", "web", "-f", "--tail", "1"]);
    let out = "";
    follower.stdout!.on("data", (d: Buffer) => (out += d.toString("utf8")));
    try {
      await waitFor(() => out.length > 0, 10_000);
      await get("/apps/web/crash", tokens.alice);
      await waitFor(() => /crashing on request/.test(out.split("\n").slice(1).join("\n")) || (out.match(/crashing on request/g) ?? []).length >= 2, 20_000, "the new line in the follower's output");
    } finally {
      follower.kill("SIGTERM");
    }
    await waitFor(() => appsList()[0].ready_replicas === 1, 20_000);
  });

  it("the app dies with its server (kill -9 included), and the next deploy runs it again", async () => {
    const server = JSON.parse(readFileSync(join(box.home, "server.json"), "utf8")).pid as number;
    const pids = appsList()[0].pids as number[];
    process.kill(server, "SIGKILL");
    await waitFor(() => pids.every((p) => !processAlive(p)), 10_000, "the app's processes to end with the server");
    const r = box.run(["deploy"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr + r.stdout, /the Slipway server was not running: started it at .*; running app\(s\) web again/);
    const [app] = appsList();
    assert.equal(app.state, "running");
    url = new URL(app.url).origin;
    assert.equal((await get("/apps/web/whoami", tokens.alice)).status, 200);
    const whoami = (await (await get("/apps/web/api?path=/api/v1/whoami", tokens.alice)).json()) as any;
    assert.equal(whoami.status, 200, "a new token after the restart");
  });

  it("rolls an update under load without a failed request", async () => {
    const old = appsList()[0];
    let stop = false;
    const statuses = new Map<number, number>();
    const versions = new Set<string>();
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const r = await get("/apps/web/whoami", tokens.alice);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        versions.add(((await r.json()) as any).version);
      }
    });
    box.write(appProject({ version: "2", replicas: 2 }));
    const deployed = await box.runAsync(["deploy", "--json"]);
    stop = true;
    await Promise.all(load);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.deepEqual([...statuses.keys()], [200], JSON.stringify([...statuses]));
    assert.ok(versions.has("2"));
    const now = appsList()[0];
    assert.equal(now.replicas, 2);
    assert.equal(now.ready_replicas, 2);
    for (const pid of old.pids) assert.equal(processAlive(pid), false, "the old replica stopped");
  });

  it("a new configuration that does not start fails the deploy with the app's last lines; the old one keeps serving", async () => {
    const files = appProject({ version: "3", replicas: 2 });
    box.write({ ...files, "modules/core/app/server.js": "this is not javascript\n" });
    const r = box.run(["deploy"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /`node server\.js` exited before \/healthz answered 200; its last lines:[\s\S]*SyntaxError/);
    const served = (await (await get("/apps/web/whoami", tokens.alice)).json()) as any;
    assert.equal(served.version, "2");
    box.write(appProject({ version: "2", replicas: 2 }));
  });

  it("destroy stops the app, removes its route and revokes its token", async () => {
    const pids = appsList()[0].pids as number[];
    const r = box.run(["destroy", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    for (const pid of pids) assert.equal(processAlive(pid), false);
    await waitFor(async () => {
      try {
        const answer = await get("/apps/web/", tokens.alice);
        return answer.status === 404;
      } catch {
        return true; // the server stopped: it had nothing left
      }
    }, 20_000);
    assert.equal(existsSync(join(box.home, "apps")), false, "no bundle folder left");
    const groups = JSON.parse(readFileSync(join(box.home, "model-processes.json"), "utf8")).groups;
    assert.deepEqual(groups, []);
    const appTokens = box.json(["tokens", "list", "--user", "app-web"]).doc.tokens as any[];
    assert.ok(appTokens.length >= 2, "one token per start of the app");
    assert.ok(appTokens.every((t) => t.revoked_at !== null), JSON.stringify(appTokens));
  });
});
