// Declared artifacts: globs over a real output folder with links a task could leave pointing out.
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { artifactPatternProblem } from "../config/safe-paths.js";
import { MemoryBlobStore } from "../store/blobs/memory-blob-store.js";
import { tempDir } from "../../test/helpers/kinds.js";
import { archiveRunArtifacts, matchArtifacts } from "./run-artifacts.js";

describe("run artifacts", () => {
  it("patterns that could leave the output folder are refused", () => {
    for (const ok of ["reports/*.html", "**/*.png", "a/{b,c}/d?.txt", ".hidden/x"]) assert.equal(artifactPatternProblem(ok), undefined, ok);
    const bad: Array<[string, RegExp]> = [
      ["/etc/passwd", /absolute/],
      ["~/x", /absolute/],
      ["C:\\x", /absolute/],
      ["../up", /\.\./],
      ["a/../../up", /\.\./],
      ["a\\b", /contains "\\"/],
      ["!x", /exclusions/],
      ["a\0b", /NUL/],
    ];
    for (const [p, why] of bad) assert.match(artifactPatternProblem(p) ?? "", why, p);
  });

  it("matches regular files only, never through a link, and stores them under the run", async () => {
    const root = tempDir();
    try {
      const out = join(root.dir, "out");
      const outside = join(root.dir, "outside");
      mkdirSync(join(out, "reports", "sub"), { recursive: true });
      mkdirSync(outside);
      writeFileSync(join(outside, "secret.txt"), "secret");
      writeFileSync(join(out, "reports", "a.txt"), "a");
      writeFileSync(join(out, "reports", "sub", "b.txt"), "bb");
      writeFileSync(join(out, "reports", "c.log"), "c");
      writeFileSync(join(out, ".dot.txt"), "d");
      symlinkSync(join(outside, "secret.txt"), join(out, "reports", "evil.txt"));
      symlinkSync(outside, join(out, "reports", "linked"));
      symlinkSync(join(out, "reports", "a.txt"), join(out, "reports", "inside-link.txt"));
      const patterns = ["reports/**/*.txt", "reports/linked/*", "*.txt", "../outside/*", "/etc/*"];
      assert.deepEqual(await matchArtifacts(out, patterns), [".dot.txt", "reports/a.txt", "reports/sub/b.txt"]);
      const store = new MemoryBlobStore();
      const stored = await archiveRunArtifacts(store, "r1", out, patterns);
      assert.deepEqual(Object.keys(stored), [".dot.txt", "reports/a.txt", "reports/sub/b.txt"]);
      assert.equal(stored["reports/sub/b.txt"]!.size, 2);
      assert.deepEqual(await store.list(""), ["runs/r1/artifacts/.dot.txt", "runs/r1/artifacts/reports/a.txt", "runs/r1/artifacts/reports/sub/b.txt"]);
      assert.deepEqual(await matchArtifacts(join(root.dir, "missing"), patterns), [], "no output folder, no artifacts");
    } finally {
      root.cleanup();
    }
  });
});
