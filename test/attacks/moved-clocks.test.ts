// Clocks that move (NTP steps, a laptop's clock set by hand, SLIPWAY_CLOCK_OFFSET_MS in tests) must not
// reorder what Slipway shows: history lists revisions by number, whatever their start times say.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sandbox } from "../helpers/cli.js";

const HOUR = 3_600_000;

describe("history with moved clocks", () => {
  it("`history --limit N` orders by revision number, not by start time", () => {
    const box = sandbox({
      "slipway.yaml": `project: clocks
include: [modules/*/module.yaml]
variables:
  v: { default: "1" }
targets:
  dev: { default: true }
`,
      "modules/core/module.yaml": "module: core\nsettings:\n  value: ${var.v}\n",
    });
    try {
      const deploy = (v: string, offset: number) => {
        const r = box.run(["deploy", "--yes", "--var", `v=${v}`], { SLIPWAY_CLOCK_OFFSET_MS: String(offset) });
        assert.equal(r.code, 0, r.stderr);
      };
      deploy("1", 0); // revision 1
      deploy("2", 0); // revision 2
      deploy("3", 0); // revision 3
      deploy("4", -2 * HOUR); // revision 4, started "before" revision 1
      deploy("5", -HOUR); // revision 5, started "before" revision 1 too
      deploy("6", -3 * HOUR); // revision 6, the earliest start time of all
      deploy("7", 0); // revision 7
      const all = box.json(["history"]);
      assert.equal(all.code, 0, all.stderr);
      assert.deepEqual(all.doc.deployments.map((d: any) => d.revision), [7, 6, 5, 4, 3, 2, 1]);
      const two = box.json(["history", "--limit", "2"]).doc.deployments.map((d: any) => d.revision);
      assert.deepEqual(two, [7, 6], "the newest revisions, not the latest start times");
      const three = box.run(["history", "--limit", "3"]);
      assert.equal(three.code, 0, three.stderr);
      assert.deepEqual(three.stdout.split("\n").filter((l) => /^\d/.test(l)).map((l) => Number(l.split(/\s+/)[0])), [7, 6, 5]);
    } finally {
      box.cleanup();
    }
  });
});
