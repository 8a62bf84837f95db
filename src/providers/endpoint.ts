// A serving endpoint: resolves the model versions it serves (aliases at apply time), lays out their
// files, and hands the configuration to the local server, which switches traffic once the new
// versions are ready (a rolling change). Deleting one stops its traffic, then archives its
// inference table to the `misc` archive store before the record goes.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { iso } from "../clock.js";
import type { Permission } from "../config/schema.js";
import { SlipwayError, InvalidInputError } from "../errors.js";
import type { RecordedResource } from "../engine/resource.js";
import type { ModelManifest } from "../registry/manifest.js";
import { resolveVersion } from "../registry/resolve.js";
import { restoreFiles } from "../runs/outputs.js";
import { adminCall, ensureServer, runningServer } from "../serving/control.js";
import type { EndpointConfig, ServedConfig } from "../serving/endpoints.js";
import { InferenceTable } from "../serving/inference-log.js";
import { endpointOwner, withOwner } from "../serving/ownership.js";
import { FsBlobStore } from "../store/blobs/fs/fs-blob-store.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import { parseDuration } from "../util/duration.js";
import type { Outputs, Provider, ProviderContext } from "./provider.js";

export interface EndpointSpec {
  module: string;
  served: Array<{ model: string; version?: string | number; alias?: string; percent?: number; registered_by?: string[]; resolved_version?: number }>;
  replicas?: { min: number; max: number };
  inference_table?: { sample: number; max_body_bytes?: number };
  access?: Permission[];
  ttl?: string;
}

export interface EndpointOutputs {
  config: EndpointConfig;
  url: string;
  deployed_at: string;
  expires_at: string | null;
  /** Where the inference table is archived when the endpoint is destroyed. */
  archive_root: string;
  /** The user who first deployed it: holds CAN_MANAGE (see serving/ownership.ts). */
  owner: string;
  [key: string]: unknown;
}

async function apply(ctx: ProviderContext, name: string, spec: EndpointSpec, recorded?: RecordedResource): Promise<Outputs> {
  const served: ServedConfig[] = [];
  const unassigned = spec.served.filter((s) => s.percent === undefined).length;
  const assigned = spec.served.reduce((sum, s) => sum + (s.percent ?? 0), 0);
  for (const s of spec.served) {
    let version;
    try {
      // The version the plan saw for an alias; the alias itself if the plan could not resolve it.
      version = await resolveVersion(ctx.models, s.model, s.resolved_version !== undefined ? { version: s.resolved_version } : s.alias !== undefined ? { alias: s.alias } : { version: s.version });
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      const jobs = s.registered_by ?? [];
      throw new SlipwayError("model_version_missing", `endpoint ${name} serves ${s.model}@${s.alias ?? s.version ?? "latest"}: ${e.message}`, {
        exitCode: 2,
        hint: jobs.length ? `job ${jobs.join(" or ")} registers ${s.model}: run \`slipway run ${jobs[0]} --wait -t ${ctx.target}\` first` : e.hint,
      });
    }
    const dir = join(ctx.env.home, "models", ctx.project, ctx.target, s.model, String(version.version));
    if (!existsSync(join(dir, ".complete"))) {
      await restoreFiles(ctx.archives.persisted_data, JSON.parse(version.files) as Record<string, string>, dir);
      writeFileSync(join(dir, ".complete"), "");
    }
    served.push({ model: s.model, version: version.version, percent: s.percent ?? (100 - assigned) / unassigned, manifest: JSON.parse(version.manifest) as ModelManifest, dir });
  }
  const previous = recorded?.outputs as EndpointOutputs | undefined;
  const owner = endpointOwner(previous, ctx.user);
  const config: EndpointConfig = {
    project: ctx.project,
    target: ctx.target,
    name,
    configVersion: (previous?.config?.configVersion ?? 0) + 1,
    served,
    grants: withOwner(spec.access ?? [], owner),
    inference: { sample: spec.inference_table?.sample ?? 1, maxBodyBytes: spec.inference_table?.max_body_bytes ?? 65_536 },
    replicas: spec.replicas ?? { min: 1, max: 1 },
  };
  const server = await ensureServer(ctx.env);
  await adminCall(server, "/admin/apply", config);
  const now = ctx.clock.now();
  const outputs: EndpointOutputs = {
    config,
    url: `${server.url}/serving-endpoints/${name}/invocations`,
    deployed_at: iso(now),
    expires_at: spec.ttl ? iso(now + parseDuration(spec.ttl)) : null,
    archive_root: archiveRoot(ctx.archives.misc),
    owner,
  };
  return outputs;
}

/** Stops the endpoint's traffic, then moves its inference table into the archive store. */
export async function retireEndpoint(ctx: { env: ProviderContext["env"]; project: string; target: string }, name: string, archive: BlobStore): Promise<{ archived: number; key?: string }> {
  const server = await runningServer(ctx.env);
  if (server) await adminCall(server, "/admin/remove", { name });
  const table = new InferenceTable(join(ctx.env.home, "inference.db"));
  try {
    const where = { project: ctx.project, target: ctx.target, endpoint: name };
    const stamp = new Date(ctx.env.clock.now()).toISOString().replace(/[:.]/g, "-");
    const key = `inference/${ctx.project}/${ctx.target}/${name}/${stamp}.jsonl.gz`;
    // Archive first, delete after: rows leave the table only once the archive holds them.
    const { archive: data, rows, through } = table.export(where);
    if (rows === 0) return { archived: 0 };
    await archive.put(key, data);
    table.deleteThrough(where, through);
    return { archived: rows, key };
  } finally {
    table.close();
  }
}

export const endpointProvider: Provider = {
  kind: "endpoint",
  create: (ctx, desired) => apply(ctx, desired.name, desired.spec as unknown as EndpointSpec),
  update: (ctx, recorded, desired) => apply(ctx, desired.name, desired.spec as unknown as EndpointSpec, recorded),
  async delete(ctx, recorded) {
    const outputs = recorded.outputs as Partial<EndpointOutputs>;
    const store = outputs.archive_root ? new FsBlobStore(outputs.archive_root) : ctx.archives.misc;
    const { archived, key } = await retireEndpoint(ctx, recorded.name, store);
    if (archived) ctx.output("stdout", `archived ${archived} inference row(s) to ${key}`);
  },
  diff: () => "update",
};

function archiveRoot(store: BlobStore): string {
  return (store as FsBlobStore).root;
}
