// Where this package is installed, found from this file (src/ under tsx, dist/ when built).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "slipway") return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the slipway package folder");
    dir = parent;
  }
}

/** The built CLI, which also hosts the runner process (`slipway internal-runner RUN`). */
export function cliEntry(): string {
  return join(packageRoot(), "bin", "slipway.cjs");
}
