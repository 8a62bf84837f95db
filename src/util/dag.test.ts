// The one DAG scheduler (apply, a run's task graph, the bundle pools): order, the concurrency bound,
// stopping after a failure or an abort, and prerequisites outside the node set. Nodes finish when the
// test says so (gates), so nothing here depends on timing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runDag, type DagOptions } from "./dag.js";

/** Lets callbacks queued by finished nodes run. */
const settle = () => new Promise((r) => setImmediate(r));

/** A graph whose nodes run until the test opens their gate. */
function gated(nodes: string[], deps: Record<string, string[]> = {}, options: Partial<DagOptions<string>> = {}) {
  const gates = new Map<string, (ok: boolean | Error) => void>();
  const started: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const done = runDag<string>({
    nodes,
    key: (n) => n,
    prerequisites: (n) => deps[n] ?? [],
    limit: 2,
    run: (n) => {
      started.push(n);
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<boolean>((resolve, reject) =>
        gates.set(n, (ok) => {
          running--;
          gates.delete(n);
          if (ok instanceof Error) reject(ok);
          else resolve(ok);
        }),
      );
    },
    ...options,
  });
  return {
    done,
    started,
    get running() {
      return [...gates.keys()];
    },
    get maxRunning() {
      return maxRunning;
    },
    async finish(n: string, ok: boolean | Error = true) {
      const gate = gates.get(n);
      assert.ok(gate, `${n} is not running (running: ${[...gates.keys()].join(", ") || "none"})`);
      gate(ok);
      await settle();
    },
  };
}

describe("runDag", () => {
  it("starts a node once all its prerequisites succeeded, independent nodes in the given order", async () => {
    const g = gated(["fetch", "clean", "train", "report"], { clean: ["fetch"], train: ["clean", "fetch"], report: ["train"] }, { limit: 4 });
    await settle();
    assert.deepEqual(g.running, ["fetch"]);
    await g.finish("fetch");
    assert.deepEqual(g.running, ["clean"]);
    await g.finish("clean");
    await g.finish("train");
    await g.finish("report");
    const r = await g.done;
    assert.deepEqual(g.started, ["fetch", "clean", "train", "report"]);
    assert.deepEqual(r.succeeded, ["fetch", "clean", "train", "report"]);
    assert.deepEqual([r.failed, r.notStarted], [[], []]);
  });

  it("never runs more than `limit` nodes at once, and keeps the bound full while work remains", async () => {
    const nodes = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const g = gated(nodes, {}, { limit: 3 });
    await settle();
    for (let i = 0; i < nodes.length; i++) {
      assert.equal(g.running.length, Math.min(3, nodes.length - i), `with ${i} finished`);
      await g.finish(g.running[0]!);
    }
    const r = await g.done;
    assert.equal(g.maxRunning, 3);
    assert.equal(r.succeeded.length, 10);
  });

  it("free nodes take no slot: they start as soon as they are ready, beside a full bound", async () => {
    const g = gated(["a", "b", "c", "f1", "f2"], { f2: ["a"] }, { limit: 1, free: (n) => n.startsWith("f") });
    await settle();
    assert.deepEqual(g.running.sort(), ["a", "f1"], "one bounded node, and the free one that is ready");
    await g.finish("a");
    assert.deepEqual(g.running.sort(), ["b", "f1", "f2"], "f2 starts with its prerequisite done, although b holds the slot");
    for (const n of ["f1", "f2", "b", "c"]) await g.finish(n);
    assert.equal((await g.done).succeeded.length, 5);
  });

  it("a limit below 1 still runs one at a time", async () => {
    const g = gated(["a", "b"], {}, { limit: 0 });
    await settle();
    assert.deepEqual(g.running, ["a"]);
    await g.finish("a");
    await g.finish("b");
    assert.equal((await g.done).succeeded.length, 2);
  });

  it("after a failure starts nothing new, lets what runs finish, and reports what never started", async () => {
    const g = gated(["a", "b", "c", "d", "after-a"], { "after-a": ["a"] });
    await settle();
    assert.deepEqual(g.running, ["a", "b"]);
    await g.finish("a", false);
    assert.deepEqual(g.running, ["b"], "nothing new started");
    await g.finish("b");
    const r = await g.done;
    assert.deepEqual(r.succeeded, ["b"]);
    assert.deepEqual(r.failed, [{ node: "a", error: undefined }]);
    assert.deepEqual(r.notStarted, ["c", "d", "after-a"]);
  });

  it("a node that throws is a failure carrying its error", async () => {
    const g = gated(["a", "b"], { b: ["a"] });
    await settle();
    const boom = new Error("boom");
    await g.finish("a", boom);
    const r = await g.done;
    assert.deepEqual(r.failed, [{ node: "a", error: boom }]);
    assert.deepEqual(r.notStarted, ["b"]);
  });

  it("an abort starts nothing new; running nodes finish and count", async () => {
    const stop = new AbortController();
    const g = gated(["a", "b", "c"], {}, { signal: stop.signal });
    await settle();
    stop.abort("stopped");
    await g.finish("a");
    await g.finish("b");
    const r = await g.done;
    assert.deepEqual(r.succeeded, ["a", "b"]);
    assert.deepEqual(r.notStarted, ["c"]);
  });

  it("an already aborted signal starts nothing", async () => {
    const stop = new AbortController();
    stop.abort();
    const r = await runDag({ nodes: ["a"], key: (n) => n, limit: 2, signal: stop.signal, run: async () => assert.fail("must not run") });
    assert.deepEqual(r.notStarted, ["a"]);
  });

  it("ignores prerequisites outside the node set (already done, or not part of this run)", async () => {
    const g = gated(["b", "c"], { b: ["elsewhere"], c: ["b", "also-elsewhere"] });
    await settle();
    assert.deepEqual(g.running, ["b"]);
    await g.finish("b");
    await g.finish("c");
    assert.deepEqual((await g.done).succeeded, ["b", "c"]);
  });

  it("no nodes, nothing to do", async () => {
    assert.deepEqual(await runDag({ nodes: [], key: String, limit: 1, run: async () => true }), { succeeded: [], failed: [], notStarted: [] });
  });
});
