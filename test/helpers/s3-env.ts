// Where the tests' S3-compatible server is and how to reach it (the SLIPWAY_TEST_S3_* variables
// scripts/test.sh sets), without loading the AWS SDK: test/helpers/home-backends.ts, which every
// sandbox loads, needs only these. s3.ts re-exports them with the SDK-based helpers.
import { join } from "node:path";
import { tmpdir } from "node:os";

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
