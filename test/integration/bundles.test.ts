// Bundle archives through the real CLI: export a job's bundle, run from it, and refuse malicious ones.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { jobsProject } from "../helpers/projects.js";

describe("bundle archives", () => {
  let box: Sandbox;
  before(() => {
    box = sandbox(jobsProject());
    assert.equal(box.run(["deploy"]).code, 0);
  });
  after(() => box.cleanup());

  it("slipway bundle writes a .tar.gz that run --bundle executes", () => {
    const out = join(box.dir, "..", "train.tgz");
    const made = box.json(["bundle", "train", "-o", out]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.doc.hash, /^[0-9a-f]{64}$/);
    const listing = execFileSync("tar", ["-tzf", out], { encoding: "utf8" }).split("\n");
    assert.ok(listing.includes("train.py") && listing.includes(".slipway/runner.sh"));
    // The source folder changes afterwards; the archive's code is what runs.
    box.write({ "modules/ml/src/train.py": "raise SystemExit('the folder is not what runs')\n" });
    const r = box.run(["run", "train", "--bundle", out, "--wait"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /lr 0\.1 epochs 1/);
  });

  it("refuses an archive with a path that climbs out of the working folder, running nothing", () => {
    const dir = join(box.dir, "..", "evil", "inner");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "..", "escaped.txt"), "gotcha\n");
    const archive = join(box.dir, "..", "evil.tgz");
    execFileSync("tar", ["-czPf", archive, "../escaped.txt"], { cwd: dir });
    const before = box.json(["runs"]).doc.runs.length;
    const r = box.run(["run", "train", "--bundle", archive]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bundle archive .*evil\.tgz: .*\.\.\/escaped\.txt/);
    assert.equal(box.json(["runs"]).doc.runs.length, before, "no run was recorded");
    assert.equal(existsSync(join(box.home, "escaped.txt")), false);
  });

  it("refuses an archive whose symlink points outside and a file written through it", () => {
    const dir = join(box.dir, "..", "evil2");
    mkdirSync(join(dir, "payload"), { recursive: true });
    const outside = join(box.dir, "..", "outside-target");
    execFileSync("ln", ["-s", outside, join(dir, "link")]);
    writeFileSync(join(dir, "payload", "file.txt"), "through the link\n");
    const archive = join(box.dir, "..", "evil2.tgz");
    // link -> outside, then link/file.txt: extracting naively would write outside.
    execFileSync("tar", ["-czf", archive, "link", "--transform", "s,^payload,link,", "payload/file.txt"], { cwd: dir });
    const r = box.run(["run", "train", "--bundle", archive]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bundle archive .*evil2\.tgz: .*link/);
    assert.equal(existsSync(outside), false);
  });
});
