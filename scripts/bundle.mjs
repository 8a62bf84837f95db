// Bundles the CLI into one file (dist/cli.js): loading one file instead of ~1,000 modules cuts the
// start-up time of every `slipway` command (see bench/README.md). Native and optional backends stay external.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/cli.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  keepNames: true,
  sourcemap: true,
  external: ["better-sqlite3", "pg"],
  banner: { js: "import { createRequire as __slipwayCreateRequire } from 'node:module'; const require = __slipwayCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
