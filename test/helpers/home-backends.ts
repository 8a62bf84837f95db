// The backend matrix: with SLIPWAY_TEST_BACKENDS=postgres,s3,slurm (any of the three), every
// SLIPWAY_HOME a test helper makes (sandbox(), startTestServer()) gets a config.yaml naming those
// backends, so the integration files that prove the embedded default run again, unchanged, on
// PostgreSQL state, S3 blobs and the Slurm executor (docs/scale-out.md, "What the tests run against").
// scripts/test.sh runs that second pass on the files of test/backend-matrix.txt.
//
//   postgres  a fresh database per home on SLIPWAY_TEST_PG_URL's server, dropped by the home's cleanup
//             (and, for homes a test did not clean up, when the test process exits)
//   s3        the test server's bucket for this process (SLIPWAY_TEST_S3_*), a prefix per home;
//             credentials in the usual AWS_* variables of this process (so in-process SDK calls and
//             every child reach it the way a user's would)
//   slurm     executor { type: slurm } on the cluster SLIPWAY_TEST_SLURM_CONF names (SLURM_CONF in
//             this process's environment, inherited by every command and job)
//
// Homes are made synchronously (sandbox() is), so the database and the bucket are made with child
// processes (psql; node with the AWS SDK, once per process).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import type { BlobStore } from "../../src/store/blobs/blob-store.js";
import { FsBlobStore } from "../../src/store/blobs/fs/fs-blob-store.js";
import { S3BlobStore } from "../../src/store/blobs/s3/s3-blob-store.js";
import type { ArchiveKind } from "../../src/store/archives.js";
import { awsEnv, testS3 } from "./s3-env.js";

export type TestBackend = "postgres" | "s3" | "slurm";
const KNOWN: readonly TestBackend[] = ["postgres", "s3", "slurm"];

function parse(value: string | undefined): Set<TestBackend> {
  const names = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!KNOWN.includes(n as TestBackend)) throw new Error(`SLIPWAY_TEST_BACKENDS: unknown backend "${n}" (known: ${KNOWN.join(", ")})`);
  }
  return new Set(names as TestBackend[]);
}

/** The backends every test home uses in this process (empty: the embedded default). */
export const testBackends: ReadonlySet<TestBackend> = parse(process.env.SLIPWAY_TEST_BACKENDS);

const pgUrl = process.env.SLIPWAY_TEST_PG_URL;
const slurmConf = process.env.SLIPWAY_TEST_SLURM_CONF;
const missing = [
  testBackends.has("postgres") && !pgUrl && "SLIPWAY_TEST_PG_URL",
  testBackends.has("s3") && !testS3 && "SLIPWAY_TEST_S3_ENDPOINT",
  testBackends.has("slurm") && !slurmConf && "SLIPWAY_TEST_SLURM_CONF",
].filter(Boolean);
if (missing.length) throw new Error(`SLIPWAY_TEST_BACKENDS=${process.env.SLIPWAY_TEST_BACKENDS} needs ${missing.join(", ")} (scripts/test.sh starts the services and sets them)`);

// The environment every Slipway process of the tests inherits (sandbox() and startTestServer() copy
// process.env): the bucket's credentials and the cluster.
if (testBackends.has("s3")) Object.assign(process.env, awsEnv());
if (testBackends.has("slurm")) process.env.SLURM_CONF = slurmConf;

/** Whether this process's homes keep everything under SLIPWAY_HOME (no backend of the matrix). */
export const embeddedHome = testBackends.size === 0;

