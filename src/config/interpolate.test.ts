import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Diagnostic } from "../errors.js";
import { interpolate, type InterpolationScope } from "./interpolate.js";

const scope: InterpolationScope = {
  project: "proj",
  target: "dev",
  user: "ada",
  module: "core",
  variable: (n) => ({ catalog: "main" })[n],
  variableNames: () => ["catalog"],
  env: { HOME_REGION: "eu" },
};
const at = { file: "f.yaml", line: 3, column: 7 };

describe("interpolate", () => {
  it("resolves every reference form", () => {
    const d: Diagnostic[] = [];
    assert.equal(interpolate("${user}_${project.name}_${target.name}_${module.name}_${var.catalog}_${env.HOME_REGION}", scope, at, d), "ada_proj_dev_core_main_eu");
    assert.deepEqual(d, []);
  });

  it("writes $${ as a literal ${", () => {
    assert.equal(interpolate("cost: $${var.catalog}", scope, at, []), "cost: ${var.catalog}");
  });

  it("reports unknown variables with a suggestion and the location", () => {
    const d: Diagnostic[] = [];
    interpolate("${var.catalgo}", scope, at, d);
    assert.deepEqual(d, [{ location: at, message: 'unknown variable "catalgo" in ${var.catalgo}', hint: 'did you mean "catalog"?' }]);
  });

  it("reports unset environment variables and unknown namespaces", () => {
    const d: Diagnostic[] = [];
    interpolate("${env.NOPE} ${targt.name}", scope, at, d);
    assert.equal(d.length, 2);
    assert.match(d[0]!.message, /environment variable NOPE is not set/);
    assert.match(d[1]!.hint!, /did you mean "target.name"/);
  });

  it("reports an unclosed ${ and leaves the text as written", () => {
    const d: Diagnostic[] = [];
    assert.equal(interpolate("a-${var.catalog", scope, at, d), "a-${var.catalog");
    assert.equal(d.length, 1);
    assert.match(d[0]!.message, /unclosed "\$\{" in "a-\$\{var\.catalog"/);
    assert.deepEqual(interpolate("$${ alone", scope, at, []), "${ alone");
  });

  it("rejects ${module.name} outside a module", () => {
    const d: Diagnostic[] = [];
    interpolate("${module.name}", { ...scope, module: undefined }, at, d);
    assert.match(d[0]!.message, /only defined inside a module\.yaml/);
  });
});
