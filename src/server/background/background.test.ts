// The other loops on real state stores with a ManualClock: a periodic unit runs once per due time
// across servers and is taken over when its server died; the background work marks lost runs, and runs
// a target's artifact retention (`artifacts gc --yes`, keep_last) on its cadence, each recorded for
// `server status`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { iso, ManualClock } from "../../clock.js";
import { readRuntimeEnvWith } from "../../env.js";
import { artifactStoreFor } from "../../operations/artifacts.js";
import { compile } from "../../operations/context.js";
import { openStores } from "../../store/open.js";
import type { RunRow } from "../../store/state/run-store.js";
import { stateBackends } from "../../../test/helpers/state-backends.js";
import { waitFor } from "../../../test/helpers/wait.js";
import { startBackground } from "./index.js";
import { runIfDue, type PeriodicUnit } from "./periodic.js";

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const HOUR = 3_600_000;

for (const backend of stateBackends()) {
  describe(`periodic background units (${backend.name})`, { skip: backend.skip }, () => {
    after(() => backend.cleanup());

    it("run once per due time across two servers, record last and next run, and are taken over when their server died", async () => {
      const { state, open } = await backend.create();
      const other = await open();
      const clock = new ManualClock(T0);
      let runs = 0;
      const unit: PeriodicUnit = { unit: "demo", everyMs: HOUR, run: async () => `run ${++runs}` };
      const a = { state, clock, owner: "a:1", log: () => {} };
      const b = { state: other, clock, owner: "b:2", log: () => {} };
      const [ra, rb] = await Promise.all([runIfDue(unit, a), runIfDue(unit, b)]);
      assert.equal(runs, 1, "one of the two ran it");
      assert.equal([ra, rb].filter((r) => r.ran).length, 1);
      const status = await state.background().status("demo");
      assert.deepEqual({ ...status, owner: undefined }, { unit: "demo", owner: undefined, last_started_at: iso(T0), last_finished_at: iso(T0), last_outcome: "ok", last_message: "run 1", next_at: iso(T0 + HOUR) });
      clock.advance(HOUR - 1);
      assert.equal((await runIfDue(unit, a)).ran, false, "not due yet");
      clock.advance(1);
      await Promise.all([runIfDue(unit, a), runIfDue(unit, b), runIfDue(unit, a)]);
      assert.equal(runs, 2);

      // A server takes the next due time's lease and dies without finishing.
      clock.advance(HOUR);
      assert.equal(await state.background().tryLease(`demo@${iso(T0 + 2 * HOUR)}`, "dead:9", iso(clock.now()), clock.now(), clock.now() + 60_000), true);
      assert.equal((await runIfDue(unit, b)).ran, false, "its lease is still live");
      clock.advance(60_000);
      const taken = await runIfDue(unit, b);
      assert.equal(taken.ran, true, "taken over once the lease expired");
      assert.equal(runs, 3);
      assert.equal((await state.background().status("demo"))!.owner, "b:2");

      const failing: PeriodicUnit = { unit: "broken", everyMs: HOUR, run: async () => Promise.reject(new Error("no disk")) };
      const r = await runIfDue(failing, a);
      assert.deepEqual(r.ran && [r.outcome, r.message], ["failed", "no disk"]);
      assert.equal((await state.background().status("broken"))!.last_outcome, "failed");
      await other.close();
      await state.close();
    });
  });
}

describe("background work (SQLite under SLIPWAY_HOME, ManualClock)", () => {
  const root = mkdtempSync(join(tmpdir(), "slipway-bg-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("marks a run whose runner is gone as lost, and runs artifact retention on its cadence", async () => {
    const home = join(root, "home");
    const dir = join(root, "project");
    mkdirSync(join(dir, "modules", "m", "assets"), { recursive: true });
    writeFileSync(join(dir, "slipway.yaml"), "project: keep\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true, retention: { artifacts: { every: 24h } } }\n");
    writeFileSync(join(dir, "modules", "m", "module.yaml"), "module: m\nresources:\n  artifacts:\n    assets: { type: archive, path: assets, retention: { keep_last: 2 } }\n");
    const clock = new ManualClock(T0);
    const env = { ...readRuntimeEnvWith({ SLIPWAY_HOME: home }), clock };
    const stores = await openStores(home);
    const compiled = compile({ dir }, env);
    const store = artifactStoreFor(compiled, home);
    const publish = async (version: string) => {
      const data = Buffer.from(`assets ${version}`);
      await store.publish({ artifact: "assets", version, type: "archive", package: "assets", filename: `assets-${version}.tar.gz`, sha256: createHash("sha256").update(data).digest("hex"), size: data.length, created_at: iso(clock.now()), published_by: "t" }, data);
      clock.advance(1000);
    };
    for (const v of ["1", "2", "3", "4"]) await publish(v);
    // What deploy records for the server: the project's folder and its retention.
    await stores.state.background().putTarget({ project: "keep", target: "dev", dir, retention: JSON.stringify({ artifacts: { every: "24h" } }), updated_at: iso(clock.now()) });
    // A run whose runner process is gone.
    const dead = spawnSync("true").pid!;
    await stores.state.runs().create(runRow("r-lost", { pid: dead, host: hostname(), executor: "local" }, clock.now()));

    const log: string[] = [];
    const work = startBackground(env, stores, { log: (l) => log.push(l), startRun: async () => {} });
    try {
      await waitFor(async () => (await stores.state.background().status("retention/keep/dev"))?.last_outcome === "ok", 20_000, "the first retention run");
      assert.deepEqual((await store.list("assets")).map((v) => v.version).sort(), ["3", "4"], "keep_last 2");
      await waitFor(async () => (await stores.state.runs().get("r-lost"))?.status === "lost", 20_000, "the lost run to be marked");
      await waitFor(async () => (await stores.state.background().status("lost-runs"))?.last_outcome === "ok", 20_000, "lost-runs status");
      assert.match((await stores.state.background().status("lost-runs"))!.last_message!, /marked 1 run\(s\) lost: r-lost/);
      assert.equal(await work.hasDeployedWork(), true, "a target with retention keeps the server up");
      const first = (await stores.state.background().status("retention/keep/dev"))!;
      assert.equal(first.next_at, iso(clock.now() + 24 * HOUR));
      assert.match(first.last_message!, /artifacts gc: 2 artifact version\(s\) deleted/);

      await publish("5");
      clock.advance(23 * HOUR);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await store.list("assets")).length, 3, "not before its cadence");
      clock.advance(HOUR);
      await waitFor(async () => (await store.list("assets")).length === 2, 20_000, "the second retention run");
      assert.deepEqual((await store.list("assets")).map((v) => v.version).sort(), ["4", "5"]);
      assert.ok(log.some((l) => l.startsWith("retention/keep/dev: artifacts gc")));
      const units = (await work.status()).map((s) => s.unit);
      assert.deepEqual(units, ["lost-runs", "retention/keep/dev", "ttl"]);
    } finally {
      await work.stop();
      await stores.close();
    }
  });
});

function runRow(id: string, handle: Record<string, unknown>, at: number): RunRow {
  return {
    id, project: "keep", target: "dev", job: "j", status: "running", params: "{}", bundle: "b", config_hash: "c", executor: "local", handle: JSON.stringify(handle), user: "u", host: hostname(),
    created_at: iso(at), started_at: iso(at), finished_at: null, heartbeat_at: null, error: null, results: null, metrics: null, provenance: null, options: "{}", trigger: "manual", trigger_ref: null,
  };
}
