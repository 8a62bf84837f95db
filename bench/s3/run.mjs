// Bytes uploaded per change to an S3-compatible store (issue 17, point 1). A job source of BENCH_S3_MB
// (default 1024 MiB: data shards of 32 MiB of random bytes, plus 1,980 source files of 1 KiB in 20
// packages, as in bench/lib/source-tree.mjs) is captured into a bucket through S3BlobStore, with the
// capture index; then BENCH_ROUNDS times one 1 KiB source file gets new content (1,024 B) and the
// source is captured again. Bytes uploaded are counted on the S3 client: the body of every PutObject
// and UploadPart request (a middleware on the client the store is given), and checked against the
// bucket's growth (ListObjectsV2 sizes). Target: the second capture uploads at most 1.1 x (the change
// + the bundle's new metadata: tree nodes on the changed path and the record).
//
//   BENCH_S3_ENDPOINT=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… node --import tsx bench/s3/run.mjs
//   (bench/s3/run.sh starts a Swift server and sets these.)  Knobs: BENCH_S3_MB, BENCH_ROUNDS (3), BENCH_KEEP=1.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { captureBundle } from "../../src/bundles/index.js";
import { S3BlobStore } from "../../src/store/blobs/s3/s3-blob-store.js";
import { smallPath, SMALL, SMALL_BYTES, changedPath } from "../lib/source-tree.mjs";

