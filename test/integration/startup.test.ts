// Start-up (issue 14, item 3), as behaviour rather than time (the times are in bench/startup): a
// command loads only what it needs, and the launcher's code cache is written once, in a folder of the
// user's own, and ignored when that folder could hold someone else's code.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";

/** The packages outside the bundle a command required (NODE_DEBUG=module reports each load). */
function loaded(stderr: string): string[] {
  const names = new Set<string>();
  for (const m of stderr.matchAll(/load "[^"]*\/node_modules\/((?:@[^/]+\/)?[^/"]+)/g)) names.add(m[1]!);
  return [...names].sort();
}

describe("start-up", () => {
  let box: Sandbox;
  let cache: string;
  before(() => {
    box = sandbox({
      "slipway.yaml": "project: startup\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
      "modules/m/module.yaml": 'module: m\nresources:\n  jobs:\n    noop:\n      command: "true"\n',
    });
    cache = join(box.home, "..", "compile-cache");
  });
  after(() => box.cleanup());

  it("--version, --help and validate load no database driver, server or cloud client", () => {
    for (const args of [["--version"], ["--help"], ["validate"], ["run", "--help"]]) {
      const r = box.run(args, { NODE_DEBUG: "module", SLIPWAY_COMPILE_CACHE: "0" });
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      const packages = loaded(r.stderr);
      for (const heavy of ["better-sqlite3", "pg", "onnxruntime-node", "@aws-sdk/client-s3"]) assert.ok(!packages.includes(heavy), `slipway ${args.join(" ")} loaded ${heavy}: ${packages.join(", ")}`);
    }
  });

  it("the commands still work when their modules are loaded on first use", () => {
    assert.equal(box.run(["deploy", "--yes"]).code, 0);
    const r = box.run(["run", "noop", "--wait"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /noop on startup\/dev: succeeded/);
    const bad = box.json(["run", "nope", "--wait"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.doc.ok, false);
  });

  it("writes one code cache per command, once, and reuses it", () => {
    const env = { SLIPWAY_COMPILE_CACHE: cache };
    for (const args of [["--version"], ["validate"], ["validate"], ["--version"]]) assert.equal(box.run(args, env).code, 0);
    assert.equal(statSync(cache).mode & 0o777, 0o700, "the cache folder is the user's only");
    const [where, ...others] = readdirSync(cache);
    assert.deepEqual(others, [], "one folder for this bundle and Node");
    const files = readdirSync(join(cache, where!)).sort();
    assert.equal(files.length, 2, `one file per command: ${files.join(", ")}`);
    assert.ok(files.some((f) => f.endsWith("-validate.cache")) && files.some((f) => f.endsWith("-_version.cache")), files.join(", "));
    const before = files.map((f) => statSync(join(cache, where!, f)).mtimeMs);
    assert.equal(box.run(["validate"], env).code, 0);
    assert.deepEqual(files.map((f) => statSync(join(cache, where!, f)).mtimeMs), before, "a run that used the cache does not rewrite it");
    for (const f of files) assert.equal(statSync(join(cache, where!, f)).mode & 0o077, 0, `${f} is readable by the user only`);
  });

  it("does not use a cache folder that others can write to", () => {
    const open = join(box.home, "..", "open-cache");
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = box.run(["validate"], { SLIPWAY_COMPILE_CACHE: open });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(open), [], "nothing read from or written to it");
  });
});
