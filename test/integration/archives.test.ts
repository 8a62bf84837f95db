// The run archives as a new user meets them, through the real CLI (real runner processes, SQLite) and
// the SDK: the task cache in the `cache` archive shared by two homes (a remote cache; also in a real
// S3-compatible server), entries that do not check out ignored with a warning, `archives list`, files a
// job declares as artifacts (symbolic links never followed out), `Slipway.bundle()` and `run --write-bundle`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Slipway } from "../../src/index.js";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { homeArchive } from "../helpers/home-backends.js";
import { awsEnv, createBucket, listObjects, removeBucket, s3Skip, testS3 } from "../helpers/s3.js";

const moduleYaml = `module: m
resources:
  jobs:
    pipeline:
      source: src
      tasks:
        prepare:
          command: 'echo "prepared" > "$SLIPWAY_OUTPUT_DIR/data.txt"; echo prepare-ran'
          cache: true
        report:
          command: 'cat "$SLIPWAY_OUTPUT_DIR/data.txt"; echo "{\\"rows\\": 3}" > "$SLIPWAY_OUTPUT_DIR/results.json"; echo report-ran'
          depends_on: [prepare]
          cache: true
    reports:
      source: src
      command: >-
        mkdir -p "$SLIPWAY_OUTPUT_DIR/reports/sub" "$SLIPWAY_OUTPUT_DIR/img" &&
        echo hello > "$SLIPWAY_OUTPUT_DIR/reports/a.txt" &&
        echo deep > "$SLIPWAY_OUTPUT_DIR/reports/sub/b.txt" &&
        echo skip > "$SLIPWAY_OUTPUT_DIR/reports/c.log" &&
        echo png > "$SLIPWAY_OUTPUT_DIR/img/x.png" &&
        ln -s "$SLIPWAY_HOME/../outside/secret.txt" "$SLIPWAY_OUTPUT_DIR/reports/evil.txt" &&
        ln -s "$SLIPWAY_HOME/../outside" "$SLIPWAY_OUTPUT_DIR/reports/linked"
      artifacts: ["reports/**/*.txt", "**/*.png", "reports/linked/*"]
`;

function project(cache: string): Record<string, string> {
  return {
    "slipway.yaml": `project: arch\ninclude: [modules/*/module.yaml]\narchives:\n  cache: ${cache}\ntargets:\n  dev: { default: true }\n  other: {}\n`,
    "modules/m/module.yaml": moduleYaml,
    "modules/m/src/main.py": "print('hi')\n",
  };
}

const runId = (stdout: string) => /^(r\w+)\s+started/m.exec(stdout)![1]!;

