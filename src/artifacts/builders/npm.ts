// npm: `npm pack` of the package folder (its prepack/prepare scripts run as usual). The version is
// package.json's.
import { existsSync, readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { InvalidInputError, SlipwayError } from "../../errors.js";
import { runTool, type ArtifactBuilder } from "./builder.js";

export const npmBuilder: ArtifactBuilder = {
  type: "npm",
  async build(ctx) {
    const manifest = join(ctx.dir, "package.json");
    let pkg: { name?: unknown; version?: unknown } = {};
    try {
      pkg = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as typeof pkg) : {};
    } catch (e) {
      throw new InvalidInputError([{ message: `artifact ${ctx.name}: ${ctx.spec.path}/package.json is not valid JSON: ${(e as Error).message}` }], "invalid_package");
    }
    if (typeof pkg.name !== "string" || typeof pkg.version !== "string") {
      throw new InvalidInputError(
        [{ message: `artifact ${ctx.name}: ${ctx.spec.path}/package.json ${existsSync(manifest) ? "needs a name and a version" : "does not exist"}`, hint: 'an npm artifact\'s folder is an npm package: { "name": "…", "version": "1.0.0" }' }],
        "invalid_package",
      );
    }
    await runTool(ctx, "npm", ["pack", "--pack-destination", ctx.outDir, "--loglevel", "warn"], {
      cwd: ctx.dir,
      env: { ...ctx.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" },
      hint: "fix the package (or its prepack/prepare script) and build again",
      missingHint: "npm must be on PATH",
    });
    const files = (await readdir(ctx.outDir)).filter((f) => f.endsWith(".tgz"));
    if (files.length !== 1) throw new SlipwayError("build_failed", `artifact ${ctx.name}: expected one .tgz from npm pack, found ${files.length}`);
    return { file: join(ctx.outDir, files[0]!), version: pkg.version, package: pkg.name };
  },
};
