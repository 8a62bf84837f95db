// How `archives list` groups keys and names kinds (the listing itself: test/integration/archives.test.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidInputError } from "../errors.js";
import { groupOf, parseArchiveKind } from "./archives.js";

describe("archives list", () => {
  it("groups keys by run, by content-addressed kind and by published artifact", () => {
    assert.equal(groupOf("runs/r1/main.log"), "runs/r1");
    assert.equal(groupOf("runs/r1.json"), "runs/r1");
    assert.equal(groupOf("runs/r1/artifacts/reports/a.txt"), "runs/r1");
    assert.equal(groupOf("files/abc"), "files");
    assert.equal(groupOf("trees/abc"), "trees");
    assert.equal(groupOf("bundles/abc.json"), "bundles");
    assert.equal(groupOf("tasks/abc.json"), "tasks");
    assert.equal(groupOf("proj/dqm/targets/dev/1.0.json"), "proj/dqm");
    assert.equal(groupOf("inference/proj/dev/iris/2026-01-01T00-00-00-000Z.jsonl.gz"), "inference/proj/dev/iris");
    assert.equal(groupOf("lonely"), "lonely");
  });

  it("names the kinds, with a suggestion for a typo", () => {
    assert.equal(parseArchiveKind("cache"), "cache");
    assert.throws(() => parseArchiveKind("cahce"), (e: InvalidInputError) => e.code === "unknown_archive_kind" && /did you mean "cache"/.test(e.diagnostics[0]!.hint ?? ""));
    assert.throws(() => parseArchiveKind("__proto__"), InvalidInputError);
  });
});
