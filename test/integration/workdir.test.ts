// Working folders through the real CLI and runner: a run reuses the folder of the previous run of its
// job, and what a task writes into its folder reaches neither the stored bundle nor the next run.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sha256 } from "../../src/util/hash.js";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { homeArchive } from "../helpers/home-backends.js";

const project = {
  "slipway.yaml": "project: scratch\ninclude: [modules/*/module.yaml]\ntargets:\n  dev:\n    default: true\n",
  "modules/m/module.yaml": `module: m
resources:
  jobs:
    scribble:
      source: src
      # prints what it was given, then writes into its own source: in place, a new file, a mode
      command: 'echo "notes: $(cat notes.txt | tr "\\n" "|")"; echo "same inode $(stat -c %i same.txt)"; echo "listing: $(ls | tr "\\n" " ")"; echo scribbled >> notes.txt; echo new > extra.txt; chmod 755 keep.txt'
`,
  "modules/m/src/notes.txt": "original\n",
  "modules/m/src/keep.txt": "mode changed\n",
  "modules/m/src/same.txt": "untouched\n",
};

describe("working folders", () => {
  let box: Sandbox;
  before(() => (box = sandbox(project)));
  after(() => box.cleanup());

  it("a task writing into its working folder changes neither the stored blob nor the next run's input", async () => {
    const first = box.run(["run", "scribble", "--from-source", "--wait"]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /notes: original\|/);
    const pools = join(box.home, "cache", "workdirs");
    assert.equal(readdirSync(pools).length, 1, "the folder went back to the job's pool");

    const second = box.run(["run", "scribble", "--from-source", "--wait"]);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /notes: original\|(\s|$)/, "the next run sees the bundle, not what the last run wrote");
    assert.doesNotMatch(second.stdout, /scribbled/);
    assert.match(second.stdout, /listing: keep\.txt notes\.txt same\.txt/);
    assert.doesNotMatch(second.stdout, /extra\.txt/);
    const inode = (out: string) => /same inode (\d+)/.exec(out)![1];
    assert.equal(inode(second.stdout), inode(first.stdout), "the folder was reused: an untouched file was not written again");

    // the stored blobs still hold what their names say
    const blob = await homeArchive(box.home, "job_source").get(`files/${sha256("original\n")}`);
    assert.equal(String(blob), "original\n");
    const [a, b] = box.json(["runs"]).doc.runs.map((r: { id: string }) => box.json(["runs", "show", r.id]).doc.provenance.bundle_hash);
    assert.equal(a, b, "same source, same bundle");
  });
});
