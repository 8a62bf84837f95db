// Compiled by test/contract/contract.test.ts with tsc: every line marked @ts-expect-error must fail
// typecheck, or tsc reports the directive as unused and the test fails.
import { InvalidInputError, RefusedError, SlipwayError } from "../../../src/errors.js";
import type { Done } from "../../../src/cli/common.js";

export function probes(): unknown[] {
  return [
    // @ts-expect-error a code that is not in the registry (src/error-codes.ts)
    new SlipwayError("no_such_code", "x"),
    // @ts-expect-error an exit code that disagrees with the registry (model_version_missing exits 2)
    new SlipwayError("model_version_missing", "x", { exitCode: 1 }),
    // @ts-expect-error invalid input takes exit-2 codes only
    new InvalidInputError([{ message: "x" }], "lock_held"),
    // @ts-expect-error a refusal takes exit-3 codes only
    new RefusedError("invalid_config", "x"),
    // registered codes, with an agreeing exit code, compile
    new SlipwayError("model_version_missing", "x", { exitCode: 2 }),
    new RefusedError("lock_held", "x"),
    new InvalidInputError([{ message: "x" }], "unknown_run"),
  ];
}

// @ts-expect-error a view's fields must be the command's documented fields
export const wrongFields: Done<"bundle"> = { fields: { hash: "h", files: 1, bytes: 2 } };
// @ts-expect-error only commands that can finish unsuccessfully with their document carry an error
export const wrongError: Done<"status"> = { fields: {} as Done<"status">["fields"], error: { code: "internal", message: "x", hint: null } };
export const rightError: Done<"deploy"> = { fields: {} as Done<"deploy">["fields"], error: { code: "hook_failed", message: "x", hint: null } };
