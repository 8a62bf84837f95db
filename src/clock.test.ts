import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock, offsetClock, systemClock } from "./clock.js";

describe("clocks", () => {
  it("a manual clock's sleeps wake when it is moved past their deadline, in order, and not before", async () => {
    const clock = new ManualClock(1000);
    const woke: string[] = [];
    const a = clock.sleep(100).then(() => woke.push("a"));
    const b = clock.sleep(50).then(() => woke.push("b"));
    assert.equal(clock.sleeping, 2);
    clock.advance(49);
    await Promise.resolve();
    assert.deepEqual(woke, []);
    clock.advance(1);
    await b;
    assert.deepEqual(woke, ["b"]);
    clock.advance(50);
    await a;
    assert.deepEqual(woke, ["b", "a"]);
    assert.equal(clock.sleeping, 0);
    assert.equal(clock.now(), 1100);
  });

  it("an abort wakes a sleep at once; an aborted signal or no time does not sleep at all", async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const sleeping = clock.sleep(60_000, stop.signal);
    stop.abort();
    await sleeping;
    assert.equal(clock.sleeping, 0);
    await clock.sleep(10, stop.signal);
    await clock.sleep(0);
    await systemClock.sleep(60_000, stop.signal);
  });

  it("an offset clock is the base clock shifted, and sleeps on it", async () => {
    const base = new ManualClock(5000);
    const shifted = offsetClock(1000, base);
    assert.equal(shifted.now(), 6000);
    const sleeping = shifted.sleep(10);
    assert.equal(base.sleeping, 1);
    base.advance(10);
    await sleeping;
  });
});
