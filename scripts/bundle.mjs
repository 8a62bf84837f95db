// Bundles the CLI into one CommonJS file (dist/cli.cjs). One file instead of ~1,000 modules, and
// CommonJS so that bin/slipway.cjs can keep V8's compiled code between runs (its own code cache):
// together they cut the start-up every `slipway` command pays (see bench/README.md, startup). What a
// command imports with `await import()` stays in this file but is evaluated only when it runs.
// Native and optional backends stay external.
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minify: true,
  keepNames: true,
  sourcemap: true,
  logLevel: "warning",
  // Source files use import.meta.url (ESM); in a CommonJS bundle it comes from __filename.
  define: { "import.meta.url": "__slipwayModuleUrl" },
  banner: { js: 'const __slipwayModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
};

await build({
  ...common,
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/cli.cjs",
  external: ["better-sqlite3", "pg", "onnxruntime-node", "@aws-sdk/*", "@kubernetes/client-node"],
});

// The inference table's writer runs in a worker thread, which loads a file of its own: it goes beside
// the CLI bundle, where src/serving/inference-log.ts looks for it (dist/inference-writer.cjs).
await build({ ...common, entryPoints: ["src/serving/inference-writer.ts"], outfile: "dist/inference-writer.cjs", external: ["better-sqlite3", "pg"] });
