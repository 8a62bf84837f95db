// The schema fuzzer (scripts/fuzz.mjs) on a fixed set of seeds, through the real CLI: random valid and
// near-valid projects generated from `slipway schema`, run through validate / plan / deploy / plan /
// destroy / status. More seeds: `node scripts/fuzz.mjs --count 500`. A failing seed reproduces with
// `node scripts/fuzz.mjs --seed N`. SLIPWAY_FUZZ_SEEDS="1-20" (or "3,7,9") picks other seeds here.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
// @ts-expect-error: a plain ES module script without type declarations
import { describeFailure, loadSchema, runSeed } from "../../scripts/fuzz.mjs";

function seeds(): number[] {
  // Default: a mix that stays under ~30 s on a busy machine — valid projects that deploy (4, 7), one
  // with phases (8), near-valid ones (5, 6), one with endpoints or compute, validated only (2).
  const spec = process.env.SLIPWAY_FUZZ_SEEDS ?? "2,4-8";
  return spec.split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number);
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, k) => a! + k);
  });
}

describe("schema fuzzing", () => {
  const schema = loadSchema();
  const deployed: number[] = [];
  for (const seed of seeds()) {
    it(`seed ${seed}`, () => {
      const result = runSeed(seed, { schema });
      assert.ok(result.ok, describeFailure(result));
      if (result.steps.some((s: { args: string[]; code: number }) => s.args[0] === "deploy" && s.code === 0)) deployed.push(seed);
    });
  }
  it("the seeds exercise deploys, not only validation", () => {
    assert.ok(deployed.length >= 2, `only seeds ${deployed.join(", ") || "none"} deployed`);
  });
});
