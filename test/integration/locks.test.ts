// Deploy locks: a second concurrent deploy is refused at once (exit 3) naming the holder; a lease
// whose holder died is taken over; an expired lease lapses by itself; --force-unlock exists.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exited, sandbox, waitFor } from "../helpers/cli.js";
import { homeStateExec } from "../helpers/home-backends.js";

const project = {
  "slipway.yaml": "project: locky\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
  "modules/core/module.yaml": "module: core\nhooks:\n  - { name: slow, deploy: deploy.sh }\nsettings:\n  a: b\n",
  // Waits while the file "hold" exists next to the project, so a test controls how long the lock is held.
  "modules/core/deploy.sh": '#!/usr/bin/env bash\ntouch "$SLIPWAY_HOME/../running"\nwhile [ -e "$SLIPWAY_HOME/../hold" ]; do sleep 0.05; done\necho done\n',
};

describe("locks", () => {
  it("refuses a second concurrent deploy at once with exit 3, naming the holder", async () => {
    const box = sandbox(project);
    const hold = join(box.home, "..", "hold");
    try {
      writeFileSync(hold, "");
      const first = box.start(["deploy"]);
      const done = exited(first);
      await waitFor(() => existsSync(join(box.home, "..", "running")), 15_000, "the first deploy's hook");
      const second = box.run(["deploy"]);
      assert.equal(second.code, 3);
      assert.match(second.stderr, new RegExp(`locky/dev is locked by tester@${hostname()} \\(pid ${first.pid}\\), running "deploy" since`));
      assert.match(second.stderr, /--force-unlock/);
      const status = box.json(["status"]).doc;
      assert.equal(status.lock.pid, first.pid);
      (await import("node:fs")).rmSync(hold);
      const result = await done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(box.json(["status"]).doc.lock, null);
      assert.equal(box.run(["deploy"]).code, 0);
    } finally {
      box.cleanup();
    }
  });

  it("takes over the lease of a holder that was killed, and records its deployment as interrupted", async () => {
    const box = sandbox(project);
    try {
      writeFileSync(join(box.home, "..", "hold"), "");
      const first = box.start(["deploy"]);
      const done = exited(first);
      await waitFor(() => existsSync(join(box.home, "..", "running")), 15_000, "the first deploy's hook");
      first.kill("SIGKILL");
      await done;
      (await import("node:fs")).rmSync(join(box.home, "..", "hold"));
      const second = box.run(["deploy"]);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, new RegExp(`took over the lock of tester@${hostname()} \\(pid ${first.pid}\\): its process ${first.pid} is gone`));
      assert.match(second.stderr, /the previous deploy \(\w+\) was interrupted during hook\.core\.slow/);
      const statuses = box.json(["history"]).doc.deployments.map((d: any) => d.status);
      assert.deepEqual(statuses, ["succeeded", "interrupted"]);
    } finally {
      box.cleanup();
    }
  });

  it("a lease held from another host lapses when it expires (clock moved forward), and --force-unlock takes it at once", () => {
    const box = sandbox(project);
    try {
      assert.equal(box.run(["deploy"]).code, 0);
      // In the home's state database (SQLite, or PostgreSQL under the backend matrix).
      const plant = (expiresAt: number) =>
        homeStateExec(box.home, `insert into locks (project, target, token, operation, owner_user, owner_host, owner_pid, acquired_at, heartbeat_at, expires_at) values ('locky','dev','t0','deploy','alice','build-07',4242,'x','x',${Math.trunc(expiresAt)})`);
      plant(Date.now() + 60_000);
      const refused = box.run(["deploy"]);
      assert.equal(refused.code, 3);
      assert.match(refused.stderr, /locked by alice@build-07 \(pid 4242\)/);
      // Two minutes later (injected clock), the lease has expired without anyone touching it.
      const later = box.run(["deploy"], { SLIPWAY_CLOCK_OFFSET_MS: String(120_000) });
      assert.equal(later.code, 0, later.stderr);
      assert.match(later.stderr, /took over the lock of alice@build-07 \(pid 4242\): its lease expired/);

      plant(Date.now() + 60_000);
      assert.equal(box.run(["deploy"]).code, 3);
      const forced = box.run(["deploy", "--force-unlock"]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stderr, /took over the lock of alice@build-07 \(pid 4242\): --force-unlock/);
    } finally {
      box.cleanup();
    }
  });
});
