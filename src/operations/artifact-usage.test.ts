import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { computeUsage } from "./artifact-usage.js";

describe("usage", () => {
  it("collects installs, deployed compute specs, jobs in them and revisions", () => {
    const compute = (name: string, libraries: string[]) => ({ address: `compute.${name}`, kind: "compute" as const, name, module: "m", phase: 0, spec: { libraries }, specHash: "", dependsOn: [], outputs: {}, createdAt: "", updatedAt: "" });
    const job = { ...compute("x", []), address: "job.etl", kind: "job" as const, name: "etl", spec: { compute: { environment: "etl" } } };
    const usage = computeUsage({
      installs: [{ project: "p", target: "t", environment: "etl", instance: "", artifact: "dqm", version: "2", sha256: "", package: "dqm", filename: "", installed_at: "", installed_by: "" }],
      recorded: [compute("etl", ["dqm@1"]), job],
      revisions: [{ revision: 4, resources: [compute("etl", ["dqm@0"])] }],
    });
    assert.deepEqual(usage.get("dqm")?.get("2"), [{ by: "compute.etl", reason: "installed" }]);
    assert.deepEqual(usage.get("dqm")?.get("1"), [{ by: "compute.etl", reason: "deployed" }, { by: "job.etl", reason: "via compute.etl" }]);
    assert.deepEqual(usage.get("dqm")?.get("0"), [{ by: "revision 4", reason: "compute.etl" }]);
  });
});
