// Bundles as trees (format 2): what one changed file writes, whatever the tree's size; the flat format 1
// still read; tampered trees refused before anything is written; the capture index appended to.
import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FsBlobStore } from "../store/blobs/fs/fs-blob-store.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import { captureBundle, loadManifest, materializeBundle, packBundle, unpackArchive, type BundleFile } from "./index.js";
import { PAGE_BYTES, buildTree } from "./tree.js";
import { RACY_MS } from "./paths.js";
import { listTree, writeTree } from "../../test/helpers/files.js";

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "slipway-tree-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});
let counter = 0;
async function fresh(name: string): Promise<string> {
  const dir = join(tmp, `${name}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}
/**
 * Waits out the index's racy window (RACY_MS): a file changed less than 2 s before it was hashed is
 * hashed again next time, so a test that counts what the index writes starts from files at rest.
 */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, RACY_MS + 100));
}
async function keys(blobs: FsBlobStore): Promise<Set<string>> {
  return new Set([...(await blobs.list("files/")), ...(await blobs.list("trees/")), ...(await blobs.list("bundles/"))]);
}
const file = (path: string, content: string, mode = 0o644): BundleFile => ({ path, mode, size: Buffer.byteLength(content), sha256: sha256(content) });

describe("bundle trees: what one change writes", () => {
  it("a changed file at depth 4 writes exactly 6 blobs: the file, the 4 directory nodes on its path and the bundle record", async () => {
    const src = await fresh("src");
    const layout = {
      "top.txt": "top",
      "a/x.txt": "x",
      "a/b/y.txt": "y",
      "a/b/c/leaf.txt": "leaf v1",
      "other/z.txt": "z",
      "other/deep/w.txt": "w",
    };
    await writeTree(src, layout);
    const blobs = new FsBlobStore(await fresh("blobs"));
    const indexFile = join(await fresh("index"), "i.log");
    const first = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(first.manifest.version, 2);
    assert.equal(first.nodesWritten, 6); // the listings of /, a, a/b, a/b/c, other, other/deep
    const beforeKeys = await keys(blobs);

    await writeFile(join(src, "a/b/c/leaf.txt"), "leaf v2"); // same size, new content
    const second = await captureBundle(blobs, { sourceDir: src, indexFile });
    const added = [...(await keys(blobs))].filter((k) => !beforeKeys.has(k)).sort();
    // path a/b/c/leaf.txt: 4 segments. New: its blob (1) + the nodes of /, a, a/b, a/b/c (4) + the record (1) = 6 = depth + 2
    assert.equal(added.length, 6, added.join("\n"));
    assert.deepEqual(added.filter((k) => k.startsWith("files/")), [`files/${sha256("leaf v2")}`]);
    assert.equal(added.filter((k) => k.startsWith("trees/")).length, 4);
    assert.deepEqual(added.filter((k) => k.startsWith("bundles/")), [`bundles/${second.hash}.json`]);
    assert.equal(second.filesWritten, 1);
    assert.equal(second.nodesWritten, 4);
    // other/ and other/deep/ are shared with the first bundle: not written again
    let metadata = 0;
    for (const k of added.filter((k) => !k.startsWith("files/"))) metadata += (await blobs.get(k))!.length;
    assert.equal(second.metadataBytesWritten, metadata);
    assert.equal(second.bytesWritten, Buffer.byteLength("leaf v2") + metadata);
  });

  it("metadata written for one changed file stays under 4 KiB from 100 to 20,000 files, flat or nested", () => {
    const flat = (n: number) => Array.from({ length: n }, (_, i) => file(`src/module_${String(i).padStart(6, "0")}.py`, `print(${i})`));
    const nested = (n: number) => Array.from({ length: n }, (_, i) => file(`pkg${i % 50}/sub${i % 7}/file_${i}.py`, `print(${i})`));
    for (const [layout, make] of [["flat", flat], ["nested", nested]] as const) {
      const seen: number[] = [];
      for (const n of [100, 2_000, 20_000]) {
        const files = make(n);
        const one = buildTree(files);
        const changed = files.map((f, i) => (i === Math.floor(n / 2) ? file(f.path, "changed!", f.mode) : f));
        const two = buildTree(changed);
        const oldNodes = new Set(one.nodes.map((x) => x.hash));
        const fresh = two.nodes.filter((x) => !oldNodes.has(x.hash));
        const bytes = fresh.reduce((s, x) => s + Buffer.byteLength(x.data), 0) + Buffer.byteLength(two.record.data);
        assert.ok(bytes <= 4096, `${layout}, ${n} files: ${bytes} B of new metadata`);
        // the listing of a large folder is split in pages of at most PAGE_BYTES, and only pages on the path change
        assert.ok(fresh.length <= 9, `${layout}, ${n} files: ${fresh.length} new nodes`);
        for (const x of two.nodes) if (x.data.startsWith('{"entries"') && JSON.parse(x.data).entries.length > 1) assert.ok(Buffer.byteLength(x.data) <= PAGE_BYTES);
        seen.push(bytes);
      }
      // 200 times the files, not 200 times the bytes
      assert.ok(seen[2]! < seen[0]! * 4, `${layout}: ${seen.join(", ")} B`);
    }
  });

  it("captures a 1,500-file folder, then writes under 4 KiB of metadata when one file changes", async () => {
    const src = await fresh("src");
    const layout: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) layout[`flat/f${i}.txt`] = `content ${i}`;
    await writeTree(src, layout);
    await settle();
    const blobs = new FsBlobStore(await fresh("blobs"));
    const indexFile = join(await fresh("index"), "i.log");
    const first = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.ok(first.nodesWritten > 10, "the 1,500-entry listing is split in pages");
    await writeFile(join(src, "flat/f700.txt"), "changed");
    const second = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(second.filesWritten, 1);
    assert.ok(second.metadataBytesWritten <= 4096, `${second.metadataBytesWritten} B`);
    assert.ok(second.indexBytesWritten > 0 && second.indexBytesWritten < 1024, `index: ${second.indexBytesWritten} B appended`);
    const back = await loadManifest(blobs, second.hash);
    assert.deepEqual(back.files, second.manifest.files);
    assert.equal(back.files.find((f) => f.path === "flat/f700.txt")?.sha256, sha256("changed"));
  });

  it("gives the same content the same hash whatever order or history it came from", () => {
    const files = [file("b/x", "1"), file("a", "2", 0o755), file("b/y/z", "3"), file("a.txt", "4")];
    assert.equal(buildTree(files).record.hash, buildTree([...files].reverse()).record.hash);
    const many = Array.from({ length: 3000 }, (_, i) => file(`d/${i}`, String(i)));
    const withExtra = buildTree([...many, file("d/extra", "x")]);
    const removedAgain = buildTree(many);
    assert.equal(buildTree(many.slice().reverse()).record.hash, removedAgain.record.hash);
    assert.notEqual(withExtra.record.hash, removedAgain.record.hash);
    assert.notEqual(buildTree([file("a", "2", 0o644)]).record.hash, buildTree([file("a", "2", 0o755)]).record.hash, "the mode is part of the content");
  });
});

describe("bundle trees: reading", () => {
  async function storeOf(): Promise<FsBlobStore> {
    return new FsBlobStore(await fresh("blobs"));
  }
  /** Puts a node and returns its hash. */
  async function node(blobs: FsBlobStore, value: unknown): Promise<string> {
    const data = canonicalJson(value);
    await blobs.put(`trees/${sha256(data)}`, data);
    return sha256(data);
  }
  async function record(blobs: FsBlobStore, tree: string, files: number, bytes: number): Promise<string> {
    const data = canonicalJson({ version: 2, tree, files, bytes });
    await blobs.put(`bundles/${sha256(data)}.json`, data);
    return sha256(data);
  }

  it("materialises, packs and unpacks a format 1 (flat manifest) bundle of an earlier version", async () => {
    const blobs = await storeOf();
    const files = [file("a.txt", "alpha"), file("bin/run.sh", "#!/bin/sh\n", 0o755)];
    for (const [f, c] of [[files[0]!, "alpha"], [files[1]!, "#!/bin/sh\n"]] as const) await blobs.put(`files/${f.sha256}`, c);
    const json = canonicalJson({ version: 1, files });
    const hash = sha256(json);
    await blobs.put(`bundles/${hash}.json`, json);
    const m = await loadManifest(blobs, hash);
    assert.equal(m.version, 1);
    assert.deepEqual(m.files, files);
    const work = join(await fresh("work"), "w");
    await materializeBundle(blobs, hash, work);
    assert.equal(await readFile(join(work, "a.txt"), "utf8"), "alpha");
    assert.equal((await stat(join(work, "bin/run.sh"))).mode & 0o777, 0o755);
    const out = join(await fresh("work"), "u");
    assert.deepEqual(await unpackArchive(await packBundle(blobs, hash), out), ["a.txt", "bin/run.sh"]);
    // the same files captured today are format 2: another hash, the same content
    const src = await fresh("src");
    await writeTree(src, { "a.txt": "alpha" });
    const captured = await captureBundle(blobs, { sourceDir: src });
    assert.equal(captured.manifest.version, 2);
    const flat = await captureBundle(blobs, { sourceDir: src, format: "flat" });
    assert.equal(flat.manifest.version, 1);
    assert.equal(flat.hash, sha256(canonicalJson({ version: 1, files: [files[0]] })));
  });

  const bad: { name: string; error: RegExp; make: (blobs: FsBlobStore) => Promise<string> }[] = [
    {
      name: "a name that climbs out (..)",
      error: /"\.\."/,
      make: async (b) => record(b, await node(b, { entries: [["aaa.txt", "f", 1, sha256("a")], ["..", "d", 1, await node(b, { entries: [["evil", "f", 1, sha256("e")]] })]] }), 2, 2),
    },
    { name: "a name with a slash", error: /"x\/\.\.\/\.\.\/evil"/, make: async (b) => record(b, await node(b, { entries: [["x/../../evil", "f", 1, sha256("e")]] }), 1, 1) },
    { name: "an unknown kind", error: /kind "l"/, make: async (b) => record(b, await node(b, { entries: [["link", "l", 1, sha256("e")]] }), 1, 1) },
    { name: "a name listed twice across pages", error: /listed twice/, make: async (b) => {
      const page = await node(b, { entries: [["same", "f", 1, sha256("e")]] });
      return record(b, await node(b, { pages: [[0, page], [1, page]] }), 2, 2);
    } },
    { name: "sizes that do not add up", error: /says 5 bytes/, make: async (b) => record(b, await node(b, { entries: [["d", "d", 5, await node(b, { entries: [["f", "f", 1, sha256("e")]] })]] }), 1, 5) },
    { name: "a record that miscounts", error: /the record says/, make: async (b) => record(b, await node(b, { entries: [["f", "f", 1, sha256("e")]] }), 2, 1) },
    { name: "a missing node", error: /is missing/, make: async (b) => record(b, sha256("nothing"), 0, 0) },
    { name: "a node whose bytes do not match its hash", error: /does not match its hash/, make: async (b) => {
      const h = await node(b, { entries: [["f", "f", 1, sha256("e")]] });
      await b.put(`trees/${h}`, canonicalJson({ entries: [["g", "f", 1, sha256("e")]] }));
      return record(b, h, 1, 1);
    } },
  ];
  for (const c of bad) {
    it(`refuses a tree with ${c.name} before writing anything`, async () => {
      const blobs = await storeOf();
      await blobs.put(`files/${sha256("a")}`, "a");
      await blobs.put(`files/${sha256("e")}`, "e");
      const hash = await c.make(blobs);
      const sandbox = await fresh("sandbox");
      await assert.rejects(materializeBundle(blobs, hash, join(sandbox, "inner", "work")), c.error);
      await assert.rejects(packBundle(blobs, hash), c.error);
      assert.deepEqual(await listTree(sandbox), []);
    });
  }
});

describe("the capture index", () => {
  it("is appended to, never rewritten: one changed file appends a line or two, an unchanged capture nothing", async () => {
    const src = await fresh("src");
    const layout: Record<string, string> = {};
    for (let i = 0; i < 300; i++) layout[`d${i % 10}/f${i}.txt`] = `file ${i}`;
    await writeTree(src, layout);
    await settle();
    const blobs = new FsBlobStore(await fresh("blobs"));
    const indexFile = join(await fresh("index"), "i.log");
    const first = await captureBundle(blobs, { sourceDir: src, indexFile });
    const text1 = await readFile(indexFile, "utf8");
    assert.equal(first.indexBytesWritten, Buffer.byteLength(text1));
    assert.equal(JSON.parse(text1.split("\n")[0]!).version, 2);

    const unchanged = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(unchanged.indexBytesWritten, 0);
    assert.equal(await readFile(indexFile, "utf8"), text1);

    await writeFile(join(src, "d3/f3.txt"), "changed");
    await settle();
    const changed = await captureBundle(blobs, { sourceDir: src, indexFile });
    const text2 = await readFile(indexFile, "utf8");
    assert.ok(text2.startsWith(text1), "the earlier lines are untouched");
    assert.equal(Buffer.byteLength(text2) - Buffer.byteLength(text1), changed.indexBytesWritten);
    // the changed file's entry, and which bundle this capture made (so an unchanged source needs no tree built)
    const appended = text2.slice(text1.length).trim().split("\n");
    assert.equal(appended.length, 2, appended.join("\n"));
    assert.equal(JSON.parse(appended[0]!).p, "d3/f3.txt");
    assert.equal(JSON.parse(appended[1]!).last.hash, changed.hash);
    assert.ok(changed.indexBytesWritten < 600, `${changed.indexBytesWritten} B`);

    // a removed file appends a removal; a torn last line (a crash mid-append) is skipped, not trusted
    await rm(join(src, "d4/f4.txt"));
    await appendFile(indexFile, '{"p":"d5/f5.txt","s":1');
    const third = await captureBundle(blobs, { sourceDir: src, indexFile });
    const text3 = await readFile(indexFile, "utf8");
    assert.ok(text3.startsWith(text2));
    assert.ok(text3.includes('\n{"d":1,"p":"d4/f4.txt"}\n'), text3.slice(text2.length));
    assert.equal(third.manifest.files.length, 299);
    const fourth = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(fourth.hash, third.hash);
    assert.equal(fourth.indexBytesWritten, 0);
  });

  it("stores again the files the index vouches for when their blobs are gone from the store", async () => {
    const src = await fresh("src");
    await writeTree(src, { "a.txt": "alpha", "b/c.txt": "gamma" });
    await settle();
    const dir = await fresh("blobs");
    const blobs = new FsBlobStore(dir);
    const indexFile = join(await fresh("index"), "i.log");
    const first = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal((await captureBundle(blobs, { sourceDir: src, indexFile })).bytesWritten, 0);
    await rm(dir, { recursive: true }); // the store emptied by hand; the index still says both files are known
    const again = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(again.hash, first.hash);
    assert.equal(again.filesWritten, 2);
    const work = join(await fresh("work"), "w");
    await materializeBundle(blobs, again.hash, work);
    assert.equal(await readFile(join(work, "b/c.txt"), "utf8"), "gamma");
  });

  it("trusts the lines it can read and hashes again the file of a damaged line in the middle of the log", async () => {
    // the log is parsed as one JSON array when it can be; a damaged line makes that fail, and the lines
    // are then read one by one, as before: a damaged line costs only its own file
    const src = await fresh("src");
    await writeTree(src, { "a.txt": "alpha", "b.txt": "beta", "c.txt": "gamma" });
    const blobs = new FsBlobStore(await fresh("blobs"));
    const indexFile = join(await fresh("index"), "i.log");
    const root = await realpath(src);
    const claimed = "what the index says";
    await blobs.put(`files/${sha256(claimed)}`, claimed);
    const line = async (p: string) => {
      const st = await stat(join(src, p));
      return JSON.stringify({ c: st.ctimeMs, h: sha256(claimed), i: st.ino, m: st.mtimeMs, p, s: st.size, t: Date.now() + 60_000 });
    };
    const damaged = [
      '{"p":"b.txt","s":4,', // torn in the middle of the log
      "[1", // two lines that would read as one value if the log were joined
      "2]",
      "1,2", // two values on one line
    ];
    for (const bad of damaged) {
      await writeFile(indexFile, [JSON.stringify({ root, version: 2 }), await line("a.txt"), bad, await line("c.txt"), ""].join("\n"));
      const r = await captureBundle(blobs, { sourceDir: src, indexFile });
      const sha = new Map(r.manifest.files.map((f) => [f.path, f.sha256]));
      assert.equal(sha.get("a.txt"), sha256(claimed), `${bad}: the lines before are read`);
      assert.equal(sha.get("c.txt"), sha256(claimed), `${bad}: the lines after are read`);
      assert.equal(sha.get("b.txt"), sha256("beta"), `${bad}: the file without an entry is hashed`);
    }
  });

  it("reads a version 1 index (one JSON document) and replaces it with a log", async () => {
    const src = await fresh("src");
    await writeTree(src, { "f.txt": "real content" });
    const blobs = new FsBlobStore(await fresh("blobs"));
    const indexFile = join(await fresh("index"), "i.json");
    const st = await stat(join(src, "f.txt"));
    // a version 1 entry that claims another content: if it is read, the capture trusts it
    await blobs.put(`files/${sha256("what the index says")}`, "what the index says");
    const root = await realpath(src);
    const entry = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: sha256("what the index says"), hashedAt: Date.now() + 60_000 };
    await writeFile(indexFile, JSON.stringify({ version: 1, root, entries: { "f.txt": entry } }));
    const r = await captureBundle(blobs, { sourceDir: src, indexFile });
    assert.equal(r.manifest.files[0]?.sha256, sha256("what the index says"), "the version 1 index was used");
    const text = await readFile(indexFile, "utf8");
    assert.deepEqual(JSON.parse(text.split("\n")[0]!), { root, version: 2 });
    assert.equal(text.trim().split("\n").length, 3); // header, the entry, the bundle it made
  });
});
