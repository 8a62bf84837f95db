import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ERROR_CODES, exitCodeOf, httpStatusOf, queryErrorCode } from "./error-codes.js";
import { InvalidInputError, RefusedError, SlipwayError } from "./errors.js";

describe("the error-code registry", () => {
  it("gives exit codes and HTTP statuses; unknown codes are internal errors", () => {
    assert.equal(exitCodeOf("model_version_missing"), 2);
    assert.equal(exitCodeOf("lock_held"), 3);
    assert.equal(exitCodeOf("hook_failed"), 1);
    assert.equal(exitCodeOf("made_up"), 1);
    assert.equal(httpStatusOf("lock_held"), 423);
    assert.equal(httpStatusOf("unknown_run"), 404);
    assert.equal(httpStatusOf("protected"), 403);
    assert.equal(httpStatusOf("server_unavailable"), 503);
    assert.equal(httpStatusOf("made_up"), 500);
  });

  it("errors take their exit code from the registry, whatever class they are", () => {
    assert.equal(new SlipwayError("unknown_revision", "x").exitCode, 2);
    assert.equal(new InvalidInputError([{ message: "x" }]).exitCode, 2);
    assert.equal(new RefusedError("run_finished", "x").exitCode, 3);
  });

  it("invalid input exits 2, refusals 3, failures 1, and each code has a description", () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.ok(info.description.length > 10, code);
      if (info.exit === 2) assert.ok(info.http < 500, `${code}: invalid input is a 4xx`);
      if (info.exit === 3) assert.ok([401, 403, 409, 423].includes(info.http), `${code}: a refusal is 401, 403, 409 or 423`);
    }
  });

  it("maps an endpoint's answer to a query code", () => {
    assert.equal(queryErrorCode(400), "query_rejected");
    assert.equal(queryErrorCode(401), "query_unauthorized");
    assert.equal(queryErrorCode(403), "query_forbidden");
    assert.equal(queryErrorCode(404), "query_failed");
    assert.equal(queryErrorCode(503), "query_failed");
  });
});
