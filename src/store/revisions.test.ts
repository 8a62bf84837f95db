import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { after, describe, it } from "node:test";
import type { RecordedResource } from "../resources.js";
import { FsBlobStore } from "./blobs/fs/fs-blob-store.js";
import { readSnapshot, writeSnapshot } from "./revisions.js";

const root = mkdtempSync(join(tmpdir(), "slipway-revisions-"));
after(() => rmSync(root, { recursive: true, force: true }));

function setting(i: number, value = `v${i}`): RecordedResource {
  const spec = { module: `m${i % 10}`, key: `k${i}`, value };
  return { address: `setting.m${i % 10}.k${i}`, kind: "setting", name: `m${i % 10}.k${i}`, module: `m${i % 10}`, phase: 0, spec, specHash: `h-${i}-${value}`, dependsOn: [`module.m${i % 10}`], outputs: {} } as unknown as RecordedResource;
}

const sorted = (rs: RecordedResource[]) => [...rs].sort((a, b) => (a.address < b.address ? -1 : 1));

describe("revision snapshots (format 2)", () => {
  it("round-trip: the resources, the extras, sorted by address", async () => {
    const blobs = new FsBlobStore(join(root, "a"));
    const resources = Array.from({ length: 300 }, (_, i) => setting(i));
    const key = await writeSnapshot(blobs, "s1", { project: "p", target: "dev", resources, variables: { catalog: "main" } });
    const back = await readSnapshot(blobs, key);
    assert.deepEqual(back, { project: "p", target: "dev", variables: { catalog: "main" }, resources: sorted(resources) });
  });

  it("one changed resource of 1,000 writes the nodes on its path (its leaf included) and a root: under 2 KB", async () => {
    const blobs = new FsBlobStore(join(root, "b"));
    const resources = Array.from({ length: 1000 }, (_, i) => setting(i));
    const first = await writeSnapshot(blobs, "s1", { project: "p", target: "dev", resources });
    const before = new Set(await blobs.list(""));
    const changed = resources.map((r, i) => (i === 417 ? setting(i, "changed") : r));
    const key = await writeSnapshot(blobs, "s2", { project: "p", target: "dev", resources: changed }, { previous: first });
    const added = (await blobs.list("")).filter((k) => !before.has(k));
    const nodes = added.filter((k) => k.startsWith("revisions/n/"));
    // 1,000 addresses over a 16-way trie with leaves of at most 8: the path is 3 nodes deep (a few 2 or 4).
    assert.ok(nodes.length >= 2 && nodes.length <= 4, `nodes on the path: ${nodes.length}`);
    assert.equal(added.length, nodes.length + 1, "the nodes and the root, nothing else");
    assert.deepEqual(added.filter((k) => k.startsWith("snapshots/")), [key]);
    let bytes = 0;
    for (const k of added) bytes += (await blobs.get(k))!.length;
    assert.ok(bytes < 2048, `bytes newly stored: ${bytes}`);
    assert.deepEqual((await readSnapshot(blobs, key)).resources, sorted(changed));
  });

  it("a first revision of many nodes is one pack and a root, not a blob per node", async () => {
    const blobs = new FsBlobStore(join(root, "f"));
    const resources = Array.from({ length: 2000 }, (_, i) => setting(i));
    const key = await writeSnapshot(blobs, "s1", { project: "p", target: "dev", resources });
    const stored = await blobs.list("");
    assert.equal(stored.filter((k) => k.startsWith("revisions/p/")).length, 1);
    assert.deepEqual(stored.filter((k) => k.startsWith("revisions/n/")), []);
    assert.deepEqual(stored.filter((k) => k.startsWith("snapshots/")), [key]);
    assert.deepEqual((await readSnapshot(blobs, key)).resources, sorted(resources));
  });

  it("a later revision shares the packs it still uses and drops the ones it does not", async () => {
    const blobs = new FsBlobStore(join(root, "g"));
    const resources = Array.from({ length: 1000 }, (_, i) => setting(i));
    const k1 = await writeSnapshot(blobs, "s1", { project: "p", target: "dev", resources });
    // Every resource changed: all nodes new, another pack; the first pack is no longer used.
    const all = resources.map((_, i) => setting(i, "all"));
    const k2 = await writeSnapshot(blobs, "s2", { project: "p", target: "dev", resources: all }, { previous: k1 });
    const packs = await blobs.list("revisions/p/");
    assert.equal(packs.length, 2);
    const root2 = JSON.parse(gunzipSync((await blobs.get(k2))!).toString()) as { packs: string[] };
    assert.equal(root2.packs.length, 1);
    // Half of them back to the first values: nodes from both packs (and maybe a few new ones).
    const half = resources.map((r, i) => (i % 2 ? r : all[i]!));
    const k3 = await writeSnapshot(blobs, "s3", { project: "p", target: "dev", resources: half }, { previous: k2 });
    assert.deepEqual((await readSnapshot(blobs, k3)).resources, sorted(half));
    assert.deepEqual((await readSnapshot(blobs, k1)).resources, sorted(resources));
    assert.deepEqual((await readSnapshot(blobs, k2)).resources, sorted(all));
  });

  it("a previous revision that is gone (or of format 1) is not an error: nothing is shared", async () => {
    const blobs = new FsBlobStore(join(root, "h"));
    const resources = Array.from({ length: 100 }, (_, i) => setting(i));
    for (const previous of ["snapshots/gone.v2.json.gz", "snapshots/old.json.gz"]) {
      const key = await writeSnapshot(blobs, `s-${previous.length}`, { project: "p", target: "dev", resources }, { previous });
      assert.deepEqual((await readSnapshot(blobs, key)).resources, sorted(resources));
    }
  });

  it("the same state twice writes nothing", async () => {
    const blobs = new FsBlobStore(join(root, "c"));
    const resources = Array.from({ length: 50 }, (_, i) => setting(i));
    await writeSnapshot(blobs, "s1", { project: "p", target: "dev", resources });
    const before = (await blobs.list("")).length;
    await writeSnapshot(blobs, "s1", { project: "p", target: "dev", resources });
    assert.equal((await blobs.list("")).length, before);
  });

  it("reads format 1 snapshots (every resource inline) written by earlier versions", async () => {
    const blobs = new FsBlobStore(join(root, "d"));
    const snapshot = { project: "p", target: "dev", resources: [setting(1), setting(2)], rolled_back_to: 3 };
    await blobs.put("snapshots/old.json.gz", gzipSync(JSON.stringify(snapshot)));
    assert.deepEqual(await readSnapshot(blobs, "snapshots/old.json.gz"), snapshot);
  });

  it("a missing part is a clear error, not a crash", async () => {
    const blobs = new FsBlobStore(join(root, "e"));
    const key = await writeSnapshot(blobs, "s1", { project: "p", target: "dev", resources: [setting(1)] });
    for (const k of await blobs.list("revisions/n/")) await blobs.delete(k);
    await assert.rejects(readSnapshot(blobs, key), { code: "snapshot_missing" });
    const packed = await writeSnapshot(blobs, "s2", { project: "p", target: "dev", resources: Array.from({ length: 500 }, (_, i) => setting(i)) });
    for (const k of await blobs.list("revisions/p/")) await blobs.delete(k);
    await assert.rejects(readSnapshot(blobs, packed), { code: "snapshot_missing" });
  });
});
