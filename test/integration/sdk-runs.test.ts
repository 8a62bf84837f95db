// The SDK's run API (SPEC workflow 4): a program starts a run, waits, and reads results and logs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidInputError, Slipway } from "../../src/index.js";
import { sandbox } from "../helpers/cli.js";
import { jobsProject } from "../helpers/projects.js";

describe("SDK runs", () => {
  it("run, wait, results, logs, listing", async () => {
    const box = sandbox(jobsProject());
    try {
      const slipway = new Slipway({ project: box.dir, home: box.home });
      assert.equal((await slipway.deploy()).status, "succeeded");
      const run = await slipway.run("train", { params: { lr: "0.25" } });
      assert.match(run.id, /^r\w+$/);
      const done = await run.wait();
      assert.equal(done.status, "succeeded");
      assert.deepEqual(await run.results(), { lr: 0.25 });
      const lines = await run.logs();
      assert.ok(lines.some((l) => l.task === "main" && l.line === "lr 0.25 epochs 1"));
      assert.deepEqual((await slipway.runs({ job: "train" })).map((r) => r.id), [run.id]);
      assert.equal((await slipway.getRun(run.id.slice(0, 10)).details()).id, run.id);
      await assert.rejects(slipway.run("train", { params: { nope: "1" } }), InvalidInputError);
    } finally {
      box.cleanup();
    }
  });

  it("sweep: one run per combination, each waited for on its own", async () => {
    const box = sandbox(jobsProject());
    try {
      const slipway = new Slipway({ project: box.dir, home: box.home });
      assert.equal((await slipway.deploy()).status, "succeeded");
      const runs = await slipway.sweep("train", { lr: ["0.1", "0.2"], epochs: ["1", "2"] });
      const done = await Promise.all(runs.map((r) => r.wait()));
      assert.deepEqual(
        done.map((d) => [d.status, d.params]),
        [
          ["succeeded", { lr: "0.1", epochs: "1" }],
          ["succeeded", { lr: "0.1", epochs: "2" }],
          ["succeeded", { lr: "0.2", epochs: "1" }],
          ["succeeded", { lr: "0.2", epochs: "2" }],
        ],
      );
      assert.deepEqual(done.map((d) => (d.provenance as { sweep: { index: number; of: number } }).sweep.index), [0, 1, 2, 3]);
      await assert.rejects(slipway.sweep("train", { lr: ["0.1"] }, { params: { lr: "0.3" } }), /both swept \(--values\) and fixed/);
    } finally {
      box.cleanup();
    }
  });
});
