// Blobs in a bucket of an S3-compatible object store (AWS S3, OpenStack Swift's s3api, MinIO, …),
// through the official AWS SDK for JavaScript v3, loaded (dynamic import) only when a store is used.
// Keys live under an optional prefix. Credentials come from the SDK's usual chain: the AWS_*
// environment variables, a profile (AWS_PROFILE or `profile`), SSO, a container or instance role.
// A blob larger than one part is uploaded in parts (multipart), streamed: at most a few parts are in
// memory at once; putFile streams a file from disk the same way, getFile streams to disk.
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { GetObjectCommandOutput, ListObjectsV2CommandOutput, S3Client } from "@aws-sdk/client-s3";
import { SlipwayError } from "../../../errors.js";
import { quietAwsSdk } from "../../../env.js";
import { checkKey, checkPrefix, type BlobEntry, type BlobStore } from "../blob-store.js";

export interface S3StoreOptions {
  bucket: string;
  /** Prepended to every key; "" or ending with "/" (added when missing). */
  prefix?: string;
  /** An S3-compatible server's address (http://127.0.0.1:8080); AWS S3 when absent. */
  endpoint?: string;
  /** Else the SDK's (AWS_REGION, the profile); us-east-1 for an `endpoint` when neither says. */
  region?: string;
  /** A profile of ~/.aws/config and ~/.aws/credentials (else AWS_PROFILE, else the default chain). */
  profile?: string;
  /** Path-style addresses (ENDPOINT/BUCKET/KEY); default: true with an `endpoint`, false for AWS. */
  forcePathStyle?: boolean;
  /** Multipart part size in bytes (default 8 MiB, at least 5 MiB); larger blobs go in parts. */
  partSize?: number;
  /** Parts uploaded at once (default 4). */
  queueSize?: number;
  /** Keys asked for per listing request (default and most servers' maximum: 1,000). */
  listPageSize?: number;
  /** A client made by the caller (benchmarks count bytes through its middleware). */
  client?: S3Client;
}

/** S3's rule for bucket names (path-style addresses): 3-63 lowercase letters, digits, "." and "-". */
export const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const MIB = 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * MIB;
const MIN_PART_SIZE = 5 * MIB;

type Sdk = typeof import("@aws-sdk/client-s3");
type Storage = typeof import("@aws-sdk/lib-storage");

let sdk: { sdk: Sdk; storage: Storage } | undefined;
/**
 * The SDK, loaded once per process on first use, so commands that never touch S3 never load it
 * (require, not import(): the CLI bundle is CommonJS; the SDK ships CommonJS builds).
 */
async function loadSdk(): Promise<{ sdk: Sdk; storage: Storage }> {
  if (sdk) return sdk;
  quietAwsSdk();
  try {
    const require = createRequire(import.meta.url);
    sdk = { sdk: require("@aws-sdk/client-s3") as Sdk, storage: require("@aws-sdk/lib-storage") as Storage };
    return sdk;
  } catch (e) {
    throw new SlipwayError("blob_store_failed", `the AWS SDK for JavaScript could not be loaded: ${(e as Error).message}`, { hint: "reinstall slipway (npm install): @aws-sdk/client-s3 and @aws-sdk/lib-storage are its dependencies", cause: e });
  }
}

/** `s3://BUCKET/PREFIX` plus the options that are set, as a query (`?endpoint=…&region=…`). */
export function s3Location(o: S3StoreOptions): string {
  const q = new URLSearchParams();
  if (o.endpoint) q.set("endpoint", o.endpoint);
  if (o.region) q.set("region", o.region);
  if (o.profile) q.set("profile", o.profile);
  if (o.forcePathStyle !== undefined) q.set("path_style", String(o.forcePathStyle));
  const query = q.toString();
  return `s3://${o.bucket}/${normalPrefix(o.prefix)}${query ? `?${query}` : ""}`;
}

