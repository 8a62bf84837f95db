import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock, systemClock } from "../clock.js";
import { RefusedError } from "../errors.js";
import { openSqliteState } from "../store/state/sqlite/sqlite-state.js";
import type { StateStore, TargetState } from "../store/state/state-store.js";
import { acquireLease } from "./lock.js";

describe("leases", () => {
  let store: StateStore;
  let state: TargetState;
  const clock = new ManualClock();
  const here = { user: "ada", host: "this-host", pid: process.pid };
  const elsewhere = { user: "bob", host: "other-host", pid: 4242 };

  before(async () => {
    store = openSqliteState(":memory:");
    await store.migrate();
    state = store.forTarget("p", "dev");
  });
  after(() => store.close());

  it("admits one holder and refuses the next with the holder's name", async () => {
    const lease = await acquireLease(state, { operation: "deploy", owner: elsewhere, ttlMs: 60_000, clock });
    await assert.rejects(acquireLease(state, { operation: "deploy", owner: here, ttlMs: 60_000, clock }), (e: unknown) => {
      assert.ok(e instanceof RefusedError);
      assert.equal(e.exitCode, 3);
      assert.match(e.message, /locked by bob@other-host \(pid 4242\), running "deploy"/);
      return true;
    });
    await lease.release();
  });

  it("a lease lapses once the clock passes its expiry", async () => {
    const stale = await acquireLease(state, { operation: "deploy", owner: elsewhere, ttlMs: 60_000, clock });
    stale.release = async () => {}; // the holder "dies" without releasing
    clock.advance(60_001);
    let takenFrom = "";
    const lease = await acquireLease(state, { operation: "deploy", owner: here, ttlMs: 60_000, clock, onTakeover: (prev, why) => (takenFrom = `${prev.owner_user}: ${why}`) });
    assert.match(takenFrom, /^bob: its lease expired at /);
    await lease.release();
  });

  it("a holder on this host whose process is gone is taken over at once", async () => {
    await acquireLease(state, { operation: "deploy", owner: { ...here, pid: 2 ** 22 + 12345 }, ttlMs: 60_000, clock });
    let reason = "";
    const lease = await acquireLease(state, { operation: "deploy", owner: here, ttlMs: 60_000, clock, onTakeover: (_p, why) => (reason = why) });
    assert.match(reason, /its process \d+ is gone/);
    await lease.release();
  });

  it("losing the lease to --force-unlock aborts the holder's signal at its next heartbeat", async () => {
    const held = await acquireLease(state, { operation: "deploy", owner: elsewhere, ttlMs: 150, clock: systemClock });
    const forced = await acquireLease(state, { operation: "deploy", owner: here, ttlMs: 60_000, clock, force: true });
    // The heartbeat timer does not keep a process alive on its own (unref); this test waits for it.
    const keepAlive = setTimeout(() => {}, 10_000);
    await new Promise((r) => held.signal.addEventListener("abort", r, { once: true }));
    clearTimeout(keepAlive);
    assert.match(String((held.signal.reason as Error).message), /taken by someone else/);
    await forced.release();
    await held.release();
  });
});
