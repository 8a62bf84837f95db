import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { Header } from "tar";
import { FsBlobStore } from "../store/blobs/fs/fs-blob-store.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import { captureBundle, materializeBundle, packBundle, unpackArchive, type BundleManifest } from "./index.js";
import { listTree, writeTree } from "../../test/helpers/files.js";

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "slipway-bundle-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let counter = 0;
/** A fresh folder under the test's temp dir. */
async function fresh(name: string): Promise<string> {
  const dir = join(tmp, `${name}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}



function paths(m: BundleManifest): string[] {
  return m.files.map((f) => f.path);
}

async function store(): Promise<FsBlobStore> {
  return new FsBlobStore(await fresh("blobs"));
}

describe("captureBundle: ignore rules", () => {
  it("honours root and nested .gitignore, .slipwayignore and negations like git", async () => {
    const src = await fresh("src");
    await writeTree(src, {
      ".gitignore": "*.log\n!keep.log\nbuild/\nsecret/\n!secret/a.txt\n# a comment\n\n",
      ".slipwayignore": "data/\n*.ckpt\n!important.log\n",
      "main.py": "print('hi')\n",
      "a.log": "x",
      "keep.log": "x",
      "important.log": "x",
      "x.tmp": "root tmp is not ignored: the *.tmp rule lives in pkg/",
      "build/out.js": "x",
      "secret/a.txt": "a parent folder that is excluded cannot be re-included",
      "data/big.bin": "x",
      "model.ckpt": "x",
      "pkg/.gitignore": "!build/\n/local.txt\n*.tmp\n",
      "pkg/build/out.js": "re-included by the nested !build/",
      "pkg/local.txt": "anchored to pkg/",
      "pkg/deep/local.txt": "not matched by /local.txt",
      "pkg/deep/x.tmp": "x",
      "pkg/deep/y.log": "still ignored by the root *.log",
      "node_modules/dep/index.js": "kept: only rules exclude node_modules",
      ".git/HEAD": "ref: refs/heads/main\n",
      "sub/.git": "gitdir: ../.git/modules/sub\n",
    });
    const r = await captureBundle(await store(), { sourceDir: src });
    assert.deepEqual(paths(r.manifest), [
      ".gitignore",
      ".slipwayignore",
      "important.log",
      "keep.log",
      "main.py",
      "node_modules/dep/index.js",
      "pkg/.gitignore",
      "pkg/build/out.js",
      "pkg/deep/local.txt",
      "x.tmp",
    ]);
    assert.deepEqual(r.skipped, []);
  });

  it("excludes node_modules when a rule says so, and treats special characters in folder names literally", async () => {
    const src = await fresh("src");
    await writeTree(src, {
      ".gitignore": "node_modules/\n",
      "node_modules/dep/index.js": "x",
      "we[ir]d #dir/.gitignore": "*.out\n/anchored.txt\n",
      "we[ir]d #dir/a.out": "x",
      "we[ir]d #dir/anchored.txt": "x",
      "we[ir]d #dir/kept.txt": "x",
      "wei/a.out": "not under the weird folder",
    });
    const r = await captureBundle(await store(), { sourceDir: src });
    assert.deepEqual(paths(r.manifest), [".gitignore", "we[ir]d #dir/.gitignore", "we[ir]d #dir/kept.txt", "wei/a.out"]);
  });
});

describe("captureBundle: symlinks and special files", () => {
  it("stores links inside the source as their content and skips links leaving it", async () => {
    const outside = await fresh("outside");
    await writeFile(join(outside, "secret.txt"), "do not bundle me");
    const src = await fresh("src");
    await writeTree(src, { "a.txt": "alpha", "sub/b.txt": "beta" });
    await symlink("a.txt", join(src, "link-in"));
    await symlink("sub", join(src, "dir-link"));
    await symlink(join(outside, "secret.txt"), join(src, "link-out"));
    await symlink("../../" + outside.split("/").pop() + "/secret.txt", join(src, "sub", "rel-out"));
    await symlink("missing.txt", join(src, "dangling"));
    await symlink("..", join(src, "sub", "loop"));
    let fifo = false;
    try {
      execFileSync("mkfifo", [join(src, "pipe")]);
      fifo = true;
    } catch {
      /* no mkfifo here: the rest still runs */
    }
    const r = await captureBundle(await store(), { sourceDir: src });
    assert.deepEqual(paths(r.manifest), ["a.txt", "dir-link/b.txt", "link-in", "sub/b.txt"]);
    const byPath = new Map(r.manifest.files.map((f) => [f.path, f]));
    assert.equal(byPath.get("link-in")?.sha256, sha256("alpha"));
    assert.equal(byPath.get("dir-link/b.txt")?.sha256, sha256("beta"));
    const expectedSkipped = ["dangling", "dir-link/loop", "link-out", "sub/loop", "sub/rel-out", ...(fifo ? ["pipe"] : [])].sort();
    // dir-link/rel-out resolves outside too
    assert.deepEqual(r.skipped, [...expectedSkipped, "dir-link/rel-out"].sort());
    for (const f of r.manifest.files) assert.notEqual(f.sha256, sha256("do not bundle me"));
  });
});

describe("captureBundle: order", () => {
  it("lists files in code point order, whatever the engine's string order (characters from U+10000, '-' and '.' before '/')", async () => {
    const src = await fresh("src");
    await writeTree(src, { "a/x.txt": "1", "a-b.txt": "2", "a.txt": "3", "\u{1F600}.txt": "4", "\uFFFD.txt": "5", "z/\u{1F600}/y.txt": "6", "z/\uFFFD/y.txt": "7" });
    const r = await captureBundle(await store(), { sourceDir: src });
    assert.deepEqual(paths(r.manifest), ["a-b.txt", "a.txt", "a/x.txt", "z/\uFFFD/y.txt", "z/\u{1F600}/y.txt", "\uFFFD.txt", "\u{1F600}.txt"]);
  });
});

describe("captureBundle: content addressing and incremental capture", () => {
  it("writes only the changed file's blob and the new manifest on the second capture", async () => {
    const src = await fresh("src");
    await writeTree(src, {
      "big1.bin": randomBytes(300_000),
      "big2.bin": randomBytes(300_000),
      "conf/small.txt": randomBytes(512).toString("hex"), // 1 KiB
      "run.sh": "#!/bin/sh\necho hi\n",
    });
    await chmod(join(src, "run.sh"), 0o755);
    const blobs = await store();
    const indexFile = join(await fresh("index"), "bundle-index.json");
    const first = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(first.filesWritten, 4);
    assert.equal(first.bytesTotal, 300_000 + 300_000 + 1024 + 18);
    // the metadata: the tree nodes (the root listing and conf/'s) and the bundle record
    assert.equal(first.nodesWritten, 2);
    assert.ok(first.metadataBytesWritten > 0 && first.metadataBytesWritten < 1024, `${first.metadataBytesWritten} B of metadata`);
    assert.equal(first.bytesWritten, first.bytesTotal + first.metadataBytesWritten);
    assert.equal(first.key, `bundles/${first.hash}.json`);
    assert.equal(first.manifest.files.find((f) => f.path === "run.sh")?.mode, 0o755);
    assert.equal(first.manifest.files.find((f) => f.path === "big1.bin")?.mode, 0o644);

    await writeFile(join(src, "conf/small.txt"), randomBytes(512).toString("hex"));
    const second = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.notEqual(second.hash, first.hash);
    assert.equal(second.filesWritten, 1);
    assert.equal(second.nodesWritten, 2); // conf/ and the root listing; big1.bin and big2.bin are not written again
    assert.equal(second.bytesWritten, 1024 + second.metadataBytesWritten);

    const third = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(third.hash, second.hash);
    assert.equal(third.bytesWritten, 0);
    assert.equal(third.filesWritten, 0);
    assert.deepEqual((await blobs.list("bundles/")).sort(), [`bundles/${first.hash}.json`, `bundles/${second.hash}.json`].sort());
  });

  it("keeps the index correct when content changes but size and mtime are put back", async () => {
    const src = await fresh("src");
    await writeTree(src, { "f.txt": "aaaa" });
    const old = new Date(Date.now() - 60_000);
    await utimes(join(src, "f.txt"), old, old);
    const blobs = await store();
    const indexFile = join(await fresh("index"), "i.json");
    const first = await captureBundle(blobs, { sourceDir: src, indexFile });
    await writeFile(join(src, "f.txt"), "bbbb");
    await utimes(join(src, "f.txt"), old, old); // same size, same mtime: only ctime tells
    const second = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(second.manifest.files[0]?.sha256, sha256("bbbb"));
    assert.notEqual(second.hash, first.hash);
    // a corrupt index is ignored, not trusted
    await writeFile(indexFile, "{not json");
    const third = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(third.hash, second.hash);
  });

  it("gives identical content the identical hash, wherever and whenever it is captured", async () => {
    const files = { "a.txt": "alpha", "b/c.txt": "gamma" };
    const one = await fresh("src");
    const two = await fresh("src");
    await writeTree(one, files);
    await writeTree(two, files);
    const blobs = await store();
    const r1 = await captureBundle(blobs, { sourceDir: one });
    const r2 = await captureBundle(blobs, { sourceDir: two });
    const r3 = await captureBundle(await store(), { sourceDir: one });
    assert.equal(r1.hash, r2.hash);
    assert.equal(r1.hash, r3.hash);
    assert.equal(r2.bytesWritten, 0);
  });

  it("adds extra files at their paths, replacing source files, executable when they start with #!", async () => {
    const src = await fresh("src");
    await writeTree(src, { ".slipway/job.json": '{"stale":true}', "main.py": "x" });
    const blobs = await store();
    const r = await captureBundle(blobs, {
      sourceDir: src,
      extraFiles: { ".slipway/job.json": '{"fresh":true}', ".slipway/runner.sh": "#!/bin/sh\nexec python main.py\n", ".slipway/data.bin": Buffer.from([1, 2, 3]) },
    });
    const byPath = new Map(r.manifest.files.map((f) => [f.path, f]));
    assert.equal(byPath.get(".slipway/job.json")?.sha256, sha256('{"fresh":true}'));
    assert.equal(byPath.get(".slipway/runner.sh")?.mode, 0o755);
    assert.equal(byPath.get(".slipway/data.bin")?.mode, 0o644);
    const only = await captureBundle(blobs, { extraFiles: { "job.json": "{}" } });
    assert.deepEqual(paths(only.manifest), ["job.json"]);
    await assert.rejects(captureBundle(blobs, { extraFiles: { "../x": "y" } }), /"\.\.\/x"/);
    await assert.rejects(captureBundle(blobs, { sourceDir: src, extraFiles: { "main.py/inner": "y" } }), /main\.py/);
  });
});

describe("materializeBundle", () => {
  it("writes every file with its mode into a fresh folder", async () => {
    const src = await fresh("src");
    await writeTree(src, { "a.txt": "alpha", "deep/er/b.bin": randomBytes(70_000), "tool.sh": "#!/bin/sh\n" });
    await chmod(join(src, "tool.sh"), 0o755);
    const blobs = await store();
    const r = await captureBundle(blobs, { sourceDir: src });
    const work = join(await fresh("work"), "w");
    await materializeBundle(blobs, r.hash, work);
    assert.deepEqual(await listTree(work), ["a.txt", "deep", "deep/er", "deep/er/b.bin", "tool.sh"]);
    for (const f of r.manifest.files) {
      assert.deepEqual(await readFile(join(work, f.path)), await readFile(join(src, f.path)));
      assert.equal((await stat(join(work, f.path))).mode & 0o777, f.mode);
    }
    await assert.rejects(materializeBundle(blobs, r.hash, work), /not empty/);
    const emptyExisting = await fresh("work");
    await materializeBundle(blobs, r.hash, emptyExisting);
  });

  async function craftManifest(blobs: FsBlobStore, files: { path: string; content: string; mode?: number }[]): Promise<string> {
    const entries = [];
    for (const f of files) {
      await blobs.put(`files/${sha256(f.content)}`, f.content);
      entries.push({ path: f.path, mode: f.mode ?? 0o644, size: Buffer.byteLength(f.content), sha256: sha256(f.content) });
    }
    const json = canonicalJson({ version: 1, files: entries });
    const hash = sha256(json);
    await blobs.put(`bundles/${hash}.json`, json);
    return hash;
  }

  for (const bad of ["../evil", "ok/../../evil", "/etc/evil", "a\\..\\evil", "nul\0evil", "./evil", "a//b"]) {
    it(`refuses the manifest path ${JSON.stringify(bad)} before writing anything`, async () => {
      const blobs = await store();
      const hash = await craftManifest(blobs, [
        { path: "aaa-first.txt", content: "written first if nothing checked" },
        { path: bad, content: "evil" },
      ]);
      const sandbox = await fresh("sandbox");
      const work = join(sandbox, "inner", "work");
      await assert.rejects(materializeBundle(blobs, hash, work), (e: Error) => e.message.includes(JSON.stringify(bad)));
      assert.deepEqual(await listTree(sandbox), []);
      assert.equal(existsSync(join(sandbox, "inner", "evil")), false);
    });
  }

  it("refuses a blob whose content does not match its sha256, naming the file", async () => {
    const blobs = await store();
    const hash = await craftManifest(blobs, [{ path: "model.bin", content: "genuine" }]);
    await blobs.put(`files/${sha256("genuine")}`, "tampered");
    await assert.rejects(materializeBundle(blobs, hash, join(await fresh("work"), "w")), /model\.bin/);
  });

  it("refuses a manifest whose bytes do not match the hash, and a missing bundle", async () => {
    const blobs = await store();
    const hash = await craftManifest(blobs, [{ path: "x", content: "x" }]);
    await blobs.put(`bundles/${hash}.json`, canonicalJson({ version: 1, files: [] }));
    await assert.rejects(materializeBundle(blobs, hash, join(await fresh("work"), "w")), /does not match its hash/);
    await assert.rejects(materializeBundle(blobs, "0".repeat(64), join(await fresh("work"), "w")), /not in the blob store/);
    await assert.rejects(materializeBundle(blobs, "../../etc", join(await fresh("work"), "w")), /invalid bundle hash/);
  });
});

// ---- archives -------------------------------------------------------------------------------------

interface RawEntry {
  path: string;
  type?: "File" | "Directory" | "SymbolicLink" | "Link" | "FIFO" | "CharacterDevice";
  linkpath?: string;
  data?: string;
  mode?: number;
}

/** A .tar.gz built header by header, so it can say anything an attacker's archive could. */
function craftArchive(entries: RawEntry[]): Buffer {
  const chunks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? "");
    const block = Buffer.alloc(512);
    new Header({
      path: e.path,
      type: e.type ?? "File",
      linkpath: e.linkpath ?? "",
      size: e.type && e.type !== "File" ? 0 : data.length,
      mode: e.mode ?? (e.type === "Directory" ? 0o755 : 0o644),
      mtime: new Date(0),
      uid: 0,
      gid: 0,
    }).encode(block, 0);
    chunks.push(block);
    if (!e.type || e.type === "File") {
      chunks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  chunks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(chunks));
}

describe("packBundle and unpackArchive", () => {
  it("round-trips a bundle with contents and modes, deterministically", async () => {
    const src = await fresh("src");
    const long = `${"very-long-folder-name-".repeat(6)}/${"and-a-long-file-name-".repeat(5)}.txt`;
    await writeTree(src, { "a.txt": "alpha", "bin/tool": "#!/bin/sh\n", [long]: "long path needs pax", "ünïcødé.txt": "x", "big.bin": randomBytes(200_000) });
    await chmod(join(src, "bin/tool"), 0o755);
    const blobs = await store();
    const r = await captureBundle(blobs, { sourceDir: src });
    const archive = await packBundle(blobs, r.hash);
    assert.deepEqual(await packBundle(blobs, r.hash), archive);
    const work = join(await fresh("work"), "w");
    const extracted = await unpackArchive(archive, work);
    assert.deepEqual(extracted, paths(r.manifest));
    for (const f of r.manifest.files) {
      assert.deepEqual(await readFile(join(work, f.path)), await readFile(join(src, f.path)), f.path);
      assert.equal((await stat(join(work, f.path))).mode & 0o777, f.mode, f.path);
    }
    // also from a file on disk
    const file = join(await fresh("archive"), "bundle.tar.gz");
    await writeFile(file, archive);
    assert.deepEqual(await unpackArchive(file, join(await fresh("work"), "w")), paths(r.manifest));
  });

  it("writes an ordinary .tar.gz: zlib and system tar read it, text is compressed, random data stored", async () => {
    const src = await fresh("src");
    const text = Array.from({ length: 40_000 }, (_, i) => `line ${i}: some very repetitive source text`).join("\n");
    await writeTree(src, { "notes.txt": text, "weights.bin": randomBytes(5 * 1024 * 1024 + 123), "z.txt": "tail" });
    const blobs = await store();
    const r = await captureBundle(blobs, { sourceDir: src });
    const archive = await packBundle(blobs, r.hash);
    const tarBytes = gunzipSync(archive);
    assert.equal(tarBytes.length % 512, 0);
    assert.ok(archive.length < r.bytesTotal - Buffer.byteLength(text) / 2, `archive ${archive.length} B should compress the text`);
    let systemTar = true;
    try {
      execFileSync("tar", ["--version"], { stdio: "ignore" });
    } catch {
      systemTar = false;
    }
    if (systemTar) {
      const file = join(await fresh("archive"), "b.tar.gz");
      await writeFile(file, archive);
      const listed = execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).trim().split("\n");
      assert.deepEqual(listed, paths(r.manifest));
      const out = await fresh("systar");
      execFileSync("tar", ["-xzf", file, "-C", out]);
      for (const f of r.manifest.files) assert.deepEqual(await readFile(join(out, f.path)), await readFile(join(src, f.path)), f.path);
    }
  });

  it("extracts links that stay inside the working folder", async () => {
    const archive = craftArchive([
      { path: "sub/", type: "Directory" },
      { path: "sub/f.txt", data: "inside" },
      { path: "lnk", type: "SymbolicLink", linkpath: "sub/f.txt" },
      { path: "sub/up", type: "SymbolicLink", linkpath: "../sub/f.txt" },
      { path: "hard", type: "Link", linkpath: "sub/f.txt" },
      { path: "setuid", data: "x", mode: 0o4777 },
    ]);
    const work = join(await fresh("work"), "w");
    assert.deepEqual(await unpackArchive(archive, work), ["hard", "lnk", "setuid", "sub/f.txt", "sub/up"]);
    assert.equal(await readFile(join(work, "lnk"), "utf8"), "inside");
    assert.equal(await readFile(join(work, "sub/up"), "utf8"), "inside");
    assert.equal(await readFile(join(work, "hard"), "utf8"), "inside");
    assert.equal((await stat(join(work, "setuid"))).mode & 0o7777, 0o755);
  });

  const outsideName = `slipway-escape-${process.pid}-${Date.now()}`;
  const cases: { name: string; entry: string; entries: (outside: string) => RawEntry[] }[] = [
    { name: "a ../ path", entry: "../escape.txt", entries: () => [{ path: "fine.txt", data: "ok" }, { path: "../escape.txt", data: "escaped" }] },
    { name: "a nested ../ path", entry: "a/../../escape.txt", entries: () => [{ path: "a/../../escape.txt", data: "escaped" }] },
    { name: "an absolute path", entry: `/tmp/${outsideName}`, entries: () => [{ path: `/tmp/${outsideName}`, data: "escaped" }] },
    {
      name: "an absolute symlink followed by a file written through it",
      entry: "link",
      entries: (outside) => [{ path: "link", type: "SymbolicLink", linkpath: outside }, { path: "link/file.txt", data: "escaped" }],
    },
    {
      name: "a relative symlink leaving the folder followed by a file through it",
      entry: "link",
      entries: () => [{ path: "link", type: "SymbolicLink", linkpath: "../.." }, { path: "link/file.txt", data: "escaped" }],
    },
    {
      name: "a file written through an inside symlink",
      entry: "link/file.txt",
      entries: () => [{ path: "sub/", type: "Directory" }, { path: "link", type: "SymbolicLink", linkpath: "sub" }, { path: "link/file.txt", data: "x" }],
    },
    {
      name: "a symlink that leaves through another link (c -> ., b -> c/..)",
      entry: "b",
      entries: () => [{ path: "c", type: "SymbolicLink", linkpath: "." }, { path: "b", type: "SymbolicLink", linkpath: "c/.." }],
    },
    { name: "a hard link to a file outside", entry: "hard", entries: () => [{ path: "hard", type: "Link", linkpath: "../../etc/passwd" }] },
    { name: "a hard link to an absolute path", entry: "hard", entries: () => [{ path: "hard", type: "Link", linkpath: "/etc/passwd" }] },
    { name: "a FIFO", entry: "pipe", entries: () => [{ path: "pipe", type: "FIFO" }] },
    { name: "a device", entry: "dev", entries: () => [{ path: "dev", type: "CharacterDevice" }] },
    { name: "a backslash path", entry: "..\\escape.txt", entries: () => [{ path: "..\\escape.txt", data: "x" }] },
    { name: "a file replaced by a link of the same name", entry: "same", entries: () => [{ path: "same", data: "x" }, { path: "same", type: "SymbolicLink", linkpath: "/etc" }] },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, naming the entry and creating nothing`, async () => {
      const sandbox = await fresh("sandbox");
      const outside = join(sandbox, "outside");
      await mkdir(outside);
      const work = join(sandbox, "deep", "work");
      await assert.rejects(unpackArchive(craftArchive(c.entries(outside)), work), (e: Error) => {
        assert.ok(e.message.includes(JSON.stringify(c.entry)), e.message);
        return true;
      });
      assert.deepEqual(await listTree(sandbox), ["outside"]);
      assert.equal(existsSync(`/tmp/${outsideName}`), false);
      assert.equal(existsSync(join(tmp, "escape.txt")), false);
    });
  }

  it("refuses to unpack into a folder that is not empty, and rejects garbage", async () => {
    const work = await fresh("work");
    await writeFile(join(work, "existing"), "x");
    await assert.rejects(unpackArchive(craftArchive([{ path: "a", data: "b" }]), work), /not empty/);
    await assert.rejects(unpackArchive(Buffer.from("definitely not a tarball"), join(await fresh("work"), "w")));
  });
});