const MB = Number(process.env.BENCH_S3_MB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ENDPOINT = process.env.BENCH_S3_ENDPOINT;
const REGION = process.env.BENCH_S3_REGION ?? "us-east-1";
const SHARD = 32 * 1024 * 1024;
const SETTLE_MS = 2100; // the index does not trust a file changed less than 2 s before it was hashed
if (!ENDPOINT) throw new Error("BENCH_S3_ENDPOINT is not set (bench/s3/run.sh starts a server)");
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const fmt = (n) => Math.round(n).toLocaleString("en-US");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A client that counts what it uploads: request bodies of PutObject and UploadPart, and requests per command. */
function countingClient() {
  const client = new S3Client({ endpoint: ENDPOINT, region: REGION, forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
  const counts = { uploaded: 0, requests: {} };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName;
      counts.requests[name] = (counts.requests[name] ?? 0) + 1;
      if (name === "PutObjectCommand" || name === "UploadPartCommand") {
        const body = args.input.Body;
        counts.uploaded += typeof body === "string" ? Buffer.byteLength(body) : (body?.byteLength ?? body?.length ?? 0);
      }
      return next(args);
    },
    { step: "initialize", name: "slipwayBenchCount" },
  );
  return { client, counts };
}

async function bucketBytes(client, bucket) {
  let n = 0;
  let objects = 0;
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      n += o.Size ?? 0;
      objects++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { bytes: n, objects };
}

const { client, counts } = countingClient();
// The bucket's size is read with a client of its own, so the bench's listings are not counted as the capture's.
const lister = new S3Client({ endpoint: ENDPOINT, region: REGION, forcePathStyle: true });
const bucket = `slipway-bench-${process.pid}-${randomBytes(3).toString("hex")}`;
await client.send(new CreateBucketCommand({ Bucket: bucket }));
const tmp = await mkdtemp(join(tmpdir(), "slipway-bench-s3-"));
const src = join(tmp, "src");
const report = { bench: "s3", endpoint: ENDPOINT, mb: MB, load_start: loadavg().map((x) => x.toFixed(2)).join(", "), cpus: cpus().length, rounds: [] };
try {
  // The source: shards of random (incompressible) data, and the 1,980 small source files.
  const shards = Math.max(1, Math.round((MB * 1024 * 1024 - SMALL * SMALL_BYTES) / SHARD));
  await mkdir(join(src, "data"), { recursive: true });
  for (let i = 0; i < shards; i++) await writeFile(join(src, "data", `shard-${String(i).padStart(3, "0")}.bin`), randomBytes(SHARD));
  for (let i = 0; i < SMALL; i++) {
    const p = join(src, ...smallPath(i, "nested").split("/"));
    await mkdir(join(p, ".."), { recursive: true });
    await writeFile(p, randomBytes(SMALL_BYTES / 2).toString("hex"));
  }
  const sourceBytes = shards * SHARD + SMALL * SMALL_BYTES;
  report.source = { files: shards + SMALL, bytes: sourceBytes, shards, shard_bytes: SHARD };
  await sleep(SETTLE_MS);

  const store = new S3BlobStore({ bucket, prefix: "bench/", client });
  const index = join(tmp, "index");
  const capture = async () => {
    const before = { ...counts, requests: { ...counts.requests } };
    const bucketBefore = await bucketBytes(lister, bucket);
    const t = performance.now();
    const r = await captureBundle(store, { sourceDir: src, indexFile: index });
    const ms = performance.now() - t;
    const bucketAfter = await bucketBytes(lister, bucket);
    const requests = Object.fromEntries(Object.entries(counts.requests).map(([k, v]) => [k.replace(/Command$/, ""), v - (before.requests[k] ?? 0)]).filter(([, v]) => v > 0));
    return { uploaded: counts.uploaded - before.uploaded, bucket_growth: bucketAfter.bytes - bucketBefore.bytes, metadata: r.metadataBytesWritten, files_written: r.filesWritten, ms: Math.round(ms), requests, hash: r.hash };
  };

  const first = await capture();
  report.first = first;
  console.log(`source: ${fmt(sourceBytes)} B in ${fmt(shards + SMALL)} files (${shards} shards of 32 MiB + ${SMALL} x 1 KiB); endpoint ${ENDPOINT}; load ${report.load_start}`);
  console.log(`first capture: uploaded ${fmt(first.uploaded)} B (bucket +${fmt(first.bucket_growth)} B) in ${(first.ms / 1000).toFixed(1)} s = ${fmt(sourceBytes / 1024 / 1024 / (first.ms / 1000))} MiB/s; requests ${JSON.stringify(first.requests)}`);

  for (let round = 1; round <= ROUNDS; round++) {
    await sleep(SETTLE_MS);
    const content = randomBytes(SMALL_BYTES / 2).toString("hex"); // 1,024 B
    await writeFile(join(src, ...changedPath("nested").split("/")), content);
    await sleep(SETTLE_MS);
    const r = await capture();
    const change = Buffer.byteLength(content);
    const limit = 1.1 * (change + r.metadata);
    const row = { round, change, ...r, ratio_to_change: r.uploaded / change, limit: Math.round(limit), ok: r.uploaded <= limit };
    report.rounds.push(row);
    console.log(`change ${round}: uploaded ${fmt(r.uploaded)} B (bucket +${fmt(r.bucket_growth)} B) = change ${fmt(change)} B + metadata ${fmt(r.metadata)} B; limit 1.1 x (change + metadata) = ${fmt(limit)} B: ${row.ok ? "ok" : "OVER"}; ${r.ms} ms; requests ${JSON.stringify(r.requests)}`);
  }
  await sleep(SETTLE_MS);
  const unchanged = await capture();
  report.unchanged = unchanged;
  console.log(`unchanged capture: uploaded ${fmt(unchanged.uploaded)} B; ${unchanged.ms} ms; requests ${JSON.stringify(unchanged.requests)}`);
  report.load_end = loadavg().map((x) => x.toFixed(2)).join(", ");
  console.log(`load at the end ${report.load_end}`);
  await writeFile(join(process.cwd(), "bench", "out", "s3.json"), JSON.stringify(report, null, 2));
  if (report.rounds.some((r) => !r.ok)) process.exitCode = 1;
} finally {
  if (!process.env.BENCH_KEEP) {
    await rm(tmp, { recursive: true, force: true });
    let token;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      const keys = (page.Contents ?? []).map((o) => o.Key);
      for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((Key) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  }
}
