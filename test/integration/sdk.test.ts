// The SDK drives the same operations as the CLI, against a real SQLite file.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidInputError, RefusedError, Slipway } from "../../src/index.js";
import { sandbox } from "../helpers/cli.js";
import { threeModules } from "../helpers/projects.js";

describe("SDK", () => {
  it("validates, plans, deploys, reports status and history, rolls back and destroys", async () => {
    const box = sandbox(threeModules());
    try {
      const slipway = new Slipway({ project: box.dir, home: box.home });
      assert.deepEqual(slipway.validate().modules, ["core", "features", "serving"]);
      const plan = await slipway.plan({ phase: 0 });
      assert.equal(plan.plan.summary.create, plan.plan.actions.length);
      const first = await slipway.deploy({ phase: 0 });
      assert.equal(first.status, "succeeded");
      assert.equal(first.revision, 1);
      assert.equal((await slipway.deploy()).revision, 2);
      assert.deepEqual((await slipway.status()).modules.map((m) => m.deployed), [true, true, true]);
      await assert.rejects(slipway.rollback(1), RefusedError);
      assert.equal((await slipway.rollback(1, { yes: true })).revision, 3);
      assert.deepEqual((await slipway.settings()).map((s) => s.module), ["core", "features"]);
      assert.deepEqual((await slipway.history()).map((h) => h.revision), [3, 2, 1]);
      assert.equal((await slipway.destroy({ yes: true })).status, "succeeded");
      assert.throws(() => new Slipway({ project: box.dir, home: box.home, target: "nope" }).validate(), InvalidInputError);
    } finally {
      box.cleanup();
    }
  });
});
