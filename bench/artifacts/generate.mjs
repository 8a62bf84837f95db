// Publishes N small versions of artifact `small` to a target's artifact store through the store API
// (the same code path as `slipway artifacts publish`, minus the CLI start-up), so `artifacts list`
// can be timed against N versions. Prints the time per publish.
//   node generate.mjs STORE_DIR PROJECT TARGET N
import { randomBytes, createHash } from "node:crypto";
import { ArtifactStore } from "../../dist/artifacts/store.js";
import { FsBlobStore } from "../../dist/store/blobs/fs/fs-blob-store.js";

const [dir, project, target, n] = process.argv.slice(2);
const store = new ArtifactStore(new FsBlobStore(dir), project, target);
const count = Number(n);
const base = Date.parse("2026-01-01T00:00:00Z");
const started = process.hrtime.bigint();
for (let i = 0; i < count; i++) {
  const data = randomBytes(1024);
  const version = `1.${Math.floor(i / 100)}.${i % 100}`;
  await store.publish(
    {
      artifact: "small",
      version,
      type: "archive",
      package: "small",
      filename: `small-${version}.tar.gz`,
      sha256: createHash("sha256").update(data).digest("hex"),
      size: data.length,
      created_at: new Date(base + i * 60_000).toISOString(),
      published_by: "bench",
    },
    data,
  );
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(JSON.stringify({ versions: count, total_ms: Math.round(ms), per_publish_ms: +(ms / count).toFixed(3) }));
