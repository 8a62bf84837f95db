// applyPlan with a fake kind registry (providers that record calls and finish when told), on real
// SQLite state: order (deletes first, dependents before what they depend on), the journal and the
// records, stopping after a failure, the outer abort, and where action output goes.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { ManualClock } from "../clock.js";
import { SlipwayError } from "../errors.js";
import type { DesiredResource, RecordedResource } from "../resources.js";
import { MemoryBlobStore } from "../store/blobs/memory-blob-store.js";
import { openSqliteState } from "../store/state/sqlite/sqlite-state.js";
import type { StateStore, TargetState } from "../store/state/state-store.js";
import { hashValue } from "../util/hash.js";
import { applyPlan, type ApplyContext } from "./apply.js";
import { Failpoints } from "./failpoint.js";
import { planChanges } from "./plan.js";
import type { KindLookup, Provider } from "./provider.js";
import type { Reporter } from "./reporter.js";

function desired(address: string, dependsOn: string[] = [], spec: Record<string, unknown> = { v: 1 }): DesiredResource {
  const [kind, ...rest] = address.split(".");
  return { address, kind: kind as DesiredResource["kind"], name: rest.join("."), module: "m", phase: 0, spec, specHash: hashValue(spec), dependsOn };
}
const recorded = (d: DesiredResource): RecordedResource => ({ ...d, outputs: { old: true }, createdAt: "2025-01-01T00:00:00.000Z", updatedAt: "2025-01-01T00:00:00.000Z" });

/** A fake kind registry: every kind's provider logs its calls; `fail` names addresses that fail. */
class FakeKinds implements KindLookup {
  readonly calls: string[] = [];
  readonly fail = new Set<string>();
  readonly changes = new Map<string, "update" | "replace">();
  /** Addresses whose action waits until released. */
  readonly held = new Map<string, () => void>();
  readonly hold = new Set<string>();
  private readonly fake: Provider = {
    create: async (ctx, d) => this.act(`create ${d.address}`, d.address, () => (ctx.log.output("stdout", `made ${d.address}`), { made: d.address })),
    update: async (_ctx, _r, d) => this.act(`update ${d.address}`, d.address, () => ({ updated: d.address })),
    delete: async (ctx, r) => {
      await this.act(`delete ${r.address}`, r.address, () => ({}));
      await ctx.log.childStarted(4242);
      await ctx.log.childStarted(null);
    },
  };
  provider = () => this.fake;
  changeKind = () => (r: RecordedResource) => this.changes.get(r.address) ?? "update";

  private async act<T>(call: string, address: string, body: () => T): Promise<T> {
    this.calls.push(call);
    if (this.hold.has(address)) await new Promise<void>((resolve) => this.held.set(address, resolve));
    if (this.fail.has(address)) throw new Error(`${address} broke`);
    return body();
  }
}

