// An artifact (`artifact.NAME`): built and published with `slipway artifacts build|publish`, not by a
// deploy. Deploying it records what the target's artifact store holds (the published versions and the
// newest one) in its outputs and says so; compute environments that install it deploy after it.
// Deleting it (destroy, or removing it from the config) leaves the published versions in the store:
// they are the record of what was released, and `artifacts gc` is what removes them.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ArtifactSpec } from "../../artifacts/builders/builder.js";
import type { ProviderContext } from "../../engine/provider.js";
import type { DesiredResource } from "../../resources.js";
import { article } from "../../util/suggest.js";
import { defineKind } from "../kind.js";
import type { TargetServices } from "../services.js";
import { artifactSchema, type ArtifactBlock } from "./schema.js";

export type { ArtifactSpec } from "../../artifacts/builders/builder.js";

async function record(ctx: ProviderContext<TargetServices>, desired: DesiredResource<ArtifactSpec>): Promise<Record<string, unknown>> {
  const versions = await ctx.services.artifacts.list(desired.name);
  const latest = versions[0];
  if (latest) ctx.log.output("stdout", `${desired.name}: ${versions.length} version(s) published to ${ctx.target}, newest ${latest.version} (${latest.created_at})`);
  else ctx.log.output("stdout", `${desired.name}: no version is published to ${ctx.target} yet (slipway artifacts publish ${desired.name} -t ${ctx.target})`);
  return { published_versions: versions.length, latest: latest ? { version: latest.version, sha256: latest.sha256, created_at: latest.created_at } : null };
}

export const artifactKind = defineKind<ArtifactSpec, ArtifactBlock>({
  kind: "artifact",
  section: { key: "artifacts", schema: artifactSchema },
  compile(block, cx) {
    const { phase: _phase, ...rest } = block;
    const dir = join(cx.module.dir, block.path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      cx.report({ location: cx.at(["path"]), message: `artifact "${cx.name}": folder "${block.path}" does not exist`, hint: "the path is relative to module.yaml" });
    }
    if (block.version !== undefined && block.type !== "archive") {
      cx.report({
        location: cx.at(["version"], "key"),
        message: `artifact "${cx.name}": ${article(String(block.type))} takes its version from its package metadata, not from \`version\``,
        hint: block.type === "npm" ? "set the version in package.json and remove `version` here" : "set the version in pyproject.toml (or setup.cfg / setup.py) and remove `version` here",
      });
    }
    return { module: cx.module.name, ...rest };
  },
  provider: {
    create: record,
    update: (ctx, _recorded, desired) => record(ctx, desired),
    async delete() {},
  },
});
