// Artifacts and compute environments through the real CLI (SPEC workflow 2): a real wheel built by
// /usr/bin/python3 from a package the test writes, published to dev/val/prod, real venvs with real
// installs, jobs that import the library, immutability, missing versions, retention.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { Slipway } from "../../src/index.js";
import { processAlive } from "../../src/util/run-script.js";
import { BIN, REPO, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { embeddedOnly, homeArchive } from "../helpers/home-backends.js";
import { artifactsProject, dqmPackage, PYTHON } from "../helpers/projects.js";

/** The project's artifacts (the home's artifacts archive: a folder, or the bucket under the backend matrix), under libs/dqm/. */
const STORE = (box: Sandbox) => homeArchive(box.home, "artifacts");
const DQM = "libs/dqm/";
const ENV = (box: Sandbox, target: string, name: string) => join(box.home, "envs", "libs", target, name);

/** What the environment's own python imports (not through Slipway). */
function importInEnv(box: Sandbox, target: string, env: string): string {
  return execFileSync(join(ENV(box, target, env), "bin", "python"), ["-c", "import dqm; print(dqm.check('direct'))"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function runId(stdout: string): string {
  return /^(r\w+)\s+started/m.exec(stdout)![1]!;
}

describe("artifacts and compute environments", () => {
  let box: Sandbox;
  before(() => (box = sandbox(artifactsProject())));
  after(() => box.cleanup());

  const build = (name = "dqm") => {
    const r = box.json(["artifacts", "build", name]);
    assert.equal(r.code, 0, r.stderr);
    return r.doc.builds[0];
  };

  it("builds a wheel offline with the package's own version, reproducibly", () => {
    box.write(dqmPackage("0.9.0"));
    const old = build();
    assert.equal(old.version, "0.9.0");
    assert.equal(box.run(["artifacts", "publish", "dqm", "-t", "val"]).code, 0);

    box.write(dqmPackage("1.0.0"));
    const r = box.run(["artifacts", "build", "dqm"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /built dqm 1\.0\.0 \(python_wheel\) in [\d.]+s: dqm-1\.0\.0-py3-none-any\.whl, [\d.]+ KiB, sha256 [0-9a-f]{12}/);
    const b = box.json(["artifacts", "list"]).doc.artifacts.find((a: any) => a.artifact === "dqm");
    assert.deepEqual(b.built.version, "1.0.0");
    // The package folder is left as it was: the wheel is built in a copy.
    assert.deepEqual(readdirSync(join(box.dir, "modules/platform/libs/dqm")).sort(), [".gitignore", "pyproject.toml", "src"]);
    assert.deepEqual(readdirSync(join(box.dir, "modules/platform/libs/dqm/src")), ["dqm"]);
  });

  it("publishes to dev, val and prod; the same content again is a no-op", () => {
    const r = box.run(["artifacts", "publish", "dqm", "--all-targets"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dqm 1\.0\.0 \(dqm-1\.0\.0-py3-none-any\.whl/);
    assert.match(r.stdout, /dev\s+published/);
    assert.match(r.stdout, /val\s+published/);
    assert.match(r.stdout, /prod\s+published/);
    const again = box.json(["artifacts", "publish", "dqm", "-t", "dev", "-t", "val", "-t", "prod"]);
    assert.equal(again.code, 0);
    assert.deepEqual(again.doc.targets.map((t: any) => [t.target, t.outcome]), [["dev", "unchanged"], ["val", "unchanged"], ["prod", "unchanged"]]);
  });

  it("refuses to publish an existing version with other content, and writes nothing anywhere", () => {
    const published = box.json(["artifacts", "list", "dqm", "-t", "val"]).doc.versions.find((v: any) => v.version === "1.0.0");
    box.write(dqmPackage("1.0.0", " (patched)"));
    build();
    const r = box.run(["artifacts", "publish", "dqm", "-t", "val"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /dqm 1\.0\.0 is already published to val with different content/);
    assert.match(r.stderr, /hint: published versions are immutable: bump the version/);
    assert.equal(box.json(["artifacts", "list", "dqm", "-t", "val"]).doc.versions.find((v: any) => v.version === "1.0.0").sha256, published.sha256);

    // 1.0.1 goes to dev; a different 1.0.1 is then refused for all targets before any is written.
    box.write(dqmPackage("1.0.1"));
    const first = build();
    assert.equal(box.run(["artifacts", "publish", "dqm", "-t", "dev"]).code, 0);
    box.write(dqmPackage("1.0.1", " (patched)"));
    build();
    const all = box.json(["artifacts", "publish", "dqm", "--all-targets"]);
    assert.equal(all.code, 3);
    assert.equal(all.doc.error.code, "version_exists");
    assert.equal(all.doc.error.target, "dev");
    for (const t of ["val", "prod"]) assert.ok(!box.json(["artifacts", "list", "dqm", "-t", t]).doc.versions.some((v: any) => v.version === "1.0.1"), `nothing written to ${t}`);

    // The same sources build the same bytes again, so the release can go on.
    box.write(dqmPackage("1.0.1"));
    assert.equal(build().sha256, first.sha256);
    const ok = box.json(["artifacts", "publish", "dqm", "--all-targets"]);
    assert.equal(ok.code, 0);
    assert.deepEqual(ok.doc.targets.map((t: any) => t.outcome), ["unchanged", "published", "published"]);
  });

  it("lists versions with size, hash, date and publisher, reading only metadata", async () => {
    const r = box.json(["artifacts", "list", "dqm", "-t", "val"]);
    assert.equal(r.code, 0);
    assert.equal(r.doc.type, "python_wheel");
    assert.equal(r.doc.keep_last, 1);
    assert.deepEqual(r.doc.versions.map((v: any) => v.version), ["1.0.1", "1.0.0", "0.9.0"], "newest first");
    for (const v of r.doc.versions) {
      assert.match(v.sha256, /^[0-9a-f]{64}$/);
      assert.ok(v.size > 500 && v.size < 5000, `size ${v.size}`);
      assert.ok(!Number.isNaN(Date.parse(v.created_at)));
      assert.equal(v.published_by, "tester");
      assert.equal(v.filename, `dqm-${v.version}-py3-none-any.whl`);
      assert.deepEqual(v.in_use, []);
    }
    const text = box.run(["artifacts", "list", "dqm", "-t", "val"]);
    assert.match(text.stdout, /VERSION\s+SIZE\s+SHA256\s+PUBLISHED\s+BY\s+IN USE/);
    assert.match(text.stdout, /1\.0\.1\s+[\d.]+ KiB\s+[0-9a-f]{12}\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+tester\s+-/);
    // Metadata is all a listing needs: with the content gone it still works. (The content is moved
    // away rather than made unreadable: root reads files whatever their mode, and `chmod -R 000` on
    // a folder stops a non-root user at that folder and leaves it undeletable.)
    const store = STORE(box);
    const content = await Promise.all((await store.list(`${DQM}files/`)).map(async (key) => ({ key, data: (await store.get(key))! })));
    assert.ok(content.length >= 3, "the wheels are stored");
    for (const { key } of content) await store.delete(key);
    try {
      assert.equal(box.json(["artifacts", "list", "dqm", "-t", "val"]).doc.versions.length, 3);
    } finally {
      for (const { key, data } of content) await store.put(key, data);
    }
  });

  it("deploys a compute environment with its library; a job runs in it and records the version in provenance", () => {
    const d = box.run(["deploy", "-t", "val"]);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.match(d.stdout, /create\s+compute\.etl-cluster/);
    assert.match(d.stdout, /installing dqm 1\.0\.0 \(dqm-1\.0\.0-py3-none-any\.whl\) into etl-cluster/);
    assert.ok(existsSync(join(ENV(box, "val", "etl-cluster"), "bin", "python")));
    assert.equal(importInEnv(box, "val", "etl-cluster"), "dqm 1.0.0 checked direct");

    const r = box.run(["run", "etl", "-t", "val", "--wait"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\[main\] dqm 1\.0\.0 checked rows/);
    assert.match(r.stdout, new RegExp(`\\[main\\] prefix ${ENV(box, "val", "etl-cluster")}`));
    const p = box.json(["runs", "show", runId(r.stdout), "-t", "val"]).doc.provenance;
    assert.equal(p.environment.name, "etl-cluster");
    assert.equal(p.environment.ephemeral, false);
    assert.match(p.environment.python_version, /^3\.\d+\.\d+$/);
    assert.equal(p.environment.libraries.dqm.version, "1.0.0");
    assert.match(p.environment.libraries.dqm.sha256, /^[0-9a-f]{64}$/);

    const list = box.json(["artifacts", "list", "dqm", "-t", "val"]).doc.versions;
    const used = list.find((v: any) => v.version === "1.0.0").in_use;
    assert.deepEqual(
      used.map((u: any) => `${u.by}: ${u.reason}`),
      [
        "compute.etl-cluster: installed",
        "compute.etl-cluster: deployed",
        "job.etl: via compute.etl-cluster",
        "compute.scratch: deployed, ephemeral",
        "job.adhoc: via compute.scratch",
        "job.hold: via compute.scratch",
        "revision 1: compute.etl-cluster",
        "revision 1: compute.scratch",
      ],
    );
    assert.deepEqual(list.find((v: any) => v.version === "1.0.1").in_use, []);
  });

  it("a job whose environment is not deployed to the target is refused", () => {
    // run executes what is deployed: nothing is deployed to prod.
    const r = box.run(["run", "etl", "-t", "prod", "--wait"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /job etl is not deployed to libs\/prod/);
    // From source, the job exists but its environment is not deployed there.
    const fromSource = box.run(["run", "etl", "-t", "prod", "--wait", "--from-source"]);
    assert.equal(fromSource.code, 3);
    assert.match(fromSource.stderr, /job etl runs in compute\.etl-cluster, which is not deployed to libs\/prod/);
  });

  it("installing a version that does not exist fails before anything changes, listing those that do", () => {
    const r = box.run(["artifacts", "install", "dqm@2.0.0", "--into", "etl-cluster", "-t", "val"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /dqm 2\.0\.0 does not exist in the val artifact store; published versions: 1\.0\.1, 1\.0\.0, 0\.9\.0/);
    assert.equal(importInEnv(box, "val", "etl-cluster"), "dqm 1.0.0 checked direct");
    const json = box.json(["artifacts", "install", "dqm@2.0.0", "--into", "etl-cluster", "-t", "val"]);
    assert.equal(json.doc.error.code, "unknown_version");
    assert.equal(box.run(["artifacts", "install", "dqm@1.0.1", "--into", "etl", "-t", "val"]).code, 2, "unknown environment");
    assert.equal(box.run(["artifacts", "install", "dqm@1.0.1", "--into", "scratch", "-t", "val"]).code, 3, "ephemeral environments are made per run");
  });

  it("installs a chosen version into a chosen environment; the next run uses it", () => {
    const r = box.json(["artifacts", "install", "dqm@1.0.1", "--into", "etl-cluster", "-t", "val"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual({ outcome: r.doc.outcome, version: r.doc.version, previous: r.doc.previous }, { outcome: "installed", version: "1.0.1", previous: "1.0.0" });
    assert.equal(importInEnv(box, "val", "etl-cluster"), "dqm 1.0.1 checked direct");
    assert.equal(box.json(["artifacts", "install", "dqm@1.0.1", "--into", "etl-cluster", "-t", "val"]).doc.outcome, "unchanged");
    const run = box.run(["run", "etl", "-t", "val", "--wait"]);
    assert.match(run.stdout, /\[main\] dqm 1\.0\.1 checked rows/);
    assert.equal(box.json(["runs", "show", runId(run.stdout), "-t", "val"]).doc.provenance.environment.libraries.dqm.version, "1.0.1");
    // A redeploy with an unchanged config keeps the version chosen by hand.
    assert.match(box.run(["deploy", "-t", "val"]).stdout, /Nothing to deploy/);
    assert.equal(importInEnv(box, "val", "etl-cluster"), "dqm 1.0.1 checked direct");
    // A folder deleted by hand is made again by the next run, with the versions installed before.
    rmSync(ENV(box, "val", "etl-cluster"), { recursive: true });
    const healed = box.run(["run", "etl", "-t", "val", "--wait"]);
    assert.equal(healed.code, 0, healed.stdout + healed.stderr);
    assert.match(healed.stdout, /\[environment\] the folder of compute\.etl-cluster \(.*\) is missing: making it again with dqm@1\.0\.1/);
    assert.match(healed.stdout, /\[main\] dqm 1\.0\.1 checked rows/);
  });

  it("an ephemeral environment is made for the run that needs it and removed afterwards", () => {
    const r = box.run(["run", "adhoc", "-t", "val", "--wait"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const id = runId(r.stdout);
    assert.match(r.stdout, new RegExp(`\\[environment\\] making the ephemeral environment scratch for run ${id}`));
    assert.match(r.stdout, /\[main\] dqm 1\.0\.0 checked adhoc/);
    const instance = ENV(box, "val", `scratch.${id}`);
    assert.match(r.stdout, new RegExp(`\\[main\\] prefix ${instance}`));
    assert.match(r.stdout, /\[environment\] removed the ephemeral environment scratch/);
    // `logs` shows them too, before the task's lines, as `run --wait` does.
    const logs = box.run(["logs", id, "-t", "val"]);
    assert.match(logs.stdout, new RegExp(`^\\[environment\\] making the ephemeral environment scratch for run ${id}\n(.|\n)*\\[main\\] dqm 1\\.0\\.0 checked adhoc`));
    assert.equal(existsSync(instance), false, "the environment is gone");
    const p = box.json(["runs", "show", id, "-t", "val"]).doc.provenance;
    assert.deepEqual([p.environment.ephemeral, p.environment.instance, p.environment.libraries.dqm.version], [true, id, "1.0.0"]);
    assert.ok(!box.json(["artifacts", "list", "dqm", "-t", "val"]).doc.versions.some((v: any) => v.in_use.some((u: any) => u.by === `run ${id}`)), "its installs are forgotten");
  });

  it("gc shows what it would delete, keeps what is in use, and deletes with --yes", async () => {
    const dry = box.run(["artifacts", "gc", "-t", "val"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /dqm: 3 version\(s\), keep_last 1/);
    assert.match(dry.stdout, /- delete\s+dqm 0\.9\.0/);
    assert.match(dry.stdout, /= keep\s+dqm 1\.0\.0: in use by compute\.etl-cluster \(deployed\)/);
    assert.match(dry.stdout, /Nothing was deleted \(dry run\)/);
    assert.equal(box.json(["artifacts", "list", "dqm", "-t", "val"]).doc.versions.length, 3);

    const doc = box.json(["artifacts", "gc", "-t", "val", "--yes"]).doc;
    assert.equal(doc.dry_run, false);
    assert.deepEqual(doc.delete.map((d: any) => d.version), ["0.9.0"]);
    assert.deepEqual(doc.kept_in_use.map((d: any) => d.version), ["1.0.0"]);
    assert.ok(doc.freed_bytes > 500);
    assert.deepEqual(box.json(["artifacts", "list", "dqm", "-t", "val"]).doc.versions.map((v: any) => v.version), ["1.0.1", "1.0.0"]);
    assert.ok(!(await STORE(box).list(`${DQM}files/`)).some((key) => key.endsWith("dqm-0.9.0-py3-none-any.whl")), "its content is gone too");
    // Other targets are not touched.
    assert.equal(box.json(["artifacts", "list", "dqm", "-t", "prod"]).doc.versions.length, 2);
  });

  it("gc uninstalls installs of versions that are no longer in the store", async () => {
    const record = `${DQM}targets/val/1.0.1.json`;
    assert.ok(await STORE(box).has(record));
    await STORE(box).delete(record); // removed behind Slipway's back
    const doc = box.json(["artifacts", "gc", "-t", "val", "--yes"]).doc;
    assert.deepEqual(doc.stale_installs, [{ environment: "etl-cluster", instance: "", artifact: "dqm", version: "1.0.1" }]);
    assert.throws(() => importInEnv(box, "val", "etl-cluster"), /No module named 'dqm'/);
  });

  it("gc removes an ephemeral environment left behind by a runner that was killed", { skip: embeddedOnly("the runner is a local process killed by its pid") }, async () => {
    const r = box.run(["run", "hold", "-t", "val"]);
    assert.equal(r.code, 0, r.stderr);
    const id = /^(r\w+)/.exec(r.stdout)![1]!;
    const pidFile = join(box.home, "..", "hold.pid");
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"), 20_000, "the hold task");
    const instance = ENV(box, "val", `scratch.${id}`);
    assert.ok(existsSync(join(instance, "bin", "python")));
    const runner = box.json(["runs", "show", id, "-t", "val"]).doc.handle.pid;
    process.kill(runner, "SIGKILL");
    process.kill(-Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    await waitFor(() => !processAlive(runner), 5_000, "the runner to die");
    const doc = box.json(["artifacts", "gc", "-t", "val", "--yes"]).doc;
    assert.deepEqual(doc.stranded_environments.map((e: any) => e.instance), [id]);
    assert.equal(existsSync(instance), false);
    assert.equal(box.json(["runs", "show", id, "-t", "val"]).doc.status, "lost");
  });

  it("the SDK reads the same versions", async () => {
    const slipway = new Slipway({ project: box.dir, target: "prod", home: box.home });
    const listing = await slipway.artifacts.versions("dqm");
    assert.deepEqual(listing.versions.map((v) => v.version), ["1.0.1", "1.0.0"]);
    await assert.rejects(slipway.artifacts.install("dqm@1.0.1", "etl-cluster"), /compute\.etl-cluster is not deployed to libs\/prod/);
  });

  it("npm packages and archives build with their own versions", () => {
    const npm = build("tools");
    assert.deepEqual([npm.type, npm.version, npm.package, npm.filename], ["npm", "0.3.0", "@acme/tools", "acme-tools-0.3.0.tgz"]);
    const listing = execFileSync("tar", ["-tzf", npm.file], { encoding: "utf8" });
    assert.match(listing, /package\/index\.js/);

    const a1 = build("assets");
    assert.match(a1.version, /^[0-9a-f]{12}$/, "derived from the content");
    assert.equal(build("assets").sha256, a1.sha256, "the same content is the same file");
    assert.deepEqual(execFileSync("tar", ["-tzf", a1.file], { encoding: "utf8" }).trim().split("\n"), ["labels.txt", "nested/weights.bin"]);
    box.write({ "modules/platform/assets/labels.txt": "cat\ndog\nbird\n" });
    const a2 = build("assets");
    assert.notEqual(a2.version, a1.version);
    const pub = box.json(["artifacts", "publish", "assets", "-t", "dev"]);
    assert.equal(pub.code, 0);
    assert.equal(box.json(["artifacts", "list", "assets"]).doc.versions[0].version, a2.version);
  });

  it("reports build failures with the tool's output (exit 1) and invalid config with file:line (exit 2)", () => {
    box.write({ "modules/platform/libs/dqm/pyproject.toml": "[project]\nname = 'dqm'\nversion = '1.0.2'\n[build-system\n" });
    const failed = box.run(["artifacts", "build", "dqm"]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /artifact dqm: `\/usr\/bin\/python3 -m pip wheel .*` exited with code \d+/);
    assert.match(failed.stderr, /\|/, "the tool's output is shown");

    box.write({
      "modules/platform/module.yaml": `module: platform
resources:
  artifacts:
    dqm: { type: python_wheel, path: libs/dqm, version: "1.0.0" }
    assets: { type: archive, path: assets }
  compute:
    etl-cluster: { libraries: ["dqn@1.0.0", "assets@1"] }
  jobs:
    etl: { command: "true", compute: { environment: etl-clustr } }
`,
    });
    const invalid = box.run(["validate"]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /module\.yaml:4:\d+: error: artifact "dqm": a python_wheel takes its version from its package metadata/);
    assert.match(invalid.stderr, /module\.yaml:7:\d+: error: compute\.etl-cluster refers to unknown artifact\.dqn\n  hint: did you mean "dqm"\?/);
    assert.match(invalid.stderr, /error: compute\.etl-cluster: assets is an archive artifact; only python_wheel artifacts can be installed/);
    assert.match(invalid.stderr, /module\.yaml:9:\d+: error: job\.etl refers to unknown compute\.etl-clustr\n  hint: did you mean "etl-cluster"\?/);
  });
});

describe("the artifacts example (examples/artifacts)", () => {
  it("CI builds and publishes to dev, val and prod; a person installs a chosen version; jobs see it", () => {
    const root = join(REPO, "examples", "artifacts");
    const files: Record<string, string> = {};
    for (const f of readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (f.isFile()) files[relative(root, join(f.parentPath, f.name))] = readFileSync(join(f.parentPath, f.name), "utf8");
    }
    const box = sandbox(files);
    try {
      const env = { ...box.env, SLIPWAY: `${process.execPath} ${BIN}`, SLIPWAY_VAR_python: PYTHON };
      const sh = (...args: string[]) => spawnSync("bash", args, { cwd: box.dir, env, encoding: "utf8" });
      const ci = sh("ci.sh");
      assert.equal(ci.status, 0, ci.stdout + ci.stderr);
      assert.match(ci.stdout, /built dqm 2\.6\.10/);
      assert.match(ci.stdout, /prod\s+published/);

      assert.equal(box.run(["deploy", "-t", "val"]).code, 0);
      const first = box.run(["run", "quality", "-t", "val", "--wait"]);
      assert.match(first.stdout, /\[main\] day today: \{"dqm": "2\.6\.10", "rows": 3, "missing": 1, "ok": false\}/);

      box.write({ "modules/platform/libs/dqm/pyproject.toml": files["modules/platform/libs/dqm/pyproject.toml"]!.replace('version = "2.6.10"', 'version = "2.6.11"') });
      const merge = sh("ci.sh");
      assert.equal(merge.status, 0, merge.stderr);
      assert.match(merge.stdout, /dqm 2\.6\.11/);
      assert.equal(sh("ci.sh").status, 0, "re-running CI on the same commit changes nothing");
      assert.match(box.run(["run", "quality", "-t", "val", "--wait"]).stdout, /"dqm": "2\.6\.10"/, "publishing installs nothing");

      const missing = sh("install.sh", "2.6.12", "etl-cluster", "val");
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /published versions: 2\.6\.11, 2\.6\.10/);
      const chosen = sh("install.sh", "2.6.11", "etl-cluster", "val");
      assert.equal(chosen.status, 0, chosen.stderr);
      assert.match(chosen.stdout, /installed dqm 2\.6\.11 into compute\.etl-cluster \(quality\/val\), replacing 2\.6\.10/);
      const after = box.run(["run", "quality", "-t", "val", "--wait"]);
      assert.match(after.stdout, /"dqm": "2\.6\.11"/);

      const backfill = box.run(["run", "backfill", "-t", "val", "--param", "day=2026-02-01", "--wait"]);
      assert.match(backfill.stdout, /\[main\] day 2026-02-01: \{"dqm": "2\.6\.10"/);
      assert.deepEqual(readdirSync(join(box.home, "envs", "quality", "val")), ["etl-cluster"], "the backfill's environment is gone");
    } finally {
      box.cleanup();
    }
  });
});
