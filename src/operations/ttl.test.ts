// Target-wide TTL passes of two servers on one state at once (a ManualClock, a real project folder, a
// real webhook receiver): the target is destroyed once, recorded once as `expire`, and each event is
// delivered once per channel. A deploy restarts the clock under the target's lock, so the other
// pass, which looked before the deploy, destroys nothing.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ManualClock } from "../clock.js";
import { silentReporter } from "../engine/reporter.js";
import { readRuntimeEnvWith, type UserName } from "../env.js";
import { openStores } from "../store/open.js";
import { deploy } from "./deploy.js";
import { expireTargets } from "./ttl.js";

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const HOUR = 3_600_000;

describe("target-wide ttl: two servers' passes on one state", () => {
  const root = mkdtempSync(join(tmpdir(), "slipway-ttl-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("destroy once, notify once per channel; a deploy in between cancels the deletion", async () => {
    const deliveries: string[] = [];
    const http = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        deliveries.push(String(req.headers["x-slipway-delivery"]));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    try {
      const home = join(root, "home");
      const dir = join(root, "project");
      mkdirSync(join(dir, "modules", "m"), { recursive: true });
      writeFileSync(join(dir, "slipway.yaml"), `project: two\ninclude: [modules/*/module.yaml]\ntargets:\n  dev:\n    default: true\n    state: { type: sqlite, path: ${join(root, "shared-state.db")} }\n    ttl: { after: 24h, notify_before: 1h }\n    notifications:\n      - webhook: { url: "http://127.0.0.1:${(http.address() as AddressInfo).port}/h" }\n`);
      writeFileSync(join(dir, "modules", "m", "module.yaml"), "module: m\nsettings:\n  colour: blue\n");
      const clock = new ManualClock(T0);
      const env = { ...readRuntimeEnvWith({ SLIPWAY_HOME: home, SLIPWAY_SERVER: "" }), clock, user: "ann" as UserName };
      const ctx = { env, reporter: silentReporter };
      const r = await deploy({ dir, yes: true }, ctx);
      assert.equal(r.status, "succeeded");
      // The state is a file outside SLIPWAY_HOME, so deploy starts no server of its own: these two passes are the servers.
      const choice = { state: { type: "sqlite", path: join(root, "shared-state.db") } };
      const a = await openStores(home, choice);
      const b = await openStores(home, choice);
      try {
        const log = () => {};
        // Within notify_before: both passes look, one sends.
        clock.advance(23.5 * HOUR);
        await Promise.all([expireTargets(a, env, { log }), expireTargets(b, env, { log })]);
        assert.deepEqual(deliveries, ["two/dev/1/deletion_upcoming/0"]);

        // A redeploy between a pass's look and its deletion: the deletion is cancelled under the lock.
        clock.advance(1 * HOUR);
        const stale = (await a.state.ttl().get("two", "dev"))!;
        assert.equal((await deploy({ dir, yes: true }, ctx)).status, "no-changes");
        const fresh = (await a.state.ttl().get("two", "dev"))!;
        assert.equal(fresh.generation, stale.generation + 1);
        assert.equal(fresh.due_ms, clock.now() + 24 * HOUR);

        // Past the new due time: two passes at once, one deletion, one revision, one deletion_done.
        clock.advance(25 * HOUR);
        const [da, db] = await Promise.all([expireTargets(a, env, { log }), expireTargets(b, env, { log })]);
        const destroyed = [...da, ...db].filter((l) => l.includes(": destroyed ("));
        assert.equal(destroyed.length, 1, [...da, ...db].join("\n"));
        const history = await a.state.forTarget("two", "dev").listDeployments(10);
        assert.deepEqual(history.map((d) => d.operation), ["expire", "deploy"], "one deletion (the no-change deploy records no deployment)");
        assert.deepEqual(await a.state.forTarget("two", "dev").listResources(), []);
        assert.equal((await a.state.ttl().get("two", "dev"))!.status, "expired");
        assert.deepEqual(deliveries, ["two/dev/1/deletion_upcoming/0", "two/dev/2/deletion_done/0"]);
        // Later passes have nothing left to do.
        clock.advance(HOUR);
        assert.deepEqual(await expireTargets(a, env, { log }), []);
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await new Promise<void>((r) => http.close(() => r()));
    }
  });
});
