// `slipway doctor` and the home's backends (SLIPWAY_HOME/config.yaml): it shows what the file names,
// checks that each answers (a query on the PostgreSQL server, a listing of the bucket, `scontrol
// ping`), says what is wrong and how to fix it when one does not, and `--json` says which backend the
// target resolved to and from where. Against the real services the test command starts.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { embeddedOnly } from "../helpers/home-backends.js";
import { awsEnv, createBucket, removeBucket, s3Skip, testS3 } from "../helpers/s3.js";

const pgUrl = process.env.SLIPWAY_TEST_PG_URL;
const slurmConf = process.env.SLIPWAY_TEST_SLURM_CONF;
const skip = embeddedOnly("the test writes config.yaml itself") || s3Skip || (pgUrl ? false : "SLIPWAY_TEST_PG_URL is not set (npm test starts PostgreSQL)");

const project = {
  "slipway.yaml": "project: doc\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n  own:\n    executor: { type: local }\n",
  "modules/m/module.yaml": "module: m\nsettings:\n  a: b\n",
};

type Check = { name: string; status: string; message: string; fix: string | null };

describe("doctor and the home's backends", { skip }, () => {
  let box: Sandbox;
  let bucket = "";
  const doctor = (args: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const r = box.json(["doctor", ...args], { ...awsEnv(), SLURM_CONF: slurmConf, ...env });
    return { ...r, check: (name: string) => (r.doc.checks as Check[]).find((c) => c.name === name) };
  };
  const home = (yaml: string) => {
    mkdirSync(box.home, { recursive: true });
    writeFileSync(join(box.home, "config.yaml"), yaml);
  };

  before(async () => {
    bucket = await createBucket("slipway-doctor");
    box = sandbox(project);
  });
  after(async () => {
    box?.cleanup();
    if (bucket) await removeBucket(bucket);
  });

  it("every backend named answers: the checks say where, and --json says what the target resolved to", () => {
    const executor = slurmConf ? "executor: { type: slurm }\n" : "";
    home(`state: { type: postgres, url: "\${env.DOCTOR_PG_URL}" }\nblobs: { type: s3, bucket: ${bucket}, prefix: team, endpoint: "${testS3!.endpoint}", region: ${testS3!.region} }\n${executor}`);
    const r = doctor([], { DOCTOR_PG_URL: pgUrl });
    assert.equal(r.code, 0, JSON.stringify(r.doc));
    assert.match(r.check("backends")!.message, new RegExp(`config\\.yaml: state postgres \\(postgres://postgres@127\\.0\\.0\\.1:\\d+/slipway_test\\), blobs s3 \\(bucket ${bucket}, prefix team at http://127\\.0\\.0\\.1:\\d+\\)`));
    assert.match(r.check("state")!.message, /^PostgreSQL \d+\.\d+ at postgres:\/\/postgres@127\.0\.0\.1:\d+\/slipway_test answers, for target dev$/);
    assert.equal(r.check("blobs")!.message, `bucket s3://${bucket}/team/?endpoint=${encodeURIComponent(testS3!.endpoint)}&region=${testS3!.region} can be listed, for target dev`);
    assert.match(r.check("locks")!.message, /deploy locks are kept in the home's postgres state/);
    if (slurmConf) assert.match(r.check("slurm")!.message, /is UP, for target dev$/);
    assert.deepEqual(r.doc.project.backends, { state: { type: "postgres", from: "home" }, blobs: { type: "s3", from: "home" }, executor: slurmConf ? { type: "slurm", from: "home" } : { type: "local", from: "default" } });
    // A target's own setting wins.
    const own = doctor(["-t", "own"], { DOCTOR_PG_URL: pgUrl });
    assert.deepEqual(own.doc.project.backends.executor, { type: "local", from: "target" });
    assert.equal(own.check("slurm"), undefined);
  });

  it("outside a project, the home's backends are checked", () => {
    home(`blobs: { type: s3, bucket: ${bucket}, endpoint: "${testS3!.endpoint}" }\n`);
    const r = doctor(["--project", join(box.dir, "..")]);
    assert.equal(r.code, 0, JSON.stringify(r.doc));
    assert.match(r.check("blobs")!.message, /can be listed, for this home$/);
    assert.equal(r.doc.project, null);
  });

  it("a backend that does not answer fails its check with the reason and the fix; a password is never shown", () => {
    home(`state: { type: postgres, url: "postgres://postgres:hunter2-secret@127.0.0.1:1/nowhere" }\nblobs: { type: s3, bucket: no-such-bucket-${bucket}, endpoint: "${testS3!.endpoint}" }\n`);
    const r = doctor();
    assert.equal(r.code, 1);
    assert.equal(r.doc.error.code, "checks_failed");
    const state = r.check("state")!;
    assert.equal(state.status, "fail");
    assert.match(state.message, /^PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nowhere does not answer: .*ECONNREFUSED.*; for target dev$/);
    assert.match(state.fix!, /psql/);
    const blobs = r.check("blobs")!;
    assert.equal(blobs.status, "fail");
    assert.match(blobs.message, /NoSuchBucket/);
    assert.match(blobs.fix!, /create the bucket no-such-bucket-/);
    assert.ok(!JSON.stringify(r.doc).includes("hunter2-secret"), "the password is not in the report");
  });

  it("a config.yaml with a problem fails the backends check with its line and column", () => {
    home("state: { type: postgres, url: \"${env.DOCTOR_NOT_SET}\" }\n");
    const r = doctor();
    assert.equal(r.code, 1);
    const check = r.check("backends")!;
    assert.equal(check.status, "fail");
    assert.match(check.message, /config\.yaml has 1 problem\(s\): .*config\.yaml:1:\d+: environment variable DOCTOR_NOT_SET is not set/);
    assert.match(check.fix!, /export DOCTOR_NOT_SET=/);
  });
});
