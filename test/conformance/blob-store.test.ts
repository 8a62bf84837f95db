// Conformance suite for the blob store: the same tests against the filesystem store (a temp folder),
// the in-memory store, and the S3 store on a real S3-compatible server — OpenStack Swift with its s3api
// middleware on 127.0.0.1, started by scripts/test.sh (SLIPWAY_TEST_S3_ENDPOINT; skipped with the
// reason when it is not set). Through the public BlobStore methods only. Each S3 run works in a bucket
// of its own (slipway-conf-<pid>-<random>), emptied and removed at the end. See test/conformance/README.md.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { missingKeys, putContent, putMany, type BlobStore } from "../../src/store/blobs/blob-store.js";
import { FsBlobStore } from "../../src/store/blobs/fs/fs-blob-store.js";
import { MemoryBlobStore } from "../../src/store/blobs/memory-blob-store.js";
import { blobStoreAt } from "../../src/store/blobs/open-blob-store.js";
import { S3BlobStore } from "../../src/store/blobs/s3/s3-blob-store.js";
import { SlipwayError } from "../../src/errors.js";
import { createBucket, listObjects, removeBucket, s3Skip, testS3, useAwsEnv } from "../helpers/s3.js";

// ---------------------------------------------------------------------------------------------
// Backends

interface Backend {
  readonly name: "fs" | "memory" | "s3";
  /** Set when the backend cannot run here: its tests are reported as skipped with this reason. */
  readonly skip?: string;
  /** Whether blobStoreAt(store.location) reaches the same blobs (not for memory). */
  readonly reopens: boolean;
  setup(): Promise<void>;
  /** A new, empty store, isolated from every other this backend made. */
  create(options?: { partSize?: number; listPageSize?: number }): BlobStore;
  cleanup(): Promise<void>;
}

