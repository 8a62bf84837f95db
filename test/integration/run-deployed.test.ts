// `slipway run` runs what is deployed to the target (issue 9, point 4): a job removed by a rollback or
// a destroy can no longer be run; a job changed in the config but not deployed runs as deployed;
// `--from-source` runs the config's job in development. The SDK's run does the same.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RefusedError, Slipway } from "../../src/index.js";
import { documentSchema } from "../../src/views/documents.js";
import { sandbox, type Sandbox } from "../helpers/cli.js";

// Entity matching in phases: phase 2 serves and matches on a schedule, phase 3 adds an ad-hoc job.
const files = (matchSays = "matched v1"): Record<string, string> => ({
  "slipway.yaml": "project: em\ninclude: [modules/*/module.yaml]\ntargets:\n  dev:\n    default: true\n",
  "modules/matching/module.yaml": `module: matching
phase: 2
resources:
  jobs:
    match:
      command: echo "${matchSays}"
    adhoc_job:
      phase: 3
      command: echo "adhoc ran with $SLIPWAY_PARAM_pair"
      params: { pair: "a,b" }
`,
});

const id = (stdout: string) => /^(r\w+)/m.exec(stdout)![1]!;

describe("run executes the job deployed to the target", () => {
  let box: Sandbox;
  before(() => (box = sandbox(files())));
  after(() => box.cleanup());

  it("refuses a job the config declares but the target does not have (exit 3), saying how to deploy it", () => {
    const r = box.run(["run", "adhoc_job", "--wait"]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /job adhoc_job is not deployed to em\/dev \(it is in phase 3\)/);
    assert.match(r.stderr, /hint: deploy it first \(slipway deploy -t dev --phase 3\), or run it from your working copy with --from-source/);
    const json = box.json(["run", "adhoc_job"]);
    assert.equal(json.code, 3);
    assert.equal(json.doc.error.code, "job_not_deployed");
    documentSchema("run").parse(json.doc);
    assert.deepEqual(box.json(["runs"]).doc.runs, [], "nothing was recorded");
    // A job neither deployed nor declared is unknown input (exit 2), with a suggestion.
    const typo = box.run(["run", "adhoc_jbo"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no job "adhoc_jbo" in em\n  hint: did you mean "adhoc_job"\?/);
  });

  it("runs it once deployed, and refuses it again after a rollback to the phase before", () => {
    assert.equal(box.run(["deploy", "--phase", "2"]).code, 0);
    assert.equal(box.run(["deploy", "--phase", "3"]).code, 0);
    const ran = box.run(["run", "adhoc_job", "--wait", "--param", "pair=x,y"]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /\[main\] adhoc ran with x,y/);
    const shown = box.json(["runs", "show", id(ran.stdout)]).doc;
    documentSchema("runs show").parse(shown);
    assert.equal(shown.provenance.job_origin, "deployed");

    const rolled = box.run(["rollback", "--to", "1", "--yes"]);
    assert.equal(rolled.code, 0, rolled.stderr);
    const refused = box.run(["run", "adhoc_job"]);
    assert.equal(refused.code, 3, refused.stdout);
    assert.match(refused.stderr, /job adhoc_job is not deployed to em\/dev/);
    // Phase 2's job is still deployed and runs.
    assert.equal(box.run(["run", "match", "--wait"]).code, 0);
  });

  it("--from-source runs the config's job, deployed or not", () => {
    const r = box.run(["run", "adhoc_job", "--from-source", "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[main\] adhoc ran with a,b/);
    assert.equal(box.json(["runs", "show", id(r.stdout)]).doc.provenance.job_origin, "source");
  });

  it("a job changed in the config but not deployed runs as deployed, with a warning", () => {
    box.write(files("matched v2"));
    const r = box.run(["run", "match", "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[main\] matched v1/);
    assert.match(r.stderr, /job match in the config differs from the one deployed to em\/dev \(command\): running the deployed job; deploy to update it, or use --from-source/);
    assert.match(box.run(["run", "match", "--wait", "--from-source"]).stdout, /\[main\] matched v2/);
    assert.equal(box.run(["deploy", "--phase", "2"]).code, 0);
    const after = box.run(["run", "match", "--wait"]);
    assert.match(after.stdout, /\[main\] matched v2/);
    assert.doesNotMatch(after.stderr, /differs/);
  });

  it("the SDK's run does the same", async () => {
    const slipway = new Slipway({ project: box.dir, home: box.home });
    await assert.rejects(slipway.run("adhoc_job"), (e: unknown) => e instanceof RefusedError && e.code === "job_not_deployed" && e.exitCode === 3);
    const run = await slipway.run("adhoc_job", { fromSource: true });
    assert.equal((await run.wait()).status, "succeeded");
  });

  it("after destroy, nothing can be run", () => {
    assert.equal(box.run(["destroy", "--yes"]).code, 0);
    const r = box.run(["run", "match"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /job match is not deployed to em\/dev \(it is in phase 2\)/);
  });
});
