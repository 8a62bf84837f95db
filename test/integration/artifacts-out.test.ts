// `artifacts build --out DIR` never puts a file there that differs from a published version of the same
// name (issue 9, point 21): a rebuild of a published version with other content is not copied, and
// the command says so (exit 3), so DIR keeps matching what was published.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { documentSchema } from "../../src/views/documents.js";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { artifactsProject, dqmPackage } from "../helpers/projects.js";

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("artifacts build --out", () => {
  let box: Sandbox;
  let dist: string;
  let wheel: string;
  before(() => {
    box = sandbox(artifactsProject());
    dist = join(box.dir, "dist");
    wheel = join(dist, "dqm-2.6.12-py3-none-any.whl");
  });
  after(() => box.cleanup());

  it("copies a build whose version is not published, and one identical to the published version", () => {
    box.write(dqmPackage("2.6.12"));
    const built = box.json(["artifacts", "build", "dqm", "--out", "dist"]);
    assert.equal(built.code, 0, built.stderr);
    assert.equal(built.doc.builds[0].copied_to, wheel);
    assert.equal(box.run(["artifacts", "publish", "dqm", "-t", "prod"]).code, 0);
    // Same package, same content: copying it again changes nothing.
    const again = box.json(["artifacts", "build", "dqm", "--out", "dist"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.doc.builds[0].copied_to, wheel);
  });

  it("does not overwrite the published file with a rebuild that differs, and says so (exit 3)", () => {
    const published = sha(wheel);
    box.write(dqmPackage("2.6.12", " (changed)"));
    const r = box.run(["artifacts", "build", "dqm", "--out", "dist"]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /built dqm 2\.6\.12/);
    assert.match(r.stderr, /not copied to dist: dqm 2\.6\.12 is already published \(prod\) with other content \(sha256 [0-9a-f]{12}; this build is [0-9a-f]{12}\), so publishing this build would be refused; .*dqm-2\.6\.12-py3-none-any\.whl was left as it was/);
    assert.equal(sha(wheel), published, "dist/ still holds what was published");
    const json = box.json(["artifacts", "build", "dqm", "--out", "dist"]);
    assert.equal(json.code, 3);
    documentSchema("artifacts build").parse(json.doc);
    assert.equal(json.doc.ok, false);
    assert.equal(json.doc.error.code, "not_copied");
    const b = json.doc.builds[0];
    assert.equal(b.copied_to, null);
    assert.deepEqual(b.not_copied.published, [{ target: "prod", sha256: published }]);
    assert.notEqual(b.sha256, published);
    // Nor into an empty folder: a file by that name would not be what was published.
    rmSync(dist, { recursive: true });
    assert.equal(box.run(["artifacts", "build", "dqm", "--out", "dist"]).code, 3);
    assert.equal(existsSync(wheel), false);
    // Publishing that build is refused too, for the same reason.
    assert.equal(box.run(["artifacts", "publish", "dqm", "-t", "prod"]).code, 3);
  });

  it("a new version is copied", () => {
    box.write(dqmPackage("2.6.13", " (changed)"));
    const r = box.json(["artifacts", "build", "dqm", "--out", "dist"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.doc.builds[0].copied_to, join(dist, "dqm-2.6.13-py3-none-any.whl"));
  });
});
