// An artifact (`artifact.NAME`): built and published with `slipway artifacts build|publish`, not by a
// deploy. Deploying it records what the target's artifact store holds (the published versions and the
// newest one) in its outputs and says so; compute environments that install it deploy after it.
// Deleting it (destroy, or removing it from the config) leaves the published versions in the store:
// they are the record of what was released, and `artifacts gc` is what removes them.
import { ArtifactStore } from "../artifacts/store.js";
import type { DesiredResource } from "../resources.js";
import type { Provider, ProviderContext } from "./provider.js";

async function record(ctx: ProviderContext, desired: DesiredResource): Promise<Record<string, unknown>> {
  const versions = await new ArtifactStore(ctx.artifacts, ctx.project, ctx.target).list(desired.name);
  const latest = versions[0];
  if (latest) ctx.output("stdout", `${desired.name}: ${versions.length} version(s) published to ${ctx.target}, newest ${latest.version} (${latest.created_at})`);
  else ctx.output("stdout", `${desired.name}: no version is published to ${ctx.target} yet (slipway artifacts publish ${desired.name} -t ${ctx.target})`);
  return { published_versions: versions.length, latest: latest ? { version: latest.version, sha256: latest.sha256, created_at: latest.created_at } : null };
}

export const artifactProvider: Provider = {
  kind: "artifact",
  create: record,
  update: (ctx, _recorded, desired) => record(ctx, desired),
  async delete() {},
  diff: () => "update",
};
