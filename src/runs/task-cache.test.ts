// Task-cache entries in an archive: what is trusted and what is not. A real folder for outputs, the
// in-memory blob store for the archive (the fs and S3 stores are held to the same behaviour by
// test/conformance/blob-store.test.ts).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { MemoryBlobStore } from "../store/blobs/memory-blob-store.js";
import { sha256 } from "../util/hash.js";
import { tempDir } from "../../test/helpers/kinds.js";
import { cacheEntryKey, entryProblem, lookupEntry, publishEntry, restoreFromAny, sealEntry, type CacheEntryBody } from "./task-cache.js";

const KEY = "a".repeat(64);
const asker = { project: "p", target: "dev", task: "prep" };
const body = (outputs: Record<string, string>): CacheEntryBody => ({ cache_key: KEY, project: "p", target: "dev", task: "prep", run_id: "r1", created_at: "2026-01-01T00:00:00.000Z", outputs });
const bytes = (o: unknown) => Buffer.from(JSON.stringify(o));

describe("task-cache entries", () => {
  it("an entry written with its files reads back and restores, each file checked", async () => {
    const out = tempDir();
    const back = tempDir();
    try {
      writeFileSync(join(out.dir, "data.txt"), "prepared\n");
      const store = new MemoryBlobStore();
      await publishEntry(store, out.dir, body({ "data.txt": sha256("prepared\n") }));
      assert.deepEqual(await store.list(""), [`files/${sha256("prepared\n")}`, cacheEntryKey(KEY)]);
      const found = await lookupEntry(store, KEY, asker);
      assert.ok(found && "entry" in found, JSON.stringify(found));
      await restoreFromAny([store], found.entry.outputs, back.dir);
      assert.equal(readFileSync(join(back.dir, "data.txt"), "utf8"), "prepared\n");
      assert.equal(await lookupEntry(store, "b".repeat(64), asker), undefined, "no entry: a miss");
    } finally {
      out.cleanup();
      back.cleanup();
    }
  });

  it("refuses entries that do not check out, saying why", () => {
    const good = sealEntry(body({ "data.txt": "c".repeat(64) }));
    assert.deepEqual(entryProblem(bytes(good), KEY, asker), good);
    const cases: Array<[string, unknown, RegExp, string?]> = [
      ["not JSON", "{", /not JSON/],
      ["an array", [], /not an object/],
      ["edited", { ...good, run_id: "r2" }, /digest does not match/],
      ["another format", { ...good, format: 2 }, /format 2 is not 1/],
      ["an extra field", { ...good, command: "rm -rf /" }, /fields an entry does not have/],
      ["a path out", sealEntry(body({ "../x": "c".repeat(64) })), /leaves the output folder/],
      ["an absolute path", sealEntry(body({ "/etc/x": "c".repeat(64) })), /leaves the output folder/],
      ["no sha256", sealEntry(body({ x: "zz" })), /has no sha256/],
      ["another key's", sealEntry({ ...body({}), cache_key: "d".repeat(64) }), /entry of another key/],
      ["another project's", sealEntry({ ...body({}), project: "q" }), /belongs to q\/dev/],
      ["another task's", sealEntry({ ...body({}), task: "train" }), /task train's, not prep's/],
      ["__proto__ as a path", JSON.parse(`{"__proto__": 1}`), /format/],
    ];
    for (const [what, value, why] of cases) {
      const data = typeof value === "string" ? Buffer.from(value) : bytes(value);
      const problem = entryProblem(data, KEY, asker);
      assert.equal(typeof problem, "string", what);
      assert.match(problem as string, why, what);
    }
  });

  it("a stored file that does not match its sha256 is not restored, and is removed from the store", async () => {
    const back = tempDir();
    try {
      const store = new MemoryBlobStore();
      const sha = sha256("prepared\n");
      await store.put(`files/${sha}`, "tampered\n");
      await assert.rejects(restoreFromAny([store], { "data.txt": sha }, back.dir), /does not match its sha256/);
      assert.equal(await store.has(`files/${sha}`), false, "the wrong content is gone");
      const second = new MemoryBlobStore();
      await second.put(`files/${sha}`, "prepared\n");
      await restoreFromAny([new MemoryBlobStore(), second], { "data.txt": sha }, back.dir);
      assert.equal(readFileSync(join(back.dir, "data.txt"), "utf8"), "prepared\n", "the next store that has it");
    } finally {
      back.cleanup();
    }
  });
});
