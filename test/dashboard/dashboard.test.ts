// The dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against
// a real server holding a real deployment (fixture.ts): sign in as an administrator and as a viewer,
// open every page, run a job and follow its logs live, move an alias, roll back, check that a viewer
// sees no action buttons, that forged requests are refused, and that no page logs a console error.
// Screenshots of every page go to docs/images/dashboard with UPDATE_SCREENSHOTS=1 (docs/dashboard.md
// shows them), to SLIPWAY_SCREENSHOTS_DIR when set, else to a temporary folder removed at the end.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { REPO } from "../helpers/cli.js";
import { startDashboardFixture, type DashboardFixture } from "./fixture.js";

/** The page's own document, in page.evaluate callbacks (they run in the browser; this program has no DOM types). */
declare const document: any;

const CHROMIUM = "/usr/bin/chromium";
const KEEP_SHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? join(REPO, "docs", "images", "dashboard") : process.env.SLIPWAY_SCREENSHOTS_DIR;
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium; scripts/test.sh installs it when run as root)`;

interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far. */
  errors: string[];
}

describe("dashboard in headless Chromium", { skip }, () => {
  let f: DashboardFixture;
  let browser: Browser;
  let admin: Session;
  let viewer: Session;
  let shots: string;
  const api = async (path: string, init: RequestInit = {}, token = f.server.token) => {
    const res = await fetch(`${f.server.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });
    return { status: res.status, body: (await res.json()) as any };
  };

  const open = async (token: string): Promise<Session> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
    // A one-time sign-in link: the token is in the fragment, which never reaches the server.
    await page.goto(`${f.server.url}/signin#token=${encodeURIComponent(token)}`);
    await page.waitForURL((u) => u.pathname === "/", { timeout: 20_000 });
    await page.getByTestId("who").waitFor();
    return { context, page, errors };
  };

  const visit = async (s: Session, path: string, ready: string, shot?: string) => {
    await s.page.goto(`${f.server.url}${path}`);
    await s.page.getByTestId(ready).first().waitFor({ timeout: 20_000 });
    if (shot) {
      await s.page.waitForLoadState("networkidle").catch(() => undefined);
      await s.page.screenshot({ path: join(shots, `${shot}.png`), fullPage: true });
    }
  };

  before(async () => {
    shots = KEEP_SHOTS ?? mkdtempSync(join(tmpdir(), "slipway-dashboard-shots-"));
    mkdirSync(shots, { recursive: true });
    f = await startDashboardFixture();
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    admin = await open(f.server.token);
    viewer = await open(f.viewerToken);
  });
  after(async () => {
    await browser?.close();
    await f?.stop();
    if (!KEEP_SHOTS && shots) rmSync(shots, { recursive: true, force: true });
  });

  it("the sign-in page: a wrong token is refused with a message; next= is followed only to this site", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${f.server.url}/jobs`);
    await page.waitForURL(/\/signin\?next=%2Fjobs/);
    await page.getByTestId("token").fill("swt_not-a-token");
    await page.getByTestId("sign-in").click();
    await page.getByRole("alert").waitFor();
    assert.match(await page.getByRole("alert").innerText(), /unauthenticated/);
    await page.getByTestId("token").fill(f.viewerToken);
    await page.getByTestId("sign-in").click();
    await page.waitForURL((u) => u.pathname === "/jobs");
    assert.ok(!(await page.evaluate(() => document.cookie)).includes("slipway_session"), "the session cookie is HttpOnly");
    const first = (await context.cookies()).find((c) => c.name === "slipway_session")!;
    assert.equal(first.httpOnly, true);
    assert.equal(first.sameSite, "Strict");
    assert.notEqual(first.value, f.viewerToken);
    for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
      await page.goto(`${f.server.url}/signin?next=${encodeURIComponent(next)}#token=${f.viewerToken}`);
      await page.waitForURL((u) => u.pathname === "/");
      assert.equal(new URL(page.url()).origin, f.server.url, `next=${next} stays here`);
    }
    const cookie = (await context.cookies()).find((c) => c.name === "slipway_session")!;
    assert.equal((await fetch(`${f.server.url}/api/v1/whoami`, { headers: { cookie: `slipway_session=${first.value}` } })).status, 401, "signing in again ended the session before");
    await page.getByTestId("sign-out").click();
    await page.waitForURL(/\/signin/);
    assert.equal((await fetch(`${f.server.url}/api/v1/whoami`, { headers: { cookie: `slipway_session=${cookie.value}` } })).status, 401, "signed out: the session is revoked");
    await context.close();
  });

  it("as an administrator every page shows its data (screenshots)", async () => {
    await visit(admin, "/", "recent-runs", "overview");
    assert.match(await admin.page.getByTestId("target-quickstart-dev").innerText(), /revision 3/);
    await admin.page.getByTestId("countdown").first().waitFor();
    await visit(admin, "/deployments", "history", "deployments");
    await visit(admin, "/modules", "hooks", "modules");
    assert.match(await admin.page.getByTestId("hooks").innerText(), /hook\.core\.catalog[\s\S]*creating catalog/);
    assert.match(await admin.page.getByTestId("settings").innerText(), /region\s+local-2/);
    await visit(admin, "/jobs", "jobs", "jobs");
    assert.match(await admin.page.getByTestId("jobs").innerText(), /nightly-train/);
    await visit(admin, "/models", "metric-chart", "models");
    await admin.page.locator("[data-testid=metric-chart] canvas").waitFor();
    await visit(admin, "/endpoints", "latency-chart", "endpoints");
    await admin.page.locator("[data-testid=latency-chart] canvas").waitFor();
    assert.match(await admin.page.getByTestId("requests").innerText(), /iris@2/);
    await visit(admin, "/applications", "apps", "apps");
    assert.match(await admin.page.getByTestId("apps").innerText(), /console[\s\S]*running[\s\S]*\/apps\/console\/[\s\S]*1\/1 ready/);
    await visit(admin, "/pipelines", "pipelines");
    await visit(admin, "/audit", "audit", "audit");
    assert.match(await admin.page.getByTestId("audit").innerText(), /sign in/);
    await visit(admin, "/people", "users", "people");
    await visit(admin, "/tokens", "tokens", "tokens");
  });

  it("runs a job and follows its logs live, then shows the timeline, results and provenance", async () => {
    await visit(admin, "/jobs", "run-slow");
    await admin.page.getByTestId("run-slow").click();
    await admin.page.waitForURL(/\/runs\/r/);
    // The first lines arrive while the run is still going: the page follows them live.
    await admin.page.getByTestId("logs").filter({ hasText: "report line 2" }).waitFor({ timeout: 20_000 });
    const whileRunning = await admin.page.getByTestId("log-state").innerText();
    const linesThen = (await admin.page.getByTestId("logs").innerText()).split("\n").length;
    assert.equal(whileRunning, "following");
    assert.ok(linesThen < 20, `only some lines yet (${linesThen})`);
    await admin.page.screenshot({ path: join(shots, "run-live.png"), fullPage: true });
    await admin.page.getByTestId("log-state").filter({ hasText: "finished" }).waitFor({ timeout: 30_000 });
    assert.match(await admin.page.getByTestId("logs").innerText(), /\[main\] report line 20/);
    await admin.page.getByTestId("timeline").filter({ hasText: "succeeded" }).waitFor({ timeout: 10_000 });
    const id = admin.page.url().split("/runs/")[1]!.split("?")[0]!;
    assert.equal((await api(`/projects/quickstart/runs/${id}`)).body.status, "succeeded");
    // A run with results and archived outputs (the iris training run).
    const iris = (await api("/projects/quickstart/runs?job=train_iris&limit=1")).body.runs[0].id as string;
    await visit(admin, `/runs/${iris}`, "outputs");
    await admin.page.getByTestId("log-state").filter({ hasText: "finished" }).waitFor();
    assert.match(await admin.page.getByTestId("results").innerText(), /accuracy/);
    assert.match(await admin.page.getByTestId("outputs").innerText(), /model\/model\.onnx/);
    await admin.page.screenshot({ path: join(shots, "run.png"), fullPage: true });
  });

  it("cancels a running job from its page", async () => {
    await visit(admin, "/jobs", "run-slow");
    await admin.page.getByTestId("run-slow").click();
    await admin.page.waitForURL(/\/runs\/r/);
    await admin.page.getByTestId("logs").filter({ hasText: "report line 1" }).waitFor({ timeout: 20_000 });
    await admin.page.getByTestId("cancel").click();
    await admin.page.getByTestId("log-state").filter({ hasText: "finished" }).waitFor({ timeout: 30_000 });
    const id = admin.page.url().split("/runs/")[1]!.split("?")[0]!;
    await admin.page.locator("h1 + p").filter({ hasText: "cancelled" }).waitFor({ timeout: 10_000 });
    assert.equal((await api(`/projects/quickstart/runs/${id}`)).body.status, "cancelled");
    assert.equal(await admin.page.getByTestId("cancel").count(), 0, "no cancel button on a finished run");
  });

  it("moves an alias", async () => {
    await visit(admin, "/models", "alias-form");
    await admin.page.getByTestId("alias-name").fill("champion");
    await admin.page.getByTestId("alias-version").selectOption("1");
    await admin.page.getByTestId("alias-move").click();
    await admin.page.getByTestId("alias-moved").waitFor();
    const models = (await api("/projects/quickstart/models")).body.models;
    assert.equal(models.find((m: any) => m.model === "iris").aliases.champion, 1);
  });

  it("rolls back to a revision, with the plan shown first", async () => {
    await visit(admin, "/deployments", "diff-2");
    await admin.page.getByTestId("diff-2").click();
    await admin.page.getByTestId("diff").filter({ hasText: "setting.core.region" }).waitFor();
    await admin.page.getByTestId("rollback-2").click();
    const plan = admin.page.getByTestId("rollback-plan");
    await plan.filter({ hasText: "setting.core.region" }).waitFor();
    assert.match(await plan.innerText(), /"local-2"\s*→\s*"local-1"/);
    await admin.page.screenshot({ path: join(shots, "rollback-plan.png"), fullPage: true });
    await admin.page.getByTestId("rollback-confirm").click();
    await admin.page.getByTestId("rollback-outcome").waitFor({ timeout: 30_000 });
    const history = (await api("/projects/quickstart/history")).body.deployments;
    assert.equal(history[0].operation, "rollback");
    assert.equal(history[0].status, "succeeded");
    const settings = (await api("/projects/quickstart/settings")).body.settings;
    assert.equal(settings.find((s: any) => s.key === "region").value, "local-1");
  });

  it("runs a pipeline: its stage graph follows the run, and the approver approves the waiting stage", async () => {
    await visit(admin, "/pipelines", "pipeline-run-release");
    await admin.page.getByTestId("pipeline-run-release").click();
    await admin.page.getByTestId("stage-graph").waitFor();
    await admin.page.getByTestId("approve").waitFor({ timeout: 30_000 });
    assert.match(await admin.page.getByTestId("approval-approve").innerText(), /ship the report\?/);
    await admin.page.screenshot({ path: join(shots, "pipeline.png"), fullPage: true });
    // The viewer sees the waiting approval, without the buttons.
    await visit(viewer, "/pipelines", "pipelines");
    await viewer.page.getByRole("button", { name: "release" }).click();
    await viewer.page.getByRole("button", { name: /^p[0-9a-z]{10,}$/ }).first().click();
    await viewer.page.getByTestId("approval-approve").waitFor();
    assert.equal(await viewer.page.getByTestId("approve").count(), 0);
    await admin.page.getByTestId("approve").click();
    await admin.page.getByTestId("stage-graph").locator(".stage.succeeded").nth(2).waitFor({ timeout: 30_000 });
  });

  it("a viewer sees every page they may, with no action button", async () => {
    const pages: Array<[string, string]> = [["/", "recent-runs"], ["/deployments", "history"], ["/modules", "hooks"], ["/jobs", "jobs"], ["/models", "versions"], ["/endpoints", "endpoints"], ["/applications", "apps"], ["/pipelines", "target-picker"], ["/tokens", "tokens"]];
    const run = (await api("/projects/quickstart/runs?limit=1")).body.runs[0].id as string;
    pages.push([`/runs/${run}`, "timeline"]);
    for (const [path, ready] of pages) {
      await visit(viewer, path, ready, path === "/" ? "viewer-overview" : undefined);
      await viewer.page.waitForLoadState("networkidle").catch(() => undefined);
      const actions = await viewer.page.locator("[data-testid^=run-], [data-testid^=rollback-], [data-testid=alias-form], [data-testid=cancel], [data-testid=approve], [data-testid=reject], [data-testid^=pipeline-run-]").count();
      assert.equal(actions, 0, `${path}: no action buttons for a viewer`);
    }
    const nav = await viewer.page.locator("nav").innerText();
    assert.ok(!nav.includes("Audit log") && !nav.includes("Users"), "no admin pages in the viewer's navigation");
  });

  it("forged and cross-site action requests are refused", async () => {
    // The refusals below show in the console as failed loads: they are expected here, not page errors.
    const seen = viewer.errors.length;
    try {
      // From the dashboard's own page, but without the CSRF header (what a plain form post would send).
      const noHeader = await viewer.page.evaluate(async () => {
        const r = await fetch("/api/v1/projects/quickstart/runs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ job: "slow" }) });
        return { status: r.status, body: await r.json() };
      });
      assert.equal(noHeader.status, 403);
      assert.equal((noHeader.body as { error_code?: string }).error_code, "csrf_refused");
      // With the header, the viewer is refused by permission anyway (the button was hidden, the server checks).
      const viewerRun = await viewer.page.evaluate(async () => {
        const r = await fetch("/api/v1/projects/quickstart/runs", { method: "POST", headers: { "content-type": "application/json", "x-slipway-csrf": "1" }, body: JSON.stringify({ job: "slow" }) });
        return { status: r.status, body: await r.json() };
      });
      assert.equal(viewerRun.status, 403);
      assert.equal((viewerRun.body as { error_code?: string }).error_code, "forbidden");
      // Another origin holding the admin's cookie (as a cross-site request would carry it, were it not SameSite=Strict).
      const cookie = (await admin.context.cookies()).find((c) => c.name === "slipway_session")!.value;
      const forged = await fetch(`${f.server.url}/api/v1/projects/quickstart/runs`, { method: "POST", headers: { cookie: `slipway_session=${cookie}`, origin: "http://evil.example", "x-slipway-csrf": "1", "content-type": "application/json" }, body: JSON.stringify({ job: "slow" }) });
      assert.equal(forged.status, 403);
      assert.equal(((await forged.json()) as any).error_code, "csrf_refused");
      // A real cross-site page (another site, served by the browser itself) posting a form to the server:
      // the SameSite=Strict cookie does not go along, so the server sees no one and does nothing.
      const evil = await admin.context.newPage();
      await evil.route("http://evil.test/**", (r) => r.fulfill({ contentType: "text/html", body: `<!doctype html><form method="post" enctype="text/plain" action="${f.server.url}/api/v1/tokens"><input name='{"description":"x","a":"' value='"}'></form>` }));
      await evil.goto("http://evil.test/");
      const [answer] = await Promise.all([evil.waitForNavigation(), evil.evaluate(() => document.forms[0]!.submit())]);
      assert.equal(answer?.status(), 401, "no cookie went along with the cross-site post");
      await evil.close();
      const tokens = (await api("/tokens")).body.tokens.filter((t: any) => t.user === "admin" && t.description === "x");
      assert.equal(tokens.length, 0, "the cross-site post made no token");
    } finally {
      viewer.errors.splice(seen);
    }
  });

  it("no page logged a console error", () => {
    assert.deepEqual(admin.errors, []);
    assert.deepEqual(viewer.errors, []);
  });
});