describe("archives", () => {
  let box: Sandbox;
  let shared: string;
  const homeB = () => join(box.dir, "..", "home-b");
  before(() => {
    box = sandbox(project("{ type: fs, path: ../shared-cache }"));
    shared = join(box.dir, "..", "shared-cache");
    mkdirSync(join(box.dir, "..", "outside"), { recursive: true });
    writeFileSync(join(box.dir, "..", "outside", "secret.txt"), "top secret\n");
  });
  after(() => box.cleanup());

  it("a second home with an empty state database gets cache hits from the shared cache archive", () => {
    const a = box.run(["run", "pipeline", "--from-source", "--wait"]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /\[prepare\] prepare-ran/);
    const first = runId(a.stdout);
    const entries = readdirSync(join(shared, "tasks"));
    assert.equal(entries.length, 2, "one entry per cached task");
    const entry = JSON.parse(readFileSync(join(shared, "tasks", entries[0]!), "utf8"));
    assert.equal(entry.run_id, first);
    assert.match(entry.digest, /^[0-9a-f]{64}$/);

    const b = box.run(["run", "pipeline", "--from-source", "--wait"], { SLIPWAY_HOME: homeB() });
    assert.equal(b.code, 0, b.stderr);
    assert.doesNotMatch(b.stdout, /prepare-ran|report-ran/, "neither task ran again");
    assert.match(b.stdout, new RegExp(`\\[prepare\\] cache hit: reusing the outputs of run ${first} \\(task prepare, from the cache archive\\)`));
    const second = box.json(["runs", "show", runId(b.stdout)], { SLIPWAY_HOME: homeB() }).doc;
    assert.deepEqual(second.tasks.map((t: any) => [t.task, t.status, t.cached_from]), [["prepare", "cached", first], ["report", "cached", first]]);
    assert.deepEqual(second.results, { rows: 3 }, "the outputs came back from the archive");
  });

  it("an entry that does not check out is ignored with a warning and the task runs", () => {
    const tasks = join(shared, "tasks");
    const read = (f: string) => JSON.parse(readFileSync(join(tasks, f), "utf8"));
    const files = readdirSync(tasks);
    const prepare = files.find((f) => read(f).task === "prepare")!;
    const report = files.find((f) => read(f).task === "report")!;
    const good = readFileSync(join(tasks, prepare), "utf8");
    const runIn = (home: string) => box.run(["run", "pipeline", "--from-source", "--wait"], { SLIPWAY_HOME: join(box.dir, "..", home) });

    // Edited without its digest: refused.
    const edited = read(prepare);
    edited.run_id = "r-forged";
    writeFileSync(join(tasks, prepare), JSON.stringify(edited));
    let r = runIn("home-c");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[prepare\] warning: ignoring the cache archive's entry tasks\/[0-9a-f]{64}\.json: its digest does not match its content; running the task/);
    assert.match(r.stdout, /\[prepare\] prepare-ran/);
    assert.doesNotMatch(r.stdout, /r-forged/);

    // A valid entry copied under another key (report's entry where prepare's belongs): refused.
    writeFileSync(join(tasks, prepare), readFileSync(join(tasks, report)));
    r = runIn("home-d");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[prepare\] warning: ignoring .*: it is the entry of another key/);
    assert.match(r.stdout, /\[prepare\] prepare-ran/);

    // A valid entry whose file content was changed in the archive: refused when restoring.
    writeFileSync(join(tasks, prepare), good);
    const sha = JSON.parse(good).outputs["data.txt"];
    writeFileSync(join(shared, "files", sha), "tampered\n");
    r = runIn("home-e");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[prepare\] warning: ignoring the cache archive's entry of run \w+: archived output data.txt: the stored content does not match its sha256/);
    assert.match(r.stdout, /\[prepare\] prepare-ran/);
    // The tampered content was removed and stored again, right, by the run that produced it.
    assert.equal(readFileSync(join(shared, "files", sha), "utf8"), "prepared\n");
    r = runIn("home-f");
    assert.match(r.stdout, /\[prepare\] cache hit: .*from the cache archive/);
  });

  it("archives list groups an archive's blobs, limits them to one run, and refuses unknown kinds", () => {
    const [latest] = box.json(["runs"]).doc.runs;
    const all = box.json(["archives", "list", "stage_logs"]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.doc.kind, "stage_logs");
    assert.ok(all.doc.groups.some((g: any) => g.name === `runs/${latest.id}`));
    const one = box.json(["archives", "list", "stage_logs", "--run", latest.id.slice(0, 10)]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.doc.run, latest.id);
    assert.deepEqual(one.doc.groups.map((g: any) => g.name), [`runs/${latest.id}`]);
    assert.deepEqual(one.doc.groups[0].entries.map((e: any) => e.key), [`runs/${latest.id}/prepare.log`, `runs/${latest.id}/report.log`]);
    for (const e of one.doc.groups[0].entries) assert.ok(e.size > 0 && Date.parse(e.modified) > 0, JSON.stringify(e));

    const cache = box.json(["archives", "list", "cache"]).doc;
    assert.deepEqual(cache.groups.map((g: any) => g.name), ["files", "tasks"]);
    assert.equal(cache.groups[1].count, 2);
    assert.equal(cache.location, join(box.dir, "..", "shared-cache"));
    // This home's run wrote both entries; the other homes' runs above have since rewritten prepare's.
    const cacheOfRun = box.json(["archives", "list", "cache", "--run", latest.id]).doc;
    assert.equal(cacheOfRun.count, 1);
    assert.equal(JSON.parse(readFileSync(join(shared, cacheOfRun.groups[0].entries[0].key), "utf8")).task, "report");

    // Another target's runs share the default archive folders: counted, not listed.
    assert.equal(box.run(["run", "reports", "--from-source", "--wait", "-t", "other"]).code, 0);
    const withOther = box.json(["archives", "list", "stage_logs"]).doc;
    assert.ok(withOther.hidden >= 1, "the other target's log is hidden");
    assert.ok(!withOther.groups.some((g: any) => g.entries.some((e: any) => e.key.endsWith("/main.log"))));
    const otherRun = box.json(["runs", "-t", "other"]).doc.runs[0].id;
    assert.equal(box.json(["archives", "list", "stage_logs", "--run", otherRun]).doc.error.code, "unknown_run");

    const text = box.run(["archives", "list", "stage_logs", "--run", latest.id]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`stage_logs at .*, run ${latest.id}: 2 blob\\(s\\)`));
    assert.match(text.stdout, /runs\/\w+\/prepare\.log {2}\d+ B/);
    const bad = box.json(["archives", "list", "cahce"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.doc.error.code, "unknown_archive_kind");
    assert.match(bad.doc.error.diagnostics[0].hint, /did you mean "cache"/);
  });

  it("declared artifacts land in the artifacts archive; links out of the output folder are not followed", async () => {
    const r = box.run(["run", "reports", "--from-source", "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    const id = runId(r.stdout);
    const details = box.json(["runs", "show", id]).doc;
    assert.deepEqual(Object.keys(details.provenance.artifacts).sort(), ["img/x.png", "reports/a.txt", "reports/sub/b.txt"]);
    assert.equal(details.provenance.artifacts["reports/a.txt"].size, 6);
    // The home's artifacts archive: a folder, or the bucket under the backend matrix.
    const archive = homeArchive(box.home, "artifacts");
    const stored = `runs/${id}/artifacts/`;
    assert.equal((await archive.get(`${stored}reports/a.txt`))?.toString("utf8"), "hello\n");
    assert.equal(await archive.has(`${stored}reports/evil.txt`), false, "a linked file is not copied");
    assert.deepEqual((await archive.list(`${stored}reports/linked`)), [], "a linked folder is not entered");
    const shown = box.run(["runs", "show", id]);
    assert.match(shown.stdout, /artifacts \(slipway archives list artifacts --run \w+\):\n {4}img\/x\.png {2}4 B\n {4}reports\/a\.txt {2}6 B/);
    assert.doesNotMatch(shown.stdout + JSON.stringify(details), /top secret/);
    const listed = box.json(["archives", "list", "artifacts", "--run", id]).doc;
    assert.deepEqual(listed.groups[0].entries.map((e: any) => e.key), [`runs/${id}/artifacts/img/x.png`, `runs/${id}/artifacts/reports/a.txt`, `runs/${id}/artifacts/reports/sub/b.txt`]);
  });

  it("bad artifact patterns are refused with file and line", () => {
    const bad = sandbox({
      ...project("{ type: fs, path: ../c }"),
      "modules/m/module.yaml": moduleYaml.replace('artifacts: ["reports/**/*.txt", "**/*.png", "reports/linked/*"]', 'artifacts: ["ok/*.txt", "../escape/*", "/etc/passwd"]'),
    });
    try {
      const { code, doc } = bad.json(["validate"]);
      assert.equal(code, 2);
      const d = doc.error.diagnostics.map((x: any) => `${x.file}:${x.line} ${x.message}`);
      assert.equal(d.length, 2, d.join("\n"));
      assert.match(d[0], /^modules\/m\/module\.yaml:24 job "reports": artifact pattern "\.\.\/escape\/\*" contains "\.\."/);
      assert.match(d[1], /^modules\/m\/module\.yaml:24 job "reports": artifact pattern "\/etc\/passwd" is absolute/);
    } finally {
      bad.cleanup();
    }
  });

  it("run --write-bundle writes the run's .tgz next to its working folder; Slipway.bundle() describes the same bundle", async () => {
    const r = box.json(["run", "reports", "--from-source", "--wait", "--write-bundle"]);
    assert.equal(r.code, 0, r.stderr);
    const file = r.doc.provenance.bundle.archive_file;
    assert.equal(file, join(box.home, "runs", r.doc.id, "bundle.tgz"));
    const listing = execFileSync("tar", ["tzf", file], { encoding: "utf8" }).split("\n");
    assert.ok(listing.some((l) => l.endsWith(".slipway/job.json")) && listing.some((l) => l.endsWith("main.py")), listing.join(", "));
    // The archive runs as it is.
    const again = box.run(["run", "reports", "--from-source", "--wait", "--bundle", file]);
    assert.equal(again.code, 0, again.stderr);

    const slipway = new Slipway({ project: box.dir, home: box.home });
    const b = await slipway.bundle("reports");
    assert.equal(b.hash, r.doc.bundle, "the bundle a run of the job records");
    assert.equal(b.out, null);
    assert.ok(b.manifest.some((f) => f.path === ".slipway/job.json" && /^[0-9a-f]{64}$/.test(f.sha256)));
    assert.equal(b.files, b.manifest.length);
    const out = join(box.dir, "..", "reports.tgz");
    const written = await slipway.bundle("reports", { out });
    assert.equal(written.hash, b.hash);
    assert.ok(existsSync(out) && written.archiveBytes! > 0);
    const listed = await slipway.archives.list("job_source", { run: r.doc.id });
    assert.deepEqual(listed.groups.map((g) => g.entries.map((e) => e.key)), [[`bundles/${b.hash}.json`]]);
    await assert.rejects(slipway.archives.list("nope"), /no archive kind "nope"/);
  });
});

describe("archives: a cache archive in S3 shared by two homes", { skip: s3Skip }, () => {
  let box: Sandbox;
  let bucket = "";
  before(async () => {
    bucket = await createBucket("slipway-cache");
    box = sandbox(project(`{ type: s3, bucket: ${bucket}, prefix: team/cache, endpoint: "${testS3!.endpoint}", region: ${testS3!.region} }`));
  });
  after(async () => {
    box?.cleanup();
    if (bucket) await removeBucket(bucket);
  });

  it("the second home reuses the first home's outputs from the bucket", async () => {
    const a = box.run(["run", "pipeline", "--from-source", "--wait"], awsEnv());
    assert.equal(a.code, 0, a.stderr);
    const keys = (await listObjects(bucket, "team/cache/")).map((o) => o.key);
    assert.equal(keys.filter((k) => /^team\/cache\/tasks\/[0-9a-f]{64}\.json$/.test(k)).length, 2, keys.join(", "));
    assert.ok(keys.some((k) => /^team\/cache\/files\/[0-9a-f]{64}$/.test(k)));
    const b = box.run(["run", "pipeline", "--from-source", "--wait"], { ...awsEnv(), SLIPWAY_HOME: join(box.dir, "..", "home-b") });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /\[prepare\] cache hit: reusing the outputs of run r\w+ \(task prepare, from the cache archive\)/);
    assert.doesNotMatch(b.stdout, /prepare-ran|report-ran/);
    const listed = box.json(["archives", "list", "cache"], awsEnv()).doc;
    assert.match(listed.location, new RegExp(`^s3://${bucket}/team/cache/`));
    const tasks = listed.groups.find((g: any) => g.name === "tasks");
    assert.equal(tasks.count, 2);
    for (const e of tasks.entries) assert.ok(e.size > 0 && Date.parse(e.modified) > 0);
  });
});
