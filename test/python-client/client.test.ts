// The Python client (clients/python) against a real `slipway server`: its unittest suite runs with
// Debian's python3, offline, on a copy of examples/python (deploy, runs, models, endpoint
// queries, errors, and the OpenAPI check that every route it calls exists). Its source upload must
// give the CLI's bundle hash (the same files, the same tree), also for a tree with ignore rules,
// executables, links and a folder large enough to be paged. And the client is released with
// Slipway's artifacts feature: the wheel `slipway artifacts build` makes installs into a fresh venv.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { scanSource } from "../../src/bundles/index.js";
import { BIN, REPO } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const PYTHON = "/usr/bin/python3";
const CLIENT = join(REPO, "clients", "python");

/** Runs python with the client on its path (no bytecode written into the repository). */
function python(args: string[], env: NodeJS.ProcessEnv = {}, cwd = CLIENT) {
  return spawnSync(PYTHON, args, { cwd, encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, PYTHONPATH: CLIENT, PYTHONDONTWRITEBYTECODE: "1", ...env }, timeout: 300_000 });
}

async function cliHash(dir: string, scratch: string): Promise<string> {
  return (await scanSource(dir, join(scratch, `index-${Math.random()}`))).hash;
}

describe("the Python client", () => {
  let server: TestServer;
  let scratch: string;
  let project: string;

  before(async () => {
    server = await startTestServer();
    scratch = mkdtempSync(join(tmpdir(), "slipway-python-"));
    project = join(scratch, "project");
    cpSync(join(REPO, "examples", "python"), project, { recursive: true });
    // what the project's .gitignore leaves out must not change its hash on either side
    mkdirSync(join(project, "scratch"));
    writeFileSync(join(project, "scratch", "big.bin"), "x".repeat(1000));
    writeFileSync(join(project, "train.log"), "a log\n");
  });
  after(async () => {
    await server?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("passes its unittest suite against a real server (nothing skipped)", async () => {
    const r = python(["-m", "unittest", "discover", "-v", "-s", "tests", "-t", "."], {
      SLIPWAY_TEST_URL: server.url,
      SLIPWAY_TEST_TOKEN: server.token,
      SLIPWAY_TEST_PROJECT: project,
      SLIPWAY_TEST_SOURCE_HASH: await cliHash(project, scratch),
    });
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, out);
    assert.match(out, /\nOK\n/, out);
    assert.doesNotMatch(out, /skipped/, out);
    const ran = Number(/Ran (\d+) tests/.exec(out)?.[1]);
    assert.ok(ran >= 25, out);
  });

  it("uploads the bundle the CLI would: ignore rules, executables, links, a paged folder", async () => {
    const dir = join(scratch, "tree");
    mkdirSync(join(dir, "many"), { recursive: true });
    mkdirSync(join(dir, "sub", "deep", "cache"), { recursive: true });
    mkdirSync(join(dir, ".git"));
    writeFileSync(join(dir, "slipway.yaml"), "project: tree\n");
    writeFileSync(join(dir, ".gitignore"), "*.tmp\n!keep.tmp\n/top-only.txt\nbuild/\n**/cache\ndocs/*.md\n");
    writeFileSync(join(dir, ".slipwayignore"), "secret*\n");
    writeFileSync(join(dir, "sub", ".gitignore"), "*.out\n/anchored.txt\n");
    for (const [p, text] of Object.entries({
      "a.tmp": "x", "keep.tmp": "kept", "top-only.txt": "x", "sub/top-only.txt": "kept", "sub/anchored.txt": "x", "sub/deep/anchored.txt": "kept",
      "sub/x.out": "x", "sub/deep/cache/c.txt": "x", "secret.env": "x", "docs/a.md": "x", "docs/more/b.md": "kept", "build/b.txt": "x", ".git/HEAD": "x",
      "héllo wörld.txt": "unicode name", "quote\"name.txt": "q", "run.sh": "#!/bin/sh\necho hi\n",
    })) {
      mkdirSync(join(dir, p, ".."), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    chmodSync(join(dir, "run.sh"), 0o755);
    for (let i = 0; i < 60; i++) writeFileSync(join(dir, "many", `file-${String(i).padStart(3, "0")}.txt`), `file ${i}\n`);
    symlinkSync("run.sh", join(dir, "link-inside"));
    symlinkSync("/etc/hostname", join(dir, "link-outside"));
    symlinkSync("missing", join(dir, "link-dangling"));
    const r = python(["-c", "import sys, json; from slipway._source import Source; s = Source(sys.argv[1]); print(json.dumps({'hash': s.hash, 'files': sorted(s.files), 'skipped': sorted(s.skipped)}))", dir]);
    assert.equal(r.status, 0, r.stderr);
    const py = JSON.parse(r.stdout) as { hash: string; files: string[]; skipped: string[] };
    const ts = await scanSource(dir, join(scratch, "tree-index"));
    assert.deepEqual(py.files, ts.files.map((f) => f.path).sort());
    assert.deepEqual(py.skipped, [...ts.skipped].sort());
    assert.ok(py.files.includes("keep.tmp") && py.files.includes("sub/deep/anchored.txt") && py.files.includes("docs/more/b.md") && !py.files.includes("a.tmp"), py.files.join(", "));
    assert.equal(py.hash, ts.hash);
  });

  it("is released as a wheel by `slipway artifacts build` and `publish`; the wheel installs into a fresh venv and imports", () => {
    const home = join(scratch, "release-home");
    const out = join(scratch, "wheels");
    const env = { ...process.env, SLIPWAY_HOME: home, NO_COLOR: "1" };
    const build = spawnSync(process.execPath, [BIN, "artifacts", "build", "slipway-client", "--project", CLIENT, "--out", out, "--json"], { env, encoding: "utf8", timeout: 300_000 });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    const version = /^version = "([^"]+)"/m.exec(readFileSync(join(CLIENT, "pyproject.toml"), "utf8"))![1]!;
    const wheels = readdirSync(out);
    assert.deepEqual(wheels, [`slipway_client-${version}-py3-none-any.whl`]);
    // released to the project's release target: immutable, so a rebuild of the same code is "unchanged"
    const publish = (): { version: string; targets: Array<{ target: string; outcome: string }> } => {
      const r = spawnSync(process.execPath, [BIN, "artifacts", "publish", "slipway-client", "--project", CLIENT, "--json"], { env, encoding: "utf8", timeout: 120_000 });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      return JSON.parse(r.stdout);
    };
    const published = publish();
    assert.equal(published.version, version);
    assert.deepEqual(published.targets.map((t) => [t.target, t.outcome]), [["release", "published"]]);
    assert.deepEqual(publish().targets.map((t) => t.outcome), ["unchanged"]);
    const venv = join(scratch, "venv");
    const made = spawnSync(PYTHON, ["-m", "venv", venv], { encoding: "utf8" });
    assert.equal(made.status, 0, made.stderr);
    const pip = spawnSync(join(venv, "bin", "python"), ["-m", "pip", "install", "--no-index", "--no-deps", join(out, wheels[0]!)], { encoding: "utf8", timeout: 300_000 });
    assert.equal(pip.status, 0, pip.stdout + pip.stderr);
    // from the venv, not the checkout: the current folder is the scratch folder, no PYTHONPATH
    const imported = spawnSync(join(venv, "bin", "python"), ["-c", "import slipway; print(slipway.__version__, slipway.__file__)"], { cwd: scratch, encoding: "utf8", env: { PATH: process.env.PATH } });
    assert.equal(imported.status, 0, imported.stderr);
    const [shown, file] = imported.stdout.trim().split(" ");
    assert.equal(shown, version);
    assert.ok(file!.startsWith(venv), file);
  });
});