let bucket: string | undefined;
function processBucket(): string {
  if (bucket) return bucket;
  const name = `slipway-matrix-${process.pid}-${randomBytes(3).toString("hex")}`;
  const s3 = testS3!;
  const script = `
    const { S3Client, CreateBucketCommand } = require("@aws-sdk/client-s3");
    const c = new S3Client({ endpoint: ${JSON.stringify(s3.endpoint)}, region: ${JSON.stringify(s3.region)}, forcePathStyle: true,
      credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY } });
    c.send(new CreateBucketCommand({ Bucket: ${JSON.stringify(name)} })).catch((e) => { console.error(e.message); process.exit(1); });`;
  // From the repository, where the SDK is installed. The bucket goes with the test server's folder.
  const r = spawnSync(process.execPath, ["-e", script], { cwd: resolve(dirname(fileURLToPath(import.meta.url)), "../.."), env: { ...process.env, ...awsEnv() }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`could not create the test bucket ${name} at ${s3.endpoint}: ${r.stderr}`);
  return (bucket = name);
}

const databases = new Set<string>();
/** What each provisioned home names: its database's URL, its prefix in the bucket. */
const homes = new Map<string, { pgUrl?: string; prefix?: string }>();

function psql(sql: string, url = pgUrl!): string {
  const r = spawnSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", "-c", sql], { encoding: "utf8" });
  if (r.error || r.status !== 0) throw new Error(`psql ${sql}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

function dropDatabase(name: string): void {
  if (!databases.delete(name)) return;
  try {
    psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } catch {
    // the server may be gone already (the test command stops it at the end, with every database)
  }
}

process.on("exit", () => {
  for (const name of [...databases]) dropDatabase(name);
});

/**
 * Writes HOME/config.yaml naming this process's backends (nothing when there are none) and returns
 * what removes them again (drops the home's database), to call after the home's server stopped.
 */
export function provisionHome(home: string): () => void {
  if (embeddedHome) return () => {};
  const id = randomBytes(5).toString("hex");
  const named: { pgUrl?: string; prefix?: string } = {};
  const lines = ["# Written by test/helpers/home-backends.ts (SLIPWAY_TEST_BACKENDS)"];
  let database: string | undefined;
  if (testBackends.has("postgres")) {
    database = `slipway_home_${process.pid}_${id}`;
    psql(`CREATE DATABASE ${database}`);
    databases.add(database);
    const url = new URL(pgUrl!);
    url.pathname = `/${database}`;
    named.pgUrl = url.toString();
    lines.push(`state: { type: postgres, url: ${JSON.stringify(url.toString())} }`);
  }
  if (testBackends.has("s3")) {
    const s3 = testS3!;
    named.prefix = `home-${id}`;
    lines.push(`blobs: { type: s3, bucket: ${processBucket()}, prefix: ${named.prefix}, endpoint: ${JSON.stringify(s3.endpoint)}, region: ${s3.region} }`);
  }
  if (testBackends.has("slurm")) lines.push("executor: { type: slurm }");
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "config.yaml"), `${lines.join("\n")}\n`);
  homes.set(home, named);
  return () => {
    homes.delete(home);
    if (database) dropDatabase(database);
  };
}

/** For a test that only holds with the embedded default: its skip reason under the matrix. */
export function embeddedOnly(why: string): string | false {
  return embeddedHome ? false : `embedded default only (SLIPWAY_TEST_BACKENDS=${[...testBackends].join(",")}): ${why}`;
}

/** Runs SQL on a home's state database (SQLite's state.db, or the home's PostgreSQL database); rows are not returned. */
export function homeStateExec(home: string, sql: string): void {
  const url = homes.get(home)?.pgUrl;
  if (url) {
    psql(sql, url);
    return;
  }
  const db = new Database(join(home, "state.db"));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/**
 * What names a home outside its folder (its prefix in the bucket, its database), for tests that
 * compare two homes' output with each home's traces replaced by one placeholder.
 */
export function homeTraces(home: string): string[] {
  const named = homes.get(home);
  if (!named) return [home];
  return [home, ...(named.prefix ? [named.prefix] : []), ...(named.pgUrl ? [new URL(named.pgUrl).pathname.slice(1)] : [])];
}

/** The number a one-value query (`select count(*) …`) gives on a home's state database. */
export function homeStateNumber(home: string, sql: string): number {
  const url = homes.get(home)?.pgUrl;
  if (url) return Number(psql(sql, url).trim());
  const db = new Database(join(home, "state.db"), { readonly: true, fileMustExist: true });
  try {
    return Number(Object.values(db.prepare(sql).get() as Record<string, unknown>)[0]);
  } finally {
    db.close();
  }
}

/** The store a home keeps an archive kind in when the project names none: SLIPWAY_HOME/archives/KIND, or the home's bucket. */
export function homeArchive(home: string, kind: ArchiveKind): BlobStore {
  const prefix = homes.get(home)?.prefix;
  if (prefix === undefined) return new FsBlobStore(join(home, "archives", kind));
  const s3 = testS3!;
  return new S3BlobStore({ bucket: processBucket(), prefix: `${prefix}/archives/${kind}`, endpoint: s3.endpoint, region: s3.region, forcePathStyle: true });
}

/** The executor a target without its own runs on in this process's homes. */
export const homeExecutor: "local" | "slurm" = testBackends.has("slurm") ? "slurm" : "local";
