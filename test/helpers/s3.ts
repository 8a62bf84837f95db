// The S3-compatible server the tests use: OpenStack Swift with its s3api middleware on 127.0.0.1,
// started by scripts/test.sh (scripts/services/swift.sh), named by SLIPWAY_TEST_S3_* variables. A real
// server, not a fake. Without those variables, tests that need it are skipped with `s3Skip`.
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

export { awsEnv, s3Skip, testS3, useAwsEnv, type TestS3 } from "./s3-env.js";
import { testS3, type TestS3 } from "./s3-env.js";

export function adminClient(s3: TestS3 = testS3!): S3Client {
  return new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
}

/** A new empty bucket named `<stem>-<pid>-<random>`. */
export async function createBucket(stem: string): Promise<string> {
  const name = `${stem}-${process.pid}-${randomBytes(4).toString("hex")}`;
  await adminClient().send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Every key of the bucket (under `prefix`), with its size. */
export async function listObjects(bucket: string, prefix = ""): Promise<{ key: string; size: number }[]> {
  const client = adminClient();
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Empties and removes a bucket made by createBucket. */
export async function removeBucket(bucket: string): Promise<void> {
  const client = adminClient();
  const objects = await listObjects(bucket);
  for (let i = 0; i < objects.length; i += 32) {
    await Promise.all(objects.slice(i, i + 32).map((o) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key }))));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
