import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { RefusedError } from "../errors.js";
import { FsBlobStore } from "../store/blobs/fs/fs-blob-store.js";
import { MemoryBlobStore } from "../store/blobs/memory-blob-store.js";
import { sha256 } from "../util/hash.js";
import { ArtifactStore, compareVersions, sortNewestFirst, type ArtifactVersion } from "./store.js";

function version(v: string, content: string, at = "2026-01-01T00:00:00.000Z"): [Omit<ArtifactVersion, "project" | "target">, Buffer] {
  const data = Buffer.from(content);
  return [{ artifact: "dqm", version: v, type: "python_wheel", package: "dqm", filename: `dqm-${v}-py3-none-any.whl`, sha256: sha256(data), size: data.length, created_at: at, published_by: "t" }, data];
}

describe("artifact store", () => {
  it("publishes once, treats the same content as a no-op and refuses other content", async () => {
    const blobs = new MemoryBlobStore();
    const val = new ArtifactStore(blobs, "p", "val");
    assert.equal(await val.publish(...version("1.0.0", "a")), "published");
    assert.equal(await val.publish(...version("1.0.0", "a")), "unchanged");
    await assert.rejects(val.publish(...version("1.0.0", "b")), (e: unknown) => e instanceof RefusedError && e.code === "version_exists" && e.exitCode === 3);
    assert.equal((await val.content((await val.get("dqm", "1.0.0"))!)).toString(), "a");
    const [meta, data] = version("2.0.0", "x");
    await assert.rejects(val.publish({ ...meta, sha256: "0".repeat(64) }, data), /does not match/);
  });

  it("keeps targets apart in a shared store, stores shared content once, and deletes it with its last version", async () => {
    const blobs = new MemoryBlobStore();
    const dev = new ArtifactStore(blobs, "p", "dev");
    const val = new ArtifactStore(blobs, "p", "val");
    await dev.publish(...version("1.0.0", "same"));
    await val.publish(...version("1.0.0", "same"));
    assert.equal((await blobs.list("p/dqm/files/")).filter((k) => k.endsWith(".whl")).length, 1);
    assert.deepEqual(await dev.versionNames("dqm"), ["1.0.0"]);
    assert.deepEqual((await dev.delete((await dev.get("dqm", "1.0.0"))!)).freedBytes, 0, "val still uses the content");
    assert.equal(await dev.get("dqm", "1.0.0"), undefined);
    assert.equal((await val.content((await val.get("dqm", "1.0.0"))!)).toString(), "same");
    assert.equal((await val.delete((await val.get("dqm", "1.0.0"))!)).freedBytes, 4);
    assert.deepEqual(await blobs.list("p/"), []);
  });

  it("sweeps content that no metadata refers to", async () => {
    const blobs = new MemoryBlobStore();
    const val = new ArtifactStore(blobs, "p", "val");
    await val.publish(...version("1.0.0", "kept"));
    await val.publish(...version("1.0.1", "orphan"));
    await blobs.delete(val.metadataKey("dqm", "1.0.1")); // a process stopped between the two deletes
    assert.equal(await val.sweep("dqm"), 6);
    assert.deepEqual((await val.list("dqm")).map((v) => v.version), ["1.0.0"]);
    assert.equal((await blobs.list("p/dqm/files/")).length, 2, "the live version's content and ref stay");
  });

  it("lists newest first by publish time, then by version with numbers compared as numbers", () => {
    const at = (v: string, t: string) => ({ ...version(v, v, t)[0], project: "p", target: "t" });
    const sorted = sortNewestFirst([at("2.6.9", "2026-01-01T00:00:00Z"), at("2.6.10", "2026-01-01T00:00:00Z"), at("1.0.0", "2026-02-01T00:00:00Z")]);
    assert.deepEqual(sorted.map((v) => v.version), ["1.0.0", "2.6.10", "2.6.9"]);
    assert.ok(compareVersions("1.10.0", "1.9.9") > 0);
    assert.ok(compareVersions("1.0.0rc1", "1.0.0") > 0, "suffixes sort after (text), a known simplification");
  });

  it("lists only the prefix's folder of a filesystem store", async () => {
    const root = mkdtempSync(join(tmpdir(), "slipway-fsblob-"));
    try {
      const fs = new FsBlobStore(root);
      await fs.put("p/dqm/targets/val/1.json", "{}");
      await fs.put("p/dqm/targets/val2/1.json", "{}");
      await fs.put("p/other/x", "");
      assert.deepEqual(await fs.list("p/dqm/targets/val/"), ["p/dqm/targets/val/1.json"]);
      assert.deepEqual(await fs.list("p/dqm/targets/val"), ["p/dqm/targets/val/1.json", "p/dqm/targets/val2/1.json"]);
      assert.deepEqual(await fs.list("p/missing/"), []);
      assert.equal((await fs.list("")).length, 3);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
