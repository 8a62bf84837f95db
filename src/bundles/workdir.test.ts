// Working folders reused between runs: each run gets a folder of its own holding exactly its bundle,
// whatever the previous run did in its folder, and nothing a task writes reaches the blob store.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, truncate, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FsBlobStore } from "../store/blobs/fs/fs-blob-store.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import { captureBundle, checkoutBundle, releaseSlot, returnWorkDir, type CaptureResult } from "./index.js";
import { POOL_SIZE } from "./workdir.js";
import { listTree, writeTree } from "../../test/helpers/files.js";

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "slipway-workdir-"));
});
after(async () => {
  // a test may leave a folder without rights; the owner can always give them back
  await chmodTree(tmp).catch(() => {});
  await rm(tmp, { recursive: true, force: true });
});
async function chmodTree(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) await chmodTree(join(dir, e.name));
}
let counter = 0;
async function fresh(name: string): Promise<string> {
  const dir = join(tmp, `${name}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}
/** The folder holds exactly the bundle: the same paths (and folders), contents and modes. */
async function assertIsBundle(work: string, bundle: CaptureResult): Promise<void> {
  const dirs = new Set<string>();
  for (const f of bundle.manifest.files) {
    const parts = f.path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  assert.deepEqual(await listTree(work), [...bundle.manifest.files.map((f) => f.path), ...dirs].sort());
  for (const f of bundle.manifest.files) {
    assert.equal(sha256(await readFile(join(work, f.path))), f.sha256, f.path);
    assert.equal((await stat(join(work, f.path))).mode & 0o7777, f.mode, f.path);
  }
}
/** Every blob in the store still holds the content its key names. */
async function assertStoreIntact(blobs: FsBlobStore): Promise<void> {
  for (const key of [...(await blobs.list("files/")), ...(await blobs.list("trees/"))]) {
    assert.equal(sha256((await blobs.get(key))!), key.split("/")[1], key);
  }
}

const SOURCE = {
  "train.py": "print('train')\n",
  "data/config.json": '{"lr": 0.1}\n',
  "data/big.bin": "x".repeat(100_000),
  "lib/util.py": "def f():\n    return 1\n",
  "lib/deep/more.py": "X = 1\n",
  "run.sh": "#!/bin/sh\necho run\n",
};

async function setup(): Promise<{ blobs: FsBlobStore; bundle: CaptureResult; src: string; pool: { cacheDir: string; pool: string }; runs: string }> {
  const src = await fresh("src");
  await writeTree(src, SOURCE);
  await chmod(join(src, "run.sh"), 0o755);
  const blobs = new FsBlobStore(await fresh("blobs"));
  const bundle = await captureBundle(blobs, { sourceDir: src });
  return { blobs, bundle, src, pool: { cacheDir: await fresh("cache"), pool: "job1" }, runs: await fresh("runs") };
}

describe("checkoutBundle and returnWorkDir", () => {
  it("writes the bundle the first time, then reuses the folder and writes nothing when nothing changed", async () => {
    const { blobs, bundle, pool, runs } = await setup();
    const one = await checkoutBundle(blobs, bundle.hash, join(runs, "r1", "work"), pool);
    assert.equal(one.reused, false);
    assert.equal(one.filesWritten, bundle.manifest.files.length);
    await assertIsBundle(one.workDir, bundle);
    returnWorkDir(one, pool);
    assert.equal(existsSync(join(runs, "r1", "work")), false);
    assert.equal(existsSync(join(runs, "r1", "work.slot")), false);

    const two = await checkoutBundle(blobs, bundle.hash, join(runs, "r2", "work"), pool);
    assert.equal(two.reused, true);
    assert.equal(two.filesWritten, 0);
    assert.equal(two.removed, 0);
    assert.equal(two.filesKept, bundle.manifest.files.length);
    await assertIsBundle(two.workDir, bundle);
    returnWorkDir(two, pool);
  });

  it("a task writing into its working folder changes neither the stored blobs nor the next run's input", async () => {
    const { blobs, bundle, pool, runs } = await setup();
    const outside = await fresh("outside");
    await writeFile(join(outside, "precious.txt"), "keep me");
    const run1 = await checkoutBundle(blobs, bundle.hash, join(runs, "r1", "work"), pool);
    const w = run1.workDir;
    // what tasks do to their source folder
    await appendFile(join(w, "train.py"), "print('appended in place')\n"); // write in place
    const cfg = join(w, "data/config.json");
    const { mtime } = await stat(cfg);
    await writeFile(cfg, '{"lr": 0.9}\n'); // same size, and the mtime put back: only ctime tells
    await utimes(cfg, mtime, mtime);
    await truncate(join(w, "data/big.bin"), 10); // shrunk in place
    await rm(join(w, "lib/util.py")); // deleted
    await writeFile(join(w, "lib/util.py.bak"), "x"); // added
    await mkdir(join(w, "__pycache__"));
    await writeFile(join(w, "__pycache__/train.cpython-312.pyc"), "bytecode");
    await chmod(join(w, "train.py"), 0o755); // mode changed
    await rm(join(w, "lib/deep"), { recursive: true });
    await symlink(outside, join(w, "lib/deep")); // a folder replaced by a link to outside
    await chmod(join(w, "data"), 0o500); // a folder made read-only
    await assertStoreIntact(blobs);
    returnWorkDir(run1, pool);
    await assertStoreIntact(blobs);

    const run2 = await checkoutBundle(blobs, bundle.hash, join(runs, "r2", "work"), pool);
    assert.equal(run2.reused, true);
    await assertIsBundle(run2.workDir, bundle);
    assert.ok(run2.filesWritten >= 5 && run2.filesWritten < bundle.manifest.files.length, `${run2.filesWritten} written`);
    assert.deepEqual(await readdir(outside), ["precious.txt"]);
    assert.equal(await readFile(join(outside, "precious.txt"), "utf8"), "keep me");
    await assertStoreIntact(blobs);
    returnWorkDir(run2, pool);
  });

  it("two runs at once never share a folder, and the pool keeps at most POOL_SIZE folders", async () => {
    const { blobs, bundle, pool, runs } = await setup();
    const first = await checkoutBundle(blobs, bundle.hash, join(runs, "r0", "work"), pool);
    returnWorkDir(first, pool);
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((r) => checkoutBundle(blobs, bundle.hash, join(runs, r, "work"), pool)));
    assert.equal([a, b, c].filter((x) => x!.reused).length, 1, "one kept folder: one run reuses it, the others get their own");
    await writeFile(join(a!.workDir, "train.py"), "changed by a");
    for (const x of [b!, c!]) assert.equal(await readFile(join(x.workDir, "train.py"), "utf8"), SOURCE["train.py"]);
    for (const x of [a!, b!, c!]) returnWorkDir(x, pool);
    assert.equal((await readdir(join(pool.cacheDir, pool.pool))).filter((n) => !n.startsWith(".")).length, POOL_SIZE);
    const next = await checkoutBundle(blobs, bundle.hash, join(runs, "d", "work"), pool);
    await assertIsBundle(next.workDir, bundle);
    returnWorkDir(next, pool);
  });

  it("a run of a bundle with one changed file rewrites only that file", async () => {
    const { blobs, bundle, src, pool, runs } = await setup();
    const one = await checkoutBundle(blobs, bundle.hash, join(runs, "r1", "work"), pool);
    returnWorkDir(one, pool);
    await writeFile(join(src, "lib/util.py"), "def f():\n    return 2\n");
    const changed = await captureBundle(blobs, { sourceDir: src });
    const two = await checkoutBundle(blobs, changed.hash, join(runs, "r2", "work"), pool);
    assert.equal(two.reused, true);
    assert.equal(two.filesWritten, 1);
    assert.equal(two.removed, 1);
    await assertIsBundle(two.workDir, changed);
    returnWorkDir(two, pool);
    // and back: the folder of the newer bundle serves the older one
    const three = await checkoutBundle(blobs, bundle.hash, join(runs, "r3", "work"), pool);
    assert.equal(three.filesWritten, 1);
    await assertIsBundle(three.workDir, bundle);
  });

  it("a state.json that does not list the bundle is not trusted, even by the process that captured the bundle", async () => {
    // this process captured the bundle last: a checkout compares state.json with that list instead of
    // hashing it; a state that differs (a file's sha256 changed, or one missing) must still be caught
    const { blobs, bundle, pool, runs } = await setup();
    const one = await checkoutBundle(blobs, bundle.hash, join(runs, "r1", "work"), pool);
    await writeFile(join(one.workDir, "train.py"), "print('changed by the task')\n");
    await rm(join(one.workDir, "lib/util.py"));
    returnWorkDir(one, pool);
    const [kept] = (await readdir(join(pool.cacheDir, pool.pool))).filter((n) => !n.startsWith("."));
    const stateFile = join(pool.cacheDir, pool.pool, kept!, "state.json");
    const state = JSON.parse(await readFile(stateFile, "utf8")) as { files: [string, number, number, string, number, number, number][] };
    // the state now vouches for what the task left: train.py's stamps with the changed content's hash
    const st = await stat(join(pool.cacheDir, pool.pool, kept!, "tree", "train.py"));
    const train = state.files.find((f) => f[0] === "train.py")!;
    train.splice(2, 5, st.size, sha256("print('changed by the task')\n"), st.ino, st.mtimeMs, st.ctimeMs);
    state.files = state.files.filter((f) => f[0] !== "lib/util.py");
    await writeFile(stateFile, JSON.stringify(state));
    const two = await checkoutBundle(blobs, bundle.hash, join(runs, "r2", "work"), pool);
    assert.equal(two.reused, true);
    assert.equal(two.filesWritten, 2);
    await assertIsBundle(two.workDir, bundle);
    returnWorkDir(two, pool);
    // and a state that lists the bundle (written by that checkout) is trusted: nothing is written
    const three = await checkoutBundle(blobs, bundle.hash, join(runs, "r3", "work"), pool);
    assert.equal(three.filesWritten, 0);
    assert.equal(three.filesKept, bundle.manifest.files.length);
    await assertIsBundle(three.workDir, bundle);
  });

  it("refuses an unsafe manifest before writing anything, and leaves the kept folder for the next run", async () => {
    const { blobs, bundle, pool, runs } = await setup();
    returnWorkDir(await checkoutBundle(blobs, bundle.hash, join(runs, "r1", "work"), pool), pool);
    await blobs.put(`files/${sha256("evil")}`, "evil");
    const json = canonicalJson({ version: 1, files: [{ path: "../evil", mode: 0o644, size: 4, sha256: sha256("evil") }] });
    await blobs.put(`bundles/${sha256(json)}.json`, json);
    const sandbox = await fresh("sandbox");
    await assert.rejects(checkoutBundle(blobs, sha256(json), join(sandbox, "r2", "work"), pool), /"\.\.\/evil"/);
    assert.deepEqual(await listTree(sandbox), []);
    const next = await checkoutBundle(blobs, bundle.hash, join(runs, "r3", "work"), pool);
    assert.equal(next.reused, true);
    await assertIsBundle(next.workDir, bundle);
  });

  it("a kept folder is a copy: a corrupt blob is refused when written, never linked", async () => {
    const { blobs, bundle, pool, runs } = await setup();
    const one = await checkoutBundle(blobs, bundle.hash, join(runs, "r1", "work"), pool);
    for (const f of bundle.manifest.files) assert.equal((await stat(join(one.workDir, f.path))).nlink, 1, f.path);
    await rm(join(one.workDir, "train.py"));
    returnWorkDir(one, pool);
    const f = bundle.manifest.files.find((x) => x.path === "train.py")!;
    await blobs.put(`files/${f.sha256}`, "tampered");
    await assert.rejects(checkoutBundle(blobs, bundle.hash, join(runs, "r2", "work"), pool), /train\.py/);
  });

  it("a folder in which a left-behind process still works is not kept for the next run", { skip: process.platform !== "linux" }, async () => {
    const { blobs, bundle, pool, runs } = await setup();
    const one = await checkoutBundle(blobs, bundle.hash, join(runs, "r1", "work"), pool);
    const daemon = spawn("sleep", ["30"], { cwd: one.workDir, detached: true, stdio: "ignore" });
    try {
      await new Promise((r) => daemon.once("spawn", r));
      returnWorkDir(one, pool);
      assert.equal(existsSync(join(pool.cacheDir, pool.pool)) ? (await readdir(join(pool.cacheDir, pool.pool))).length : 0, 0);
      assert.equal(existsSync(one.workDir), false);
    } finally {
      daemon.kill("SIGKILL");
    }
  });

  it("a folder kept with --keep-workdir stays where it is and leaves the pool", async () => {
    const { blobs, bundle, pool, runs } = await setup();
    const one = await checkoutBundle(blobs, bundle.hash, join(runs, "r1", "work"), pool);
    releaseSlot(one);
    await assertIsBundle(join(runs, "r1", "work"), bundle);
    assert.deepEqual(await readdir(join(runs, "r1")), ["work"]);
    const two = await checkoutBundle(blobs, bundle.hash, join(runs, "r2", "work"), pool);
    assert.equal(two.reused, false);
  });
});
