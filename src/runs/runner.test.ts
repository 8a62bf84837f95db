// The runner in-process (the path of `run --wait`) on real SQLite and real task processes, with a
// clock the test moves: retry backoff and task timeouts are measured on it, so nothing waits for real
// seconds. And the runner's task graph through the DAG scheduler: dependency order, the
// max_parallel_tasks bound, and no new task after a failure. Tasks wait on gate files the test creates.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../clock.js";
import { silentReporter } from "../engine/reporter.js";
import { runAttached, type RunDetails } from "../operations/runs.js";
import { runtimeEnv, tempDir, writeFiles } from "../../test/helpers/kinds.js";
import { waitFor } from "../../test/helpers/wait.js";

describe("runner", () => {
  let root: { dir: string; cleanup(): void };
  let projectDir: string;
  let gates: string;
  let clock: ManualClock;

  before(() => {
    root = tempDir("slipway-runner-");
    projectDir = join(root.dir, "project");
    gates = join(root.dir, "gates");
    const waitGate = (name: string) => `echo "start ${name}" >> "$GATES/order"; while [ ! -e "$GATES/${name}" ]; do sleep 0.02; done; echo "end ${name}" >> "$GATES/order"`;
    writeFiles(projectDir, {
      "slipway.yaml": "project: runs\ninclude: [modules/*/module.yaml]\ntargets:\n  dev:\n    default: true\n    executor: { type: local, max_parallel_tasks: 2 }\n",
      "modules/ml/module.yaml": `module: ml
resources:
  jobs:
    flaky:
      source: src
      command: 'if [ "$SLIPWAY_ATTEMPT" -lt 2 ]; then echo "attempt $SLIPWAY_ATTEMPT fails"; exit 3; fi; echo "ok on attempt $SLIPWAY_ATTEMPT"'
      retries: 2
    slow:
      source: src
      command: 'touch "$GATES/slow-started"; sleep 300'
      compute: { timeout: 5s }
    graph:
      source: src
      tasks:
        a: { command: '${waitGate("a")}' }
        b: { command: '${waitGate("b")}' }
        c: { command: '${waitGate("c")}' }
        after-a: { command: '${waitGate("after-a")}', depends_on: [a] }
    stops:
      source: src
      tasks:
        bad: { command: 'echo "start bad" >> "$GATES/order"; exit 1' }
        long: { command: '${waitGate("long")}' }
        later: { command: '${waitGate("later")}' }
        after-bad: { command: 'echo never', depends_on: [bad] }
`,
      "modules/ml/module.env": `GATES=${gates}\n`,
      "modules/ml/src/README": "tasks run here\n",
    });
    writeFiles(gates, { ".keep": "" });
  });
  after(() => root.cleanup());

  const order = () => (existsSync(join(gates, "order")) ? readFileSync(join(gates, "order"), "utf8").trim().split("\n") : []);
  const open = (name: string) => writeFileSync(join(gates, name), "");
  const run = (job: string) => {
    clock = new ManualClock();
    const lines: string[] = [];
    // The runner is under test, not which definition runs: the config's job, nothing deployed (run --from-source).
    const done = runAttached({ dir: projectDir, job, fromSource: true, onLine: (task, line) => lines.push(`${task}: ${line}`) }, { env: runtimeEnv(join(root.dir, "home"), clock), reporter: silentReporter });
    return { done, lines };
  };
  const tasks = (d: RunDetails) => Object.fromEntries(d.tasks.map((t) => [t.task, [t.status, t.attempts]]));

  it("waits between retries on the run's clock: the next attempt starts when the clock has moved the backoff", async () => {
    const r = run("flaky");
    await waitFor(() => r.lines.includes("main: retrying in 1000 ms") && clock.sleeping > 0, { what: "the first attempt to fail" });
    clock.advance(999);
    assert.ok(!r.lines.some((l) => l.includes("attempt 2")), "not before the backoff has passed");
    clock.advance(1);
    const d = await r.done;
    assert.equal(d.status, "succeeded");
    assert.deepEqual(tasks(d), { main: ["succeeded", 2] });
    assert.ok(r.lines.includes("main: ok on attempt 2"));
  });

  it("times a task out on the run's clock", async () => {
    const r = run("slow");
    await waitFor(() => existsSync(join(gates, "slow-started")) && clock.sleeping > 0, { what: "the slow task to start" });
    clock.advance(5000);
    const d = await r.done;
    assert.equal(d.status, "failed");
    assert.deepEqual(tasks(d), { main: ["failed", 1] });
    assert.ok(r.lines.includes("main: task main timed out after 5000 ms"));
  });

  it("runs tasks in dependency order, at most max_parallel_tasks at once", async () => {
    const r = run("graph");
    await waitFor(() => order().length === 2, { what: "two tasks to start" });
    assert.deepEqual(order().sort(), ["start a", "start b"], "c waits for a free slot, after-a for a");
    open("b");
    await waitFor(() => order().includes("start c"), { what: "c to take b's slot" });
    assert.ok(!order().includes("start after-a"));
    open("a");
    await waitFor(() => order().includes("start after-a"), { what: "after-a to start once a succeeded" });
    open("c");
    open("after-a");
    const d = await r.done;
    assert.equal(d.status, "succeeded");
    const at = (line: string) => order().indexOf(line);
    assert.ok(at("end b") < at("start c") && at("end a") < at("start after-a"), order().join(", "));
    assert.equal(order().filter((l) => l.startsWith("end")).length, 4);
  });

  it("after a failed task starts no new one; running ones finish; the rest are skipped", async () => {
    writeFileSync(join(gates, "order"), "");
    const r = run("stops");
    await waitFor(() => order().includes("start long") && order().includes("start bad"), { what: "bad and long to start" });
    // bad failed; `later` would take its slot, but nothing new starts after a failure.
    await waitFor(() => r.lines.some((l) => l.startsWith("bad: task bad exited with code 1")), { what: "bad to be seen failing" });
    open("long");
    const d = await r.done;
    assert.equal(d.status, "failed");
    assert.deepEqual(tasks(d), { bad: ["failed", 1], long: ["succeeded", 1], later: ["skipped", 0], "after-bad": ["skipped", 0] });
    assert.ok(!order().includes("start later"));
  });
});
