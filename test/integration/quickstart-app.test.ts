// The quickstart's console app driven in a real Chromium (playwright-core, /usr/bin/chromium): the app's
// route sends the browser to the dashboard's sign-in page, which sets the session cookie and comes
// back; the app shows the signed-in user and the project's endpoints, and queries iris-dev with its
// own token (CAN_QUERY granted to app-console in the serving module). A user without CAN_USE is refused.
import assert from "node:assert/strict";
import { cpSync, existsSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { REPO, sandbox, type Sandbox } from "../helpers/cli.js";

/** The page's own document, in page.evaluate callbacks (they run in the browser; this program has no DOM types). */
declare const document: any;

const CHROMIUM = "/usr/bin/chromium";

describe("quickstart console app in Chromium", { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}` }, () => {
  let box: Sandbox;
  let browser: Browser;
  let origin = "";
  let token = "";

  before(async () => {
    box = sandbox({});
    cpSync(join(REPO, "examples", "quickstart"), box.dir, { recursive: true });
    symlinkSync(join(REPO, "node_modules"), join(box.dir, "node_modules"));
    for (const args of [["deploy", "--phase", "1"], ["run", "train_iris", "--wait"], ["deploy"]]) {
      const r = box.run(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    const app = box.json(["apps", "list"]).doc.apps.find((a: any) => a.name === "console");
    assert.equal(app.state, "running");
    origin = new URL(app.url).origin;
    token = box.json(["tokens", "create", "--user", "tester"]).doc.token;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });
  after(async () => {
    await browser?.close();
    box.run(["destroy", "--yes"]);
    box.run(["server", "stop"]);
    box.cleanup();
  });

  it("signs in through the dashboard's sign-in page, then shows the user and the endpoints, and queries iris-dev with the app's token", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // No session yet: the app's route sends the browser to the sign-in page, which comes back after.
    await page.goto(`${origin}/apps/console/`);
    const signin = new URL(page.url());
    assert.equal(signin.pathname, "/signin");
    assert.equal(signin.searchParams.get("next"), "/apps/console/");
    await page.fill("[data-testid=token]", token);
    await page.click("[data-testid=sign-in]");
    await page.waitForURL(`${origin}/apps/console/`);
    assert.equal(await page.textContent("#user"), "Signed in as tester");
    assert.match((await page.textContent("#endpoints")) ?? "", /iris-dev/);
    // The session is an HttpOnly cookie the app never sees; the page cannot read it either.
    assert.equal(await page.evaluate(() => document.cookie.includes("slipway_session")), false);
    await page.click("#query-iris-dev");
    await page.waitForSelector("#status");
    assert.equal(page.url(), `${origin}/apps/console/query?endpoint=iris-dev`);
    assert.equal(await page.textContent("#status"), "HTTP 200");
    const predictions = JSON.parse((await page.textContent("#answer")) ?? "{}");
    assert.ok(Array.isArray(predictions.predictions?.probabilities ?? predictions.predictions), JSON.stringify(predictions));
    await context.close();
  });

  it("refuses a signed-in user without CAN_USE", async () => {
    const outsider = box.json(["tokens", "create", "--user", "mallory"]).doc.token;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/signin?next=${encodeURIComponent("/apps/console/")}`);
    await page.fill("[data-testid=token]", outsider);
    const refused = page.waitForResponse((r) => r.url() === `${origin}/apps/console/`);
    await page.click("[data-testid=sign-in]");
    assert.equal((await refused).status(), 403);
    await context.close();
  });
});