/** The options of an `s3://` location (see s3Location); undefined for anything else. */
export function parseS3Location(location: string): S3StoreOptions | undefined {
  const m = /^s3:\/\/([^/?]+)\/?([^?]*)(?:\?(.*))?$/.exec(location);
  if (!m) return undefined;
  const q = new URLSearchParams(m[3] ?? "");
  const pathStyle = q.get("path_style");
  return {
    bucket: m[1]!,
    prefix: m[2] ?? "",
    endpoint: q.get("endpoint") ?? undefined,
    region: q.get("region") ?? undefined,
    profile: q.get("profile") ?? undefined,
    forcePathStyle: pathStyle === null ? undefined : pathStyle === "true",
  };
}

function normalPrefix(prefix: string | undefined): string {
  if (!prefix) return "";
  const p = prefix.replace(/^\/+/, "");
  return p === "" || p.endsWith("/") ? p : `${p}/`;
}

export class S3BlobStore implements BlobStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private clientPromise?: Promise<S3Client>;

  constructor(private readonly options: S3StoreOptions) {
    if (!options.bucket || !S3_BUCKET.test(options.bucket)) throw new SlipwayError("invalid_backend", `blob backend s3: ${JSON.stringify(options.bucket)} is not a bucket name`, { hint: "blobs: { type: s3, bucket: NAME, … }" });
    this.bucket = options.bucket;
    this.prefix = normalPrefix(options.prefix);
    if (this.prefix) checkPrefix(this.prefix);
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_PART_SIZE);
    this.queueSize = Math.max(1, options.queueSize ?? 4);
    this.location = s3Location({ ...options, prefix: this.prefix });
  }

  /** The client, made on first use. */
  private client(): Promise<S3Client> {
    this.clientPromise ??= (async () => {
      if (this.options.client) return this.options.client;
      const { sdk } = await loadSdk();
      const o = this.options;
      const custom = !!o.endpoint;
      return new sdk.S3Client({
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        // A custom endpoint's region rarely matters, but SigV4 signs with one: us-east-1 unless set.
        ...(o.region ? { region: o.region } : custom ? { region: "us-east-1" } : {}),
        ...(o.profile ? { profile: o.profile } : {}),
        forcePathStyle: o.forcePathStyle ?? custom,
        // Other S3-compatible servers do not all check the newer flexible checksums; contents are
        // checked by their sha256 where Slipway reads them back (bundles, models, artifacts).
        ...(custom ? { requestChecksumCalculation: "WHEN_REQUIRED" as const, responseChecksumValidation: "WHEN_REQUIRED" as const } : {}),
      });
    })();
    return this.clientPromise;
  }

  private objectKey(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const k = this.objectKey(key);
    const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (body.length <= this.partSize) {
      const { sdk } = await loadSdk();
      await this.send("PUT", k, new sdk.PutObjectCommand({ Bucket: this.bucket, Key: k, Body: body, ContentLength: body.length }));
      return;
    }
    await this.upload(k, body);
  }

  async putFile(key: string, file: string): Promise<void> {
    const k = this.objectKey(key);
    const size = (await stat(file)).size;
    if (size <= this.partSize) {
      const { sdk } = await loadSdk();
      // Small: one PUT of the file's bytes, with its length.
      const body = await readFile(file);
      await this.send("PUT", k, new sdk.PutObjectCommand({ Bucket: this.bucket, Key: k, Body: body, ContentLength: body.length }));
      return;
    }
    await this.upload(k, createReadStream(file, { highWaterMark: MIB }));
  }

  /** A multipart upload: parts of partSize, queueSize of them at once; an upload that fails is aborted. */
  private async upload(k: string, body: Uint8Array | Readable): Promise<void> {
    const { storage } = await loadSdk();
    const client = await this.client();
    const upload = new storage.Upload({ client, params: { Bucket: this.bucket, Key: k, Body: body }, partSize: this.partSize, queueSize: this.queueSize, leavePartsOnError: false });
    try {
      await upload.done();
    } catch (e) {
      throw this.failure("PUT (multipart)", k, e);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    const k = this.objectKey(key);
    const { sdk } = await loadSdk();
    const out = await this.send<GetObjectCommandOutput>("GET", k, new sdk.GetObjectCommand({ Bucket: this.bucket, Key: k }), true);
    if (!out?.Body) return undefined;
    const bytes = await out.Body.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async getFile(key: string, file: string): Promise<boolean> {
    const k = this.objectKey(key);
    const { sdk } = await loadSdk();
    const out = await this.send<GetObjectCommandOutput>("GET", k, new sdk.GetObjectCommand({ Bucket: this.bucket, Key: k }), true);
    if (!out?.Body) return false;
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await pipeline(out.Body as Readable, createWriteStream(tmp));
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw this.failure("GET", k, e);
    }
    return true;
  }

  async has(key: string): Promise<boolean> {
    const k = this.objectKey(key);
    const { sdk } = await loadSdk();
    return (await this.send("HEAD", k, new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: k }), true)) !== undefined;
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.listDetailed(prefix)).map((e) => e.key);
  }

  /** The listing already says each object's size and last change: no request per object. */
  async listDetailed(prefix: string): Promise<BlobEntry[]> {
    checkPrefix(prefix);
    const { sdk } = await loadSdk();
    const entries: BlobEntry[] = [];
    let token: string | undefined;
    do {
      const out = await this.send<ListObjectsV2CommandOutput>("LIST", this.prefix + prefix, new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token, MaxKeys: this.options.listPageSize }));
      for (const o of out?.Contents ?? []) {
        if (o.Key?.startsWith(this.prefix)) entries.push({ key: o.Key.slice(this.prefix.length), size: o.Size ?? null, modified: o.LastModified ? o.LastModified.toISOString() : null });
      }
      token = out?.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    const k = this.objectKey(key);
    const { sdk } = await loadSdk();
    await this.send("DELETE", k, new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: k }), true);
  }

  /** Sends one command; with `absentOk`, a missing object is `undefined` instead of an error. */
  private async send<T>(op: string, key: string, command: object, absentOk = false): Promise<T | undefined> {
    const client = await this.client();
    try {
      return (await client.send(command as Parameters<S3Client["send"]>[0])) as T;
    } catch (e) {
      const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
      const status = err.$metadata?.httpStatusCode;
      if (absentOk && (err.name === "NoSuchKey" || err.name === "NotFound" || (status === 404 && err.name !== "NoSuchBucket"))) return undefined;
      throw this.failure(op, key, e);
    }
  }

  private failure(op: string, key: string, e: unknown): SlipwayError {
    if (e instanceof SlipwayError) return e;
    const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const status = err.$metadata?.httpStatusCode;
    const name = err.name ?? err.code ?? "Error";
    const where = `s3://${this.bucket}/${key}`;
    let hint = `check the bucket, the endpoint and the credentials of blobs: { type: s3, bucket: ${this.bucket} }`;
    if (name === "NoSuchBucket") hint = `create the bucket ${this.bucket} first (Slipway does not create buckets)`;
    else if (/InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|Forbidden|CredentialsProviderError|ExpiredToken/.test(name) || status === 403) {
      hint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or `profile` in the backend) to credentials that may use the bucket";
    } else if (/Region is missing/i.test(err.message ?? "")) hint = "set `region` in the blobs backend, or AWS_REGION";
    else if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|TimeoutError/.test(`${name} ${err.code ?? ""} ${err.message ?? ""}`)) hint = `is the object store reachable${this.options.endpoint ? ` at ${this.options.endpoint}` : ""}?`;
    return new SlipwayError("blob_store_failed", `${op} ${where} failed: ${name}${err.message && err.message !== name ? `: ${err.message}` : ""}`, {
      hint,
      details: { store: this.location, ...(status ? { status } : {}), error: name },
      cause: e,
    });
  }
}