describe("applyPlan", () => {
  let store: StateStore;
  let state: TargetState;
  let kinds: FakeKinds;
  let logDir: string;
  let lines: string[];
  const clock = new ManualClock();
  let n = 0;

  const context = (extra: Partial<ApplyContext<unknown>> = {}): ApplyContext<unknown> => {
    const reporter: Reporter = { info() {}, warn() {}, output: (address, _s, line) => lines.push(`${address}: ${line}`) };
    return { state, blobs: new MemoryBlobStore(), clock, deploymentId: `d${++n}`, parallelism: 4, reporter, failpoints: new Failpoints(), logDir, kinds, services: {}, ...extra };
  };
  const journal = async (id: string) => (await state.journal(id)).map((j) => [j.address, j.action, j.status, j.child_pid, j.error]);

  before(async () => {
    store = openSqliteState(":memory:");
    await store.migrate();
  });
  after(() => store.close());
  beforeEach(async () => {
    state = store.forTarget(`p${n}`, "dev");
    kinds = new FakeKinds();
    logDir = mkdtempSync(join(tmpdir(), "slipway-apply-"));
    lines = [];
  });
  afterEach(() => rmSync(logDir, { recursive: true, force: true }));

  it("creates in dependency order, records each resource with its outputs and closes its journal entry", async () => {
    const m = desired("module.m");
    const s = desired("setting.m.a", ["hook.m.h"]);
    const hook = desired("hook.m.h", ["module.x"]);
    const ctx = context();
    const result = await applyPlan(planChanges([s, hook, m], [], kinds.changeKind), ctx);
    assert.equal(result.ok, true);
    assert.deepEqual(kinds.calls.indexOf("create hook.m.h") < kinds.calls.indexOf("create setting.m.a"), true);
    const records = await state.listResources();
    assert.deepEqual(records.map((r) => [r.address, r.outputs]), [["hook.m.h", { made: "hook.m.h" }], ["module.m", { made: "module.m" }], ["setting.m.a", { made: "setting.m.a" }]]);
    assert.deepEqual((await journal(ctx.deploymentId)).map((j) => j[2]), ["done", "done", "done"]);
    assert.ok(lines.includes("setting.m.a: made setting.m.a"));
    assert.match(readFileSync(join(logDir, "output.log"), "utf8"), /^\[module\.m\] made module\.m$/m);
  });

  it("deletes first, dependents before what they depend on, and journals the process groups a provider reports", async () => {
    const m = desired("module.m");
    const s = desired("setting.m.a", ["module.m"]);
    await state.commitPut(recorded(m));
    await state.commitPut(recorded(s));
    const fresh = desired("model.new");
    const ctx = context();
    const result = await applyPlan(planChanges([fresh], [recorded(m), recorded(s)], kinds.changeKind), ctx);
    assert.equal(result.ok, true);
    assert.deepEqual(kinds.calls, ["delete setting.m.a", "delete module.m", "create model.new"]);
    assert.deepEqual((await state.listResources()).map((r) => r.address), ["model.new"]);
    assert.deepEqual((await journal(ctx.deploymentId)).map((j) => [j[0], j[2], j[3]]), [["setting.m.a", "done", null], ["module.m", "done", null], ["model.new", "done", null]]);
  });

  it("an update keeps the record's creation time; a replace deletes with the recorded resource, then creates", async () => {
    const before = desired("model.a", [], { v: 1 });
    const after = desired("model.a", [], { v: 2 });
    await state.commitPut(recorded(before));
    clock.advance(1000);
    await applyPlan(planChanges([after], [recorded(before)], kinds.changeKind), context());
    const [r] = await state.listResources();
    assert.equal(r!.createdAt, "2025-01-01T00:00:00.000Z");
    assert.equal(r!.updatedAt, new Date(clock.now()).toISOString());
    assert.deepEqual(r!.outputs, { updated: "model.a" });

    kinds.changes.set("model.a", "replace");
    const third = desired("model.a", [], { v: 3 });
    await applyPlan(planChanges([third], [r!], kinds.changeKind), context());
    assert.deepEqual(kinds.calls.slice(-2), ["delete model.a", "create model.a"]);
    assert.deepEqual((await state.listResources())[0]!.spec, { v: 3 });
  });

  it("stops starting work after a failure: what finished stays recorded, dependents are skipped, the failure is journaled", async () => {
    const a = desired("model.a");
    const b = desired("model.b");
    const afterA = desired("job.after-a", ["model.a"]);
    const later = desired("job.later", ["model.b"]);
    kinds.fail.add("model.a");
    kinds.hold.add("model.b");
    const ctx = context({ parallelism: 2 });
    const applying = applyPlan(planChanges([a, b, afterA, later], [], kinds.changeKind), ctx);
    // b is held until a has failed: it was running, so it finishes and is recorded.
    while (!kinds.held.has("model.b")) await new Promise((r) => setImmediate(r));
    while (!(await state.journal(ctx.deploymentId)).some((j) => j.status === "failed")) await new Promise((r) => setImmediate(r));
    kinds.held.get("model.b")!();
    const result = await applying;
    assert.equal(result.ok, false);
    assert.deepEqual(result.failed.map((f) => [f.action.address, f.error.message]), [["model.a", "model.a broke"]]);
    assert.deepEqual(result.done.map((d) => d.address), ["model.b"]);
    assert.deepEqual(result.skipped.map((d) => d.address).sort(), ["job.after-a", "job.later"]);
    assert.deepEqual((await state.listResources()).map((r) => r.address), ["model.b"]);
    assert.deepEqual((await journal(ctx.deploymentId)).map((j) => [j[0], j[2], j[4]]), [["model.a", "failed", "model.a broke"], ["model.b", "done", null]]);
  });

  it("a failed delete skips everything after it", async () => {
    const m = desired("module.m");
    await state.commitPut(recorded(m));
    kinds.fail.add("module.m");
    const result = await applyPlan(planChanges([desired("model.x")], [recorded(m)], kinds.changeKind), context());
    assert.equal(result.ok, false);
    assert.deepEqual(result.skipped.map((s) => s.address), ["model.x"]);
    assert.deepEqual(kinds.calls, ["delete module.m"]);
  });

  it("an outer abort (the lease was lost) starts nothing new and fails the apply when nothing else did", async () => {
    const lost = new AbortController();
    kinds.hold.add("model.a");
    const applying = applyPlan(planChanges([desired("model.a"), desired("job.b", ["model.a"])], [], kinds.changeKind), context({ signal: lost.signal }));
    while (!kinds.held.has("model.a")) await new Promise((r) => setImmediate(r));
    lost.abort("the deploy lock was taken by someone else");
    kinds.held.get("model.a")!();
    await assert.rejects(applying, (e: unknown) => e instanceof SlipwayError && e.code === "apply_aborted" && /lock was taken/.test(e.message));
    assert.deepEqual(kinds.calls, ["create model.a"]);
  });

  it("writes no output file when no action printed anything", async () => {
    const quiet = new FakeKinds();
    quiet.provider = () => ({ create: async () => ({}), update: async () => ({}), delete: async () => {} });
    await applyPlan(planChanges([desired("model.q")], [], quiet.changeKind), context({ kinds: quiet }));
    assert.equal(existsSync(join(logDir, "output.log")), false);
  });

  describe("state-only actions", () => {
    /** Settings-like kind: writes a settings row through ctx.state; remembers which state object it was given. */
    const stateOnlyKinds = (fail = new Set<string>()) => {
      const seen: TargetState[] = [];
      const k = new FakeKinds();
      k.provider = () => ({
        stateOnly: true,
        create: async (ctx, d) => {
          seen.push(ctx.state);
          if (fail.has(d.address)) throw new Error(`${d.address} broke`);
          await ctx.state.putSetting("m", d.name, "v", "2025-01-01T00:00:00.000Z");
          return { wrote: d.name };
        },
        update: async () => ({}),
        delete: async () => {},
      });
      return { kinds: k, seen };
    };
    const settings = (count: number) => Array.from({ length: count }, (_, i) => desired(`setting.s${String(i).padStart(2, "0")}`));

    it("those ready together are applied with their records in one transaction, without journal entries", async () => {
      const { kinds: k, seen } = stateOnlyKinds();
      const ctx = context({ kinds: k, parallelism: 4 });
      const result = await applyPlan(planChanges(settings(40), [], k.changeKind), ctx);
      assert.equal(result.ok, true);
      assert.equal(result.done.length, 40);
      assert.equal(new Set(seen).size, 1, "one transaction's state for all 40 (more than the parallelism of 4)");
      assert.notEqual(seen[0], state, "not the target's own state: the transaction's");
      assert.equal((await state.listResources()).length, 40);
      assert.equal((await state.listSettings()).length, 40);
      assert.deepEqual(await journal(ctx.deploymentId), []);
    });

    it("a failure in a batch applies the others one by one: the failure is its own, journaled; nothing is half-written", async () => {
      const { kinds: k } = stateOnlyKinds(new Set(["setting.s03"]));
      const ctx = context({ kinds: k, parallelism: 4 });
      const after = desired("setting.t-after", ["setting.s03"]);
      const result = await applyPlan(planChanges([...settings(6), after], [], k.changeKind), ctx);
      assert.equal(result.ok, false);
      assert.deepEqual(result.failed.map((f) => f.action.address), ["setting.s03"]);
      assert.deepEqual(result.skipped.map((a) => a.address), ["setting.s04", "setting.s05", "setting.t-after"], "after the failure nothing new starts");
      assert.deepEqual((await state.listResources()).map((r) => r.address), ["setting.s00", "setting.s01", "setting.s02"]);
      assert.deepEqual((await state.listSettings()).map((r) => r.key), ["s00", "s01", "s02"], "the failed batch's own writes were rolled back, then redone one by one");
      assert.deepEqual((await journal(ctx.deploymentId)).map((j) => [j[0], j[2]]), [["setting.s00", "done"], ["setting.s01", "done"], ["setting.s02", "done"], ["setting.s03", "failed"]]);
    });

    it("with a parallelism of 1 they are applied one at a time, journaled, in plan order", async () => {
      const { kinds: k, seen } = stateOnlyKinds();
      const ctx = context({ kinds: k, parallelism: 1 });
      await applyPlan(planChanges(settings(3), [], k.changeKind), ctx);
      assert.ok(seen.every((st) => st === state));
      assert.deepEqual((await journal(ctx.deploymentId)).map((j) => [j[0], j[2]]), [["setting.s00", "done"], ["setting.s01", "done"], ["setting.s02", "done"]]);
    });
  });
});
