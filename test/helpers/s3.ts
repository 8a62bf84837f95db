// The S3-compatible server the tests use: OpenStack Swift with its s3api middleware on 127.0.0.1,
// started by scripts/test.sh (scripts/services/swift.sh), named by SLIPWAY_TEST_S3_* variables. A real
// server, not a fake. Without those variables, tests that need it are skipped with `s3Skip`.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

export interface TestS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

// The SDK warns once per process that its releases after January 2027 need Node.js 22 (see src/env.ts).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export const testS3: TestS3 | undefined = process.env.SLIPWAY_TEST_S3_ENDPOINT
  ? {
      endpoint: process.env.SLIPWAY_TEST_S3_ENDPOINT,
      region: process.env.SLIPWAY_TEST_S3_REGION ?? "us-east-1",
      accessKeyId: process.env.SLIPWAY_TEST_S3_ACCESS_KEY_ID ?? "test:tester",
      secretAccessKey: process.env.SLIPWAY_TEST_S3_SECRET_ACCESS_KEY ?? "testing",
    }
  : undefined;

/** Why S3 tests cannot run here, or undefined when they can. */
export const s3Skip: string | undefined = testS3 ? undefined : "SLIPWAY_TEST_S3_ENDPOINT is not set (scripts/test.sh starts OpenStack Swift with scripts/services/swift.sh; as non-root it needs the swift packages installed)";

/**
 * The environment a Slipway process gets to reach the test server: credentials in the usual AWS
 * variables, and nothing from this machine's own AWS configuration (no ~/.aws files, no instance metadata).
 */
export function awsEnv(s3: TestS3 = testS3!): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_CONFIG_FILE: join(tmpdir(), "slipway-test-no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), "slipway-test-no-aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    // unset for Slipway, which switches the SDK's Node.js-version warning off itself (src/env.ts)
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "",
  };
}

/** Puts awsEnv() into this process's environment (for stores opened in-process), once. */
export function useAwsEnv(): void {
  Object.assign(process.env, awsEnv());
}

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