function fsBackend(): Backend {
  let dir = "";
  let n = 0;
  return {
    name: "fs",
    reopens: true,
    async setup() {
      dir = mkdtempSync(join(tmpdir(), "slipway-conf-blobs-"));
    },
    create: () => new FsBlobStore(join(dir, `store-${++n}`)),
    async cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function memoryBackend(): Backend {
  return { name: "memory", reopens: false, setup: async () => {}, create: () => new MemoryBlobStore(), cleanup: async () => {} };
}

function s3Backend(): Backend {
  let bucket = "";
  let n = 0;
  return {
    name: "s3",
    skip: s3Skip,
    reopens: true,
    async setup() {
      useAwsEnv(); // credentials through the usual AWS variables, as a user gives them
      bucket = await createBucket("slipway-conf");
    },
    create: (options) => new S3BlobStore({ bucket, prefix: `store-${++n}/`, endpoint: testS3!.endpoint, region: testS3!.region, partSize: options?.partSize, listPageSize: options?.listPageSize }),
    async cleanup() {
      if (bucket) await removeBucket(bucket);
    },
  };
}

const backends: Backend[] = [fsBackend(), memoryBackend(), s3Backend()];

const sha = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** Counts the writes that reach a store. */
function counting(store: BlobStore): BlobStore & { puts: number } {
  const c = Object.create(store) as BlobStore & { puts: number };
  c.puts = 0;
  c.put = async (key, data) => {
    c.puts++;
    return store.put(key, data);
  };
  return c;
}

for (const backend of backends) {
  const opts = backend.skip ? { skip: backend.skip } : {};
  const name = (what: string) => `blob store [${backend.name}]: ${what}`;

  describe(`blob store [${backend.name}]`, opts, () => {
    let scratch = "";
    before(async () => {
      if (backend.skip) return;
      await backend.setup();
      scratch = mkdtempSync(join(tmpdir(), "slipway-conf-blobs-files-"));
    });
    after(async () => {
      if (backend.skip) return;
      await backend.cleanup();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    test(name("put then get returns the same bytes; strings are stored as UTF-8; an empty blob is a blob"), async () => {
      const s = backend.create();
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await s.put("a/bytes", bytes);
      await s.put("a/text", "grüße ✓\n");
      await s.put("a/empty", "");
      assert.deepEqual(await s.get("a/bytes"), bytes);
      assert.equal((await s.get("a/text"))!.toString("utf8"), "grüße ✓\n");
      const empty = await s.get("a/empty");
      assert.ok(Buffer.isBuffer(empty));
      assert.equal(empty.length, 0);
      assert.equal(await s.has("a/empty"), true);
    });

    test(name("get and has of a missing key: undefined and false"), async () => {
      const s = backend.create();
      assert.equal(await s.get("nothing/here"), undefined);
      assert.equal(await s.has("nothing/here"), false);
      await s.put("nothing/there", "x");
      assert.equal(await s.has("nothing/here"), false);
      assert.equal(await s.has("nothing"), false, "a key's folder is not a key");
    });

    test(name("put replaces the content of an existing key"), async () => {
      const s = backend.create();
      await s.put("k", "first");
      await s.put("k", "second, longer");
      assert.equal((await s.get("k"))!.toString(), "second, longer");
      await s.put("k", "3");
      assert.equal((await s.get("k"))!.toString(), "3");
    });

    test(name("delete removes the key; deleting a missing key succeeds"), async () => {
      const s = backend.create();
      await s.put("d/one", "1");
      await s.put("d/two", "2");
      await s.delete("d/one");
      assert.equal(await s.has("d/one"), false);
      assert.equal(await s.get("d/one"), undefined);
      assert.equal(await s.has("d/two"), true);
      await s.delete("d/one");
      await s.delete("never/was");
      assert.deepEqual(await s.list("d/"), ["d/two"]);
    });

    test(name("list is a plain string prefix, sorted, over every depth; a missing prefix lists nothing"), async () => {
      const s = backend.create();
      const keys = ["b/x", "a/b/c", "a/bc", "a/b/d/e", "a/a", "ab", "a/b"];
      for (const k of keys.filter((k) => k !== "a/b")) await s.put(k, k);
      assert.deepEqual(await s.list(""), ["a/a", "a/b/c", "a/b/d/e", "a/bc", "ab", "b/x"]);
      assert.deepEqual(await s.list("a/"), ["a/a", "a/b/c", "a/b/d/e", "a/bc"]);
      assert.deepEqual(await s.list("a/b"), ["a/b/c", "a/b/d/e", "a/bc"]);
      assert.deepEqual(await s.list("a/b/"), ["a/b/c", "a/b/d/e"]);
      assert.deepEqual(await s.list("a/b/d/e"), ["a/b/d/e"]);
      assert.deepEqual(await s.list("zzz/"), []);
      assert.deepEqual(await s.list("a/q/"), []);
    });

    test(name("listDetailed gives each blob's size and time, like list gives its key"), async () => {
      const s = backend.create();
      await s.put("sz/a", "12345");
      await s.put("sz/b/c", "");
      const entries = await s.listDetailed!("sz/");
      assert.deepEqual(entries.map((e) => [e.key, e.size]), [["sz/a", 5], ["sz/b/c", 0]]);
      for (const e of entries) assert.ok(e.modified && !Number.isNaN(Date.parse(e.modified)), `a time for ${e.key}`);
      assert.deepEqual(await s.listDetailed!("none/"), []);
    });

    test(name("keys with spaces, unicode, '+', '=', '%' and dots round-trip and list as written"), async () => {
      const s = backend.create();
      const keys = ["odd/ü name+x=y.txt", "odd/100%.json", "odd/.hidden", "odd/a..b/c~d", "odd/tab\there"];
      for (const k of keys) await s.put(k, `v:${k}`);
      for (const k of keys) assert.equal((await s.get(k))!.toString(), `v:${k}`, k);
      assert.deepEqual(await s.list("odd/"), [...keys].sort());
    });

    test(name("invalid keys are refused by every method"), async () => {
      const s = backend.create();
      for (const bad of ["", "/a", "a/", "a//b", "..", "../a", "a/../b", "a/..", ".", "./a", "a/./b", "a\\b", "a\0b"]) {
        await assert.rejects(() => s.put(bad, "x"), /invalid blob key/, `put ${JSON.stringify(bad)}`);
        await assert.rejects(() => s.get(bad), /invalid blob key/, `get ${JSON.stringify(bad)}`);
        await assert.rejects(() => s.has(bad), /invalid blob key/, `has ${JSON.stringify(bad)}`);
        await assert.rejects(() => s.delete(bad), /invalid blob key/, `delete ${JSON.stringify(bad)}`);
      }
      for (const bad of ["../", "a/../", "a//", "/a/", "./"]) await assert.rejects(() => s.list(bad), /invalid blob prefix/, `list ${JSON.stringify(bad)}`);
    });

    test(name("putFile stores a file's content; getFile writes a blob to a file and says false for a missing one"), async () => {
      const s = backend.create();
      const src = join(scratch, `${backend.name}-src-${randomBytes(3).toString("hex")}`);
      const data = randomBytes(70_000);
      writeFileSync(src, data);
      await s.putFile("files/one", src);
      assert.deepEqual(await s.get("files/one"), data);
      const out = join(scratch, `${backend.name}-out-${randomBytes(3).toString("hex")}`);
      writeFileSync(out, "old content, replaced");
      assert.equal(await s.getFile("files/one", out), true);
      assert.deepEqual(readFileSync(out), data);
      const none = join(scratch, `${backend.name}-none-${randomBytes(3).toString("hex")}`);
      assert.equal(await s.getFile("files/missing", none), false);
      assert.equal(existsSync(none), false, "nothing is written for a missing blob");
      await s.put("files/empty", "");
      const empty = join(scratch, `${backend.name}-empty-${randomBytes(3).toString("hex")}`);
      assert.equal(await s.getFile("files/empty", empty), true);
      assert.equal(readFileSync(empty).length, 0);
    });

    test(name("a blob larger than a part (20 MiB, put and putFile) round-trips whole"), async () => {
      const s = backend.create({ partSize: 5 * 1024 * 1024 }); // S3: 4 parts of 5 MiB, multipart
      const data = randomBytes(20 * 1024 * 1024 + 123);
      await s.put("big/buffer", data);
      const back = await s.get("big/buffer");
      assert.equal(back!.length, data.length);
      assert.equal(sha(back!), sha(data));
      const file = join(scratch, `${backend.name}-big-${randomBytes(3).toString("hex")}`);
      writeFileSync(file, data);
      await s.putFile("big/file", file);
      const out = `${file}.out`;
      assert.equal(await s.getFile("big/file", out), true);
      assert.equal(sha(readFileSync(out)), sha(data));
      assert.deepEqual(await s.list("big/"), ["big/buffer", "big/file"]);
    });

    test(name("20 concurrent puts of different keys all land; concurrent puts of one key leave one whole value"), async () => {
      const s = backend.create();
      await Promise.all(Array.from({ length: 20 }, (_, i) => s.put(`many/${String(i).padStart(2, "0")}`, `value ${i}`)));
      const keys = await s.list("many/");
      assert.equal(keys.length, 20);
      for (const [i, k] of keys.entries()) assert.equal((await s.get(k))!.toString(), `value ${i}`);
      const values = Array.from({ length: 8 }, (_, i) => Buffer.alloc(100_000 + i, 65 + i));
      await Promise.all(values.map((v) => s.put("race/one", v)));
      const final = (await s.get("race/one"))!;
      assert.ok(values.some((v) => v.equals(final)), "the final content is exactly one of the values written");
    });

    test(name("list returns every key over several listing pages (250 keys, pages of 100)"), async () => {
      const s = backend.create({ listPageSize: 100 });
      const keys = Array.from({ length: 250 }, (_, i) => `page/${String(i).padStart(4, "0")}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => s.put(k, "")));
      assert.deepEqual(await s.list("page/"), keys);
    });

    test(name("putContent stores content under its hash once; the second time writes nothing"), async () => {
      const s = counting(backend.create());
      const k1 = await putContent(s, "same content", "sha256");
      const k2 = await putContent(s, "same content", "sha256");
      assert.equal(k1, k2);
      assert.equal(k1, `sha256/${sha(Buffer.from("same content"))}`);
      assert.equal(s.puts, 1);
    });

    test(name("putMany stores every item (replacing), in new folders too; missingKeys names the absent keys in order"), async () => {
      const s = backend.create();
      await s.put("many/b", "old");
      await s.put("many/dir/x", "x");
      const items = Array.from({ length: 300 }, (_, i) => ({ key: `many/n/${String(i).padStart(3, "0")}`, data: `v${i}` }));
      await putMany(s, [...items, { key: "many/b", data: Buffer.from("new") }]);
      assert.equal((await s.get("many/n/299"))?.toString(), "v299");
      assert.equal((await s.get("many/b"))?.toString(), "new");
      assert.equal((await s.list("many/n/")).length, 300);
      // "many/dir" is a folder on disk, not a key.
      assert.deepEqual(await missingKeys(s, ["many/zz", "many/n/007", "many/dir", "many/a", "many/b"]), ["many/zz", "many/dir", "many/a"]);
      await putMany(s, []);
      await assert.rejects(() => putMany(s, [{ key: "../escape", data: "x" }]));
      await assert.rejects(() => missingKeys(s, ["a/../b"]));
    });

    test(name("stores are isolated from each other"), async () => {
      const a = backend.create();
      const b = backend.create();
      await a.put("shared/key", "a");
      assert.equal(await b.has("shared/key"), false);
      assert.deepEqual(await b.list(""), []);
      await b.put("shared/key", "b");
      assert.equal((await a.get("shared/key"))!.toString(), "a");
      await b.delete("shared/key");
      assert.equal((await a.get("shared/key"))!.toString(), "a");
    });

    test(name("blobStoreAt(location) reopens the same store"), { skip: backend.reopens ? false : "an in-memory store has no location to reopen" }, async () => {
      const s = backend.create();
      await s.put("reopen/x", "here");
      const again = blobStoreAt(s.location);
      assert.equal(again.location, s.location);
      assert.equal((await again.get("reopen/x"))!.toString(), "here");
      assert.deepEqual(await again.list("reopen/"), ["reopen/x"]);
    });
  });
}

// S3 only: what lands in the bucket, and how failures read.
describe("blob store [s3]: the bucket and its failures", { skip: s3Skip }, () => {
  let bucket = "";
  before(async () => {
    useAwsEnv();
    bucket = await createBucket("slipway-conf-s3");
  });
  after(async () => {
    if (bucket) await removeBucket(bucket);
  });

  test("keys are the prefix plus the key; the location names bucket, prefix, endpoint and region", async () => {
    const s = new S3BlobStore({ bucket, prefix: "team/prod", endpoint: testS3!.endpoint, region: testS3!.region });
    assert.equal(s.location, `s3://${bucket}/team/prod/?endpoint=${encodeURIComponent(testS3!.endpoint)}&region=${testS3!.region}`);
    await s.put("bundles/x.json", "{}");
    await s.put("files/ab", "1234");
    assert.deepEqual(await listObjects(bucket, "team/"), [
      { key: "team/prod/bundles/x.json", size: 2 },
      { key: "team/prod/files/ab", size: 4 },
    ]);
  });

  test("a missing bucket fails with blob_store_failed and says to create it", async () => {
    const s = new S3BlobStore({ bucket: `${bucket}-absent`, endpoint: testS3!.endpoint, region: testS3!.region });
    for (const op of [() => s.put("k", "v"), () => s.list(""), () => s.get("k")]) {
      await assert.rejects(op, (e: unknown) => {
        assert.ok(e instanceof SlipwayError, String(e));
        assert.equal(e.code, "blob_store_failed");
        assert.match(e.hint ?? "", /create the bucket/);
        return true;
      });
    }
  });

  test("wrong credentials fail with blob_store_failed and point at the AWS variables", async () => {
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = "not-the-secret";
    try {
      const s = new S3BlobStore({ bucket, endpoint: testS3!.endpoint, region: testS3!.region });
      await assert.rejects(() => s.put("k", "v"), (e: unknown) => {
        assert.ok(e instanceof SlipwayError, String(e));
        assert.equal(e.code, "blob_store_failed");
        assert.match(e.hint ?? "", /AWS_ACCESS_KEY_ID/);
        return true;
      });
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });

  test("an unreachable endpoint fails with blob_store_failed", async () => {
    const s = new S3BlobStore({ bucket, endpoint: "http://127.0.0.1:9", region: "us-east-1" });
    await assert.rejects(() => s.has("k"), (e: unknown) => e instanceof SlipwayError && e.code === "blob_store_failed" && /reachable/.test(e.hint ?? ""));
  });
});
