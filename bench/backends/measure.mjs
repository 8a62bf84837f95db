// bench/backends/run.sh's measurement: two homes, one project of 1,000 settings. Home "sqlite+fs" is the
// default (state.db, blobs/); home "postgres+s3" has a config.yaml naming a fresh PostgreSQL database and
// a bucket on the S3-compatible server. Each deploys the project once (timed once), then every round
// times, in an order that turns from round to round: `node -e 0`, and for both homes `plan` and
// `deploy` (without --yes: with anything to do it would refuse, exit 3, and the benchmark stops) with
// nothing to change. Prints medians, the ratio postgres+s3 / sqlite+fs, and the load.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";

const ROOT = resolve(import.meta.dirname, "../..");
const require = createRequire(join(ROOT, "package.json"));
const work = process.env.BENCH_DIR;
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const pgUrl = process.env.SLIPWAY_TEST_PG_URL;
const s3 = { endpoint: process.env.SLIPWAY_TEST_S3_ENDPOINT, region: process.env.SLIPWAY_TEST_S3_REGION, key: process.env.SLIPWAY_TEST_S3_ACCESS_KEY_ID, secret: process.env.SLIPWAY_TEST_S3_SECRET_ACCESS_KEY };
if (!work || !pgUrl || !s3.endpoint) throw new Error("run through bench/backends/run.sh (PostgreSQL and Swift)");

const project = join(work, "project");
spawnSync(process.execPath, [join(ROOT, "bench/engine/generate.mjs"), project, "1000"], { stdio: "inherit" });

// A fresh database and a bucket.
const pg = require("pg");
const admin = new pg.Client({ connectionString: pgUrl });
await admin.connect();
await admin.query("CREATE DATABASE slipway_bench_backends");
await admin.end();
const dbUrl = new URL(pgUrl);
dbUrl.pathname = "/slipway_bench_backends";
const { S3Client, CreateBucketCommand } = require("@aws-sdk/client-s3");
const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.key, secretAccessKey: s3.secret } });
await client.send(new CreateBucketCommand({ Bucket: "slipway-bench" }));

const homes = { "sqlite+fs": join(work, "home-sqlite"), "postgres+s3": join(work, "home-pg") };
mkdirSync(homes["postgres+s3"], { recursive: true });
writeFileSync(join(homes["postgres+s3"], "config.yaml"), `state: { type: postgres, url: "${dbUrl}" }\nblobs: { type: s3, bucket: slipway-bench, prefix: bench/, endpoint: "${s3.endpoint}", region: "${s3.region}" }\n`);
const env = (home) => ({ ...process.env, SLIPWAY_HOME: home, NO_COLOR: "1", SLIPWAY_SERVER_PORT: "0", AWS_ACCESS_KEY_ID: s3.key, AWS_SECRET_ACCESS_KEY: s3.secret });
const slipway = (home, args) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, "bin/slipway.cjs"), "--project", project, ...args], { env: env(home), encoding: "utf8" });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`slipway ${args.join(" ")} (${home}) exit ${r.status}: ${r.stderr || r.stdout}`);
  return { ms, stdout: r.stdout };
};

const first = {};
for (const [name, home] of Object.entries(homes)) first[name] = slipway(home, ["deploy", "--yes"]).ms;
for (const home of Object.values(homes)) {
  const plan = JSON.parse(slipway(home, ["plan", "--json"]).stdout);
  if (plan.summary ? plan.summary.create + plan.summary.update + plan.summary.replace + plan.summary.delete > 0 : JSON.stringify(plan).includes('"action":"create"')) throw new Error("the no-op plan is not empty");
}
const resources = JSON.parse(slipway(homes["sqlite+fs"], ["validate", "--json"]).stdout).resources;

const cases = [["node -e 0", () => { const t = performance.now(); spawnSync(process.execPath, ["-e", "0"]); return performance.now() - t; }]];
for (const [name, home] of Object.entries(homes)) for (const cmd of ["plan", "deploy"]) cases.push([`${cmd} (${name})`, () => slipway(home, [cmd]).ms]);
const times = Object.fromEntries(cases.map(([n]) => [n, []]));
const loadStart = loadavg();
for (let r = 0; r < rounds; r++) for (let k = 0; k < cases.length; k++) { const [n, f] = cases[(k + r) % cases.length]; times[n].push(f()); }
const loadEnd = loadavg();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const f = (x) => x.toFixed(0);
const out = [];
out.push(`${resources} resources, ${rounds} interleaved rounds, ${cpus().length} cores; load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} at start, ${loadEnd.map((x) => x.toFixed(2)).join(" ")} at end`);
out.push(`first deploy (once): sqlite+fs ${f(first["sqlite+fs"])} ms, postgres+s3 ${f(first["postgres+s3"])} ms`, "");
out.push("| command | median ms | min | max |", "|---|---:|---:|---:|");
for (const [n] of cases) out.push(`| ${n} | ${f(median(times[n]))} | ${f(Math.min(...times[n]))} | ${f(Math.max(...times[n]))} |`);
out.push("");
for (const cmd of ["plan", "deploy"]) {
  const ratios = times[`${cmd} (postgres+s3)`].map((x, i) => x / times[`${cmd} (sqlite+fs)`][i]);
  out.push(`no-op ${cmd}: postgres+s3 / sqlite+fs = ${median(ratios).toFixed(2)} (median of per-round ratios; ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
}
console.log(out.join("\n"));
process.exit(0);
