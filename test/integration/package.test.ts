// Installable as a tool: `npm pack` makes a tarball that `npm install -g` installs into a fresh
// prefix, and the installed `slipway` works from any folder (init, validate, deploy, destroy,
// doctor, completion), away from this repository.
//
// Kept quick: dependencies come from the npm cache that `npm ci` filled (--prefer-offline: the
// registry only for what is missing), and better-sqlite3's install script finds its native module
// as a local prebuild made from this repository's own build instead of compiling it (about two
// minutes on two cores). Everything else is the real install: npm's dependency tree, bin links,
// install scripts (onnxruntime-node's skipped with ONNXRUNTIME_NODE_INSTALL=skip, as the README says).
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO, waitFor } from "../helpers/cli.js";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { name: string; version: string };

/** The file name prebuild-install looks for (the name of the release asset it would download). */
function prebuildName(): string {
  const require = createRequire(join(REPO, "node_modules", "better-sqlite3", "package.json"));
  const util = require("prebuild-install/util") as { getDownloadUrl(opts: unknown): string };
  const rc = require("prebuild-install/rc") as (pkg: unknown) => Record<string, unknown>;
  const sqlitePkg = require("./package.json");
  return basename(util.getDownloadUrl({ ...rc(sqlitePkg), pkg: sqlitePkg }));
}

describe("npm pack + npm install -g", { timeout: 600_000 }, () => {
  let root: string;
  let prefix: string;
  let slipway: string;
  let env: NodeJS.ProcessEnv;
  let tarball: string;
  let packed: string[];

  before(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), "slipway-pack-")));
    prefix = join(root, "prefix");
    const prebuilds = join(root, "prebuilds");
    mkdirSync(prebuilds);
    // better-sqlite3's native module, built by `npm ci` here, as the prebuild it would download.
    execFileSync("tar", ["-czf", join(prebuilds, prebuildName()), "-C", join(REPO, "node_modules", "better-sqlite3"), "build/Release/better_sqlite3.node"]);
    const npmEnv: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
    for (const k of Object.keys(npmEnv)) if (k.startsWith("npm_package_") || k === "npm_lifecycle_event" || k === "npm_config_prefix") delete npmEnv[k];
    // dist/ is built by the test command; --ignore-scripts only skips the rebuild `prepare` would do.
    const out = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", root], { cwd: REPO, env: npmEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const info = JSON.parse(out)[0] as { filename: string; files: Array<{ path: string }> };
    tarball = join(root, info.filename);
    packed = info.files.map((f) => f.path);
    const install = spawnSync("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", tarball], {
      cwd: root,
      env: { ...npmEnv, ONNXRUNTIME_NODE_INSTALL: "skip", npm_config_better_sqlite3_local_prebuilds: prebuilds },
      encoding: "utf8",
      timeout: 540_000,
    });
    assert.equal(install.status, 0, `npm install -g failed:\n${install.stdout}\n${install.stderr}`);
    slipway = join(prefix, "bin", "slipway");
    env = { PATH: `${join(prefix, "bin")}:${process.env.PATH}`, HOME: join(root, "home"), SLIPWAY_HOME: join(root, "slipway-home"), SLIPWAY_SERVER_PORT: "0", SLIPWAY_USER: "tester", NO_COLOR: "1", TMPDIR: process.env.TMPDIR ?? tmpdir() };
    mkdirSync(join(root, "home"));
    mkdirSync(join(root, "work"));
  });

  after(() => {
    if (slipway && existsSync(slipway)) spawnSync(slipway, ["server", "stop"], { env, stdio: "ignore" });
    rmSync(root, { recursive: true, force: true });
  });

  const run = (args: string[], cwd = join(root, "work")) => {
    const r = spawnSync("slipway", args, { cwd, env, encoding: "utf8" });
    return { code: r.status, out: r.stdout + r.stderr };
  };

  it("packs the CLI, the SDK and the templates, and nothing of the repository's tests or sources", () => {
    assert.equal(basename(tarball), `${pkg.name}-${pkg.version}.tgz`);
    for (const f of ["bin/slipway.cjs", "dist/cli.cjs", "dist/inference-writer.cjs", "dist/serving/inference-writer.js", "dist/index.js", "dist/index.d.ts", "dist/web/index.html", "package.json", "README.md", "templates/ml/README.md", "templates/ml/gitignore", "templates/minimal/modules/app/deploy.sh"]) {
      assert.ok(packed.includes(f), `${f} is in the package`);
    }
    assert.ok(!packed.some((f) => f.startsWith("test/") || f.startsWith("src/") || f.startsWith("examples/")), "no tests, sources or examples");
  });

  it("installs a working `slipway` on PATH, outside the repository", () => {
    assert.ok(existsSync(slipway));
    const v = run(["--version"]);
    assert.equal(v.code, 0, v.out);
    assert.equal(v.out.trim(), pkg.version);
    const installed = realpathSync(join(prefix, "lib", "node_modules", "slipway"));
    assert.ok(!installed.startsWith(REPO), "runs from the installed copy");
  });

  it("the installed command starts a project and deploys, runs, destroys it", () => {
    const init = run(["init", "demo", "--template", "modules"]);
    assert.equal(init.code, 0, init.out);
    const dir = join(root, "work", "demo");
    assert.ok(existsSync(join(dir, ".gitignore")));
    for (const args of [["validate"], ["doctor"], ["deploy"], ["run", "build_features", "--wait"], ["status"], ["destroy", "--yes"]]) {
      const r = run(args, dir);
      assert.equal(r.code, 0, `slipway ${args.join(" ")}:\n${r.out}`);
    }
    assert.match(run(["history"], dir).out, /^2 +destroy +succeeded/m);
  });

  it("the installed server starts the inference log's writer thread (a file of its own beside the CLI bundle)", async () => {
    const server = spawn("slipway", ["server", "--port", "0", "--no-bootstrap"], { cwd: join(root, "work"), env, stdio: "ignore" });
    try {
      const status = () => JSON.parse(spawnSync("slipway", ["server", "status", "--json"], { env, encoding: "utf8" }).stdout) as { running: boolean; inference_log: { written: number; dropped: number } | null };
      await waitFor(() => server.exitCode !== null || status().running, { timeoutMs: 30_000, what: "the installed server to start" });
      const s = status();
      assert.equal(s.running, true, "the server started (it could load its writer thread)");
      assert.deepEqual([s.inference_log?.written, s.inference_log?.dropped], [0, 0]);
      assert.equal(run(["server", "stop"]).code, 0);
    } finally {
      if (server.exitCode === null) server.kill();
    }
  });

  it("prints completion scripts for bash and zsh", () => {
    const bash = run(["completion", "bash"]);
    assert.equal(bash.code, 0);
    assert.match(bash.out, /complete -F _slipway_complete slipway/);
    const zsh = run(["completion", "zsh"]);
    assert.match(zsh.out, /^#compdef slipway/);
    const check = spawnSync("bash", ["-n"], { input: bash.out, encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
  });
});
