// The quickstart's console app driven in a real Chromium (playwright-core, /usr/bin/chromium): signed
// in by the dashboard's session cookie, it shows the signed-in user and the project's endpoints, and
// queries iris-dev with the app's own token (CAN_QUERY granted to app-console in the serving module).
// Without a session the browser is sent to the sign-in page; a user without CAN_USE is refused.
import assert from "node:assert/strict";
import { cpSync, existsSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { REPO, sandbox, type Sandbox } from "../helpers/cli.js";

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

  it("shows the signed-in user and the endpoints, and queries iris-dev with the app's token", async () => {
    const context = await browser.newContext();
    await context.addCookies([{ name: "slipway_session", value: token, url: origin }]);
    const page = await context.newPage();
    const answer = await page.goto(`${origin}/apps/console/`);
    assert.equal(answer?.status(), 200);
    assert.equal(await page.textContent("#user"), "Signed in as tester");
    assert.match((await page.textContent("#endpoints")) ?? "", /iris-dev/);
    await page.click("#query-iris-dev");
    await page.waitForSelector("#status");
    assert.equal(page.url(), `${origin}/apps/console/query?endpoint=iris-dev`);
    assert.equal(await page.textContent("#status"), "HTTP 200");
    const predictions = JSON.parse((await page.textContent("#answer")) ?? "{}");
    assert.ok(Array.isArray(predictions.predictions?.probabilities ?? predictions.predictions), JSON.stringify(predictions));
    await context.close();
  });

  it("sends a browser without a session to the sign-in page, and refuses a user without CAN_USE", async () => {
    const anonymous = await browser.newContext();
    const page = await anonymous.newPage();
    await page.goto(`${origin}/apps/console/`);
    const url = new URL(page.url());
    assert.equal(url.pathname, "/signin");
    assert.equal(url.searchParams.get("next"), "/apps/console/");
    await anonymous.close();

    const outsider = box.json(["tokens", "create", "--user", "mallory"]).doc.token;
    const other = await browser.newContext();
    await other.addCookies([{ name: "slipway_session", value: outsider, url: origin }]);
    const refused = await (await other.newPage()).goto(`${origin}/apps/console/`);
    assert.equal(refused?.status(), 403);
    await other.close();
  });
});
