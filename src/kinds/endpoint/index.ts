// A serving endpoint (`endpoint.NAME`): resolves the model versions it serves (aliases at apply time),
// has their files laid out, and hands the configuration to the server through ServingControl, which
// switches traffic once the new versions are ready (a rolling change). Deleting one stops its traffic,
// then archives its inference table to the `misc` archive store before the record goes.
import { endpointTtl } from "../../config/ttl.js";
import { iso } from "../../clock.js";
import type { Permission } from "../../config/schema.js";
import type { ProviderContext } from "../../engine/provider.js";
import { InvalidInputError, SlipwayError } from "../../errors.js";
import type { ModelManifest } from "../../registry/manifest.js";
import { resolveVersion } from "../../registry/resolve.js";
import type { RecordedResource } from "../../resources.js";
import type { EndpointConfig, ServedConfig } from "../../serving/endpoints.js";
import { endpointOwner, withOwner } from "../../serving/ownership.js";
import { parseDuration } from "../../util/duration.js";
import { defineKind, type CompileContext } from "../kind.js";
import { endpointObjects } from "../../serving/kubernetes/objects.js";
import { splitEnvironment } from "../../util/kubernetes/environment.js";
import { objectName } from "../../util/kubernetes/names.js";
import type { TargetServices } from "../services.js";
import { ENDPOINT_NAME, endpointSchema, type EndpointBlock } from "./schema.js";

export type ServedSpec = {
  model: string;
  version?: string | number;
  alias?: string;
  percent?: number;
  /** Jobs that register this model (named in the error when no version exists yet). */
  registered_by?: string[];
  /** The version the alias pointed at when planned (see refresh.ts). */
  resolved_version?: number;
};

export type EndpointSpec = {
  module: string;
  description?: string;
  served: ServedSpec[];
  replicas: { min: number; max: number };
  /** `keep` and `keep_rows` only when set: an endpoint without retention keeps the spec (and hash) it had before they existed. */
  inference_table: { sample: number; max_body_bytes: number; keep?: string; keep_rows?: number };
  /** How the MLflow route answers `onnx` models (see docs/serving.md#mlflow-scoring). */
  response_format: "mlflow" | "compact";
  /** The grants the server enforces (the project's permissions plus the endpoint's own). */
  access: Permission[];
  /** The target's TTL, when it has one. */
  ttl?: string;
  /** Only on a target with `serving: { type: kubernetes }`: the endpoint is a Deployment and a Service there, not served by the gateway. */
  kubernetes?: KubernetesServingSpec;
};

/** Where and how an endpoint runs on Kubernetes: the target's `serving` settings and the module's environment, split. */
export type KubernetesServingSpec = {
  namespace: string;
  /** The Deployment's and the Service's name: project, target and endpoint (two targets may share a namespace). */
  name: string;
  image: string;
  image_pull_policy: "Always" | "IfNotPresent" | "Never";
  /** The Secret the container reads secret values from (by key). */
  secret: string;
  context?: string;
  service_account?: string;
  /** The module's variables that hold no secret, written into the container. */
  env: Record<string, string>;
  /** The module's variables that hold a secret: keys of `secret`, never their values. */
  secret_keys: string[];
};

export interface EndpointOutputs {
  /** What the gateway serves (absent for an endpoint served on Kubernetes: `kubernetes`). */
  config?: EndpointConfig;
  url: string;
  deployed_at: string;
  expires_at: string | null;
  /** Where the inference table is archived when the endpoint is destroyed (a BlobStore location). */
  archive_root: string;
  /** The user who first deployed it: holds CAN_MANAGE (see serving/ownership.ts). */
  owner: string;
  /** Only for an endpoint served on Kubernetes: where its objects are (a destroy deletes them there). */
  kubernetes?: KubernetesOutputs;
  /**
   * Where the served versions' files are archived (the persisted-data store's location): another
   * server on the same state database fetches them from there into its own model folders.
   */
  models_root?: string;
  [key: string]: unknown;
}

export interface KubernetesOutputs {
  namespace: string;
  context?: string;
  /** The Deployment's and the Service's name. */
  name: string;
  /** The API server the objects were applied to (for messages). */
  server: string;
  configVersion: number;
  served: Array<{ model: string; version: number; percent: number }>;
}

/** The model version each served entry resolves to now (the plan's for an alias), with its share of traffic. */
async function resolveServed(ctx: ProviderContext<TargetServices>, name: string, spec: EndpointSpec) {
  const { models } = ctx.services;
  const unassigned = spec.served.filter((s) => s.percent === undefined).length;
  const assigned = spec.served.reduce((sum, s) => sum + (s.percent ?? 0), 0);
  const resolved = [];
  for (const s of spec.served) {
    let version;
    try {
      // The version the plan saw for an alias; the alias itself if the plan could not resolve it.
      version = await resolveVersion(models, s.model, s.resolved_version !== undefined ? { version: s.resolved_version } : s.alias !== undefined ? { alias: s.alias } : { version: s.version });
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      const jobs = s.registered_by ?? [];
      throw new SlipwayError("model_version_missing", `endpoint ${name} serves ${s.model}@${s.alias ?? s.version ?? "latest"}: ${e.message}`, {
        exitCode: 2,
        hint: jobs.length ? `job ${jobs.join(" or ")} registers ${s.model}: run \`slipway run ${jobs[0]} --wait -t ${ctx.target}\` first` : e.hint,
      });
    }
    resolved.push({ model: s.model, version, percent: s.percent ?? (100 - assigned) / unassigned });
  }
  return resolved;
}

async function apply(ctx: ProviderContext<TargetServices>, name: string, spec: EndpointSpec, recorded?: RecordedResource<EndpointSpec>): Promise<EndpointOutputs> {
  if (spec.kubernetes) return applyOnKubernetes(ctx, name, spec, spec.kubernetes, recorded);
  const { archives, serving } = ctx.services;
  const previous = recorded?.outputs as Partial<EndpointOutputs> | undefined;
  // Coming back from Kubernetes: its objects go before the gateway serves the endpoint again.
  if (previous?.kubernetes) await removeFromKubernetes(ctx, name, previous.kubernetes);
  const served: ServedConfig[] = [];
  for (const { model, version, percent } of await resolveServed(ctx, name, spec)) {
    const dir = await serving.modelDir(model, version.version, JSON.parse(version.files) as Record<string, string>, archives.persisted_data);
    served.push({ model, version: version.version, percent, manifest: JSON.parse(version.manifest) as ModelManifest, dir });
  }
  const owner = endpointOwner(previous, ctx.services.user);
  const config: EndpointConfig = {
    project: ctx.project,
    target: ctx.target,
    name,
    configVersion: (previous?.config?.configVersion ?? 0) + 1,
    served,
    grants: withOwner(spec.access, owner),
    inference: {
      sample: spec.inference_table.sample,
      maxBodyBytes: spec.inference_table.max_body_bytes,
      ...(spec.inference_table.keep !== undefined ? { keepMs: parseDuration(spec.inference_table.keep) } : {}),
      ...(spec.inference_table.keep_rows !== undefined ? { keepRows: spec.inference_table.keep_rows } : {}),
    },
    replicas: spec.replicas,
    responseFormat: spec.response_format,
  };
  const { url } = await serving.apply(config);
  const now = ctx.clock.now();
  return {
    config,
    url: `${url}/serving-endpoints/${name}/invocations`,
    deployed_at: iso(now),
    expires_at: spec.ttl ? iso(now + parseDuration(spec.ttl)) : null,
    archive_root: archives.misc.location,
    owner,
    models_root: archives.persisted_data.location,
  };
}

/**
 * An endpoint on Kubernetes: its Deployment and Service (the builder `slipway export k8s` uses) created
 * or replaced in the target's namespace. The gateway does not serve it: nothing is handed to
 * `services.serving` (and an endpoint the gateway served until now is retired from it first).
 */
async function applyOnKubernetes(ctx: ProviderContext<TargetServices>, name: string, spec: EndpointSpec, k: KubernetesServingSpec, recorded?: RecordedResource<EndpointSpec>): Promise<EndpointOutputs> {
  const { archives, serving, cluster } = ctx.services;
  const served = (await resolveServed(ctx, name, spec)).map((s) => ({ model: s.model, version: s.version.version, percent: s.percent }));
  const previous = recorded?.outputs as Partial<EndpointOutputs> | undefined;
  if (previous?.config) {
    const { archived, key } = await serving.retire(name, archives.misc);
    ctx.log.output("stdout", `the gateway no longer serves endpoint ${name} (it moves to Kubernetes)${archived ? `; archived ${archived} inference row(s) to ${key}` : ""}`);
  }
  const objectsName = k.name;
  const old = previous?.kubernetes;
  // Moved to another namespace or cluster: the old objects go (the new ones are made below).
  if (old && (old.namespace !== k.namespace || (old.context ?? "") !== (k.context ?? "") || old.name !== objectsName)) await removeFromKubernetes(ctx, name, old);
  const objects = endpointObjects({
    project: ctx.project,
    target: ctx.target,
    endpoint: name,
    address: `endpoint.${name}`,
    name: objectsName,
    selectByTarget: true,
    namespace: k.namespace,
    managedBy: "slipway",
    image: k.image,
    imagePullPolicy: k.image_pull_policy,
    replicas: spec.replicas.min,
    served,
    environment: { values: k.env },
    secretKeys: k.secret_keys,
    secretName: k.secret,
    ...(k.service_account ? { serviceAccount: k.service_account } : {}),
  });
  const place = { namespace: k.namespace, ...(k.context ? { context: k.context } : {}) };
  const result = await cluster.apply(place, { project: ctx.project, target: ctx.target, endpoint: name }, objects);
  for (const o of result.created) ctx.log.output("stdout", `created ${o}`);
  for (const o of result.replaced) ctx.log.output("stdout", `replaced ${o}`);
  if (k.secret_keys.length) ctx.log.output("stdout", `the container reads ${k.secret_keys.join(", ")} from Secret ${k.namespace}/${k.secret} (create it: \`slipway export k8s\` lists its keys)`);
  const owner = endpointOwner(previous, ctx.services.user);
  const now = ctx.clock.now();
  const configVersion = (previous?.kubernetes?.configVersion ?? previous?.config?.configVersion ?? 0) + 1;
  return {
    url: `http://${objectsName}.${k.namespace}.svc`,
    deployed_at: iso(now),
    expires_at: spec.ttl ? iso(now + parseDuration(spec.ttl)) : null,
    archive_root: archives.misc.location,
    owner,
    kubernetes: { namespace: k.namespace, ...(k.context ? { context: k.context } : {}), name: objectsName, server: result.server, configVersion, served },
  };
}

async function removeFromKubernetes(ctx: ProviderContext<TargetServices>, name: string, where: KubernetesOutputs): Promise<void> {
  const { deleted, skipped } = await ctx.services.cluster.remove({ namespace: where.namespace, ...(where.context ? { context: where.context } : {}) }, { project: ctx.project, target: ctx.target, endpoint: name }, where.name);
  for (const o of deleted) ctx.log.output("stdout", `deleted ${o}`);
  for (const o of skipped) ctx.log.output("stdout", `skipped ${o}`);
}

/** The target's `serving: { type: kubernetes }` for this endpoint, with the module's environment split into plain values and Secret keys. */
function kubernetesServing(cx: CompileContext): { kubernetes?: KubernetesServingSpec } {
  const serving = cx.project.target.config.serving;
  if (serving?.type !== "kubernetes") return {};
  let split;
  try {
    split = splitEnvironment(cx.runtime.env, cx.runtime.secrets, `module "${cx.module.name}"`);
  } catch (e) {
    if (!(e instanceof SlipwayError)) throw e;
    cx.report({ location: cx.at([], "key"), message: `endpoint "${cx.name}" is served on Kubernetes, but ${e.message}`, ...(e.hint ? { hint: e.hint } : {}) });
    return {};
  }
  return {
    kubernetes: {
      namespace: serving.namespace!,
      // The target is in the name: two targets of a project may share a namespace.
      name: objectName(cx.project.name, `${cx.project.target.name}-${cx.name}`),
      image: serving.image!,
      image_pull_policy: serving.image_pull_policy ?? "IfNotPresent",
      secret: serving.secret ?? objectName(cx.project.name, "secrets"),
      ...(serving.context ? { context: serving.context } : {}),
      ...(serving.service_account ? { service_account: serving.service_account } : {}),
      env: split.plain,
      secret_keys: split.secretKeys,
    },
  };
}

export const endpointKind = defineKind<EndpointSpec, EndpointBlock>({
  kind: "endpoint",
  section: { key: "endpoints", schema: endpointSchema },
  permissioned: true,
  compile(block, cx) {
    const name = cx.name;
    if (name.length > 63 || !ENDPOINT_NAME.test(name)) {
      cx.report({
        location: cx.at([], "key"),
        message: `endpoint name "${name}" is invalid: ${name.length > 63 ? `${name.length} characters, at most 63 allowed` : "only lowercase letters, digits and '-' are allowed, starting and ending with a letter or digit"}`,
        hint: `try "${name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63)}"`,
      });
    }
    if (block.served.some((s) => s.percent !== undefined)) {
      const total = block.served.reduce((sum, s) => sum + (s.percent ?? 0), 0);
      if (Math.abs(total - 100) > 1e-9) cx.report({ location: cx.at(["served"]), message: `endpoint "${name}": served percentages add up to ${total}, not 100`, hint: "make the `percent` values sum to 100" });
    }
    if (block.inference_table?.keep !== undefined && parseDuration(block.inference_table.keep) === 0) {
      cx.report({ location: cx.at(["inference_table", "keep"]), message: `endpoint "${name}": inference_table.keep is ${block.inference_table.keep}: every row would be removed as soon as it is written`, hint: 'give a duration longer than 0, e.g. "30d", or leave keep out to keep rows until the endpoint is deleted' });
    }
    if (block.replicas && block.replicas.min > block.replicas.max) cx.report({ location: cx.at(["replicas"]), message: `endpoint "${name}": replicas.min (${block.replicas.min}) is above replicas.max (${block.replicas.max})` });
    const { phase: _phase, permissions, ...rest } = block;
    // Only `ttl: 24h` (scope endpoints) is per endpoint; a target-wide TTL is the target's clock (src/operations/ttl.ts).
    const ttl = endpointTtl(cx.project.target.config);
    return {
      module: cx.module.name,
      ...rest,
      served: rest.served.map((s) => ({ ...s })),
      replicas: rest.replicas ?? { min: 1, max: 1 },
      inference_table: {
        sample: rest.inference_table?.sample ?? 1,
        max_body_bytes: rest.inference_table?.max_body_bytes ?? 65_536,
        ...(rest.inference_table?.keep !== undefined ? { keep: rest.inference_table.keep } : {}),
        ...(rest.inference_table?.keep_rows !== undefined ? { keep_rows: rest.inference_table.keep_rows } : {}),
      },
      response_format: rest.response_format ?? "mlflow",
      // The server enforces access itself, and a target's per-endpoint TTL applies to its endpoints.
      access: [...cx.project.permissions, ...(permissions ?? [])],
      ...(ttl ? { ttl } : {}),
      ...kubernetesServing(cx),
    };
  },
  references: (spec) => spec.served.map((s, i) => ({ kind: "model" as const, name: s.model, path: ["served", i, "model"] })),
  // An endpoint's error for a missing model version names the jobs that register that model.
  link(resource, project) {
    const jobs = project.ofKind("job");
    for (const s of resource.spec.served) s.registered_by = jobs.filter((j) => j.spec.registers?.model === s.model).map((j) => j.name);
  },
  provider: {
    create: (ctx, desired) => apply(ctx, desired.name, desired.spec),
    update: (ctx, recorded, desired) => apply(ctx, desired.name, desired.spec, recorded),
    async delete(ctx, recorded) {
      const outputs = recorded.outputs as Partial<EndpointOutputs>;
      // Served on Kubernetes: its Deployment and Service go; the gateway never had it.
      if (outputs.kubernetes) return removeFromKubernetes(ctx, recorded.name, outputs.kubernetes);
      // Archive where the deploy said (the reaper has no project config to ask).
      const store = outputs.archive_root ? ctx.services.archiveAt(outputs.archive_root) : ctx.services.archives.misc;
      const { archived, key } = await ctx.services.serving.retire(recorded.name, store);
      if (archived) ctx.log.output("stdout", `archived ${archived} inference row(s) to ${key}`);
      // The model files no other recorded endpoint of this target serves go too. Deletes run before
      // any create or update of the same apply, and applies of a target never overlap (the lease), so
      // no endpoint is starting from a folder swept here.
      const others = (await ctx.state.listResources()).filter((r) => r.kind === "endpoint" && r.address !== recorded.address);
      const keep = new Set(others.flatMap((r) => ((r.outputs as Partial<EndpointOutputs>).config?.served ?? []).map((s) => s.dir)));
      const swept = await ctx.services.serving.sweepModelDirs(keep);
      if (swept.length) ctx.log.output("stdout", `removed ${swept.length} local model folder(s) no endpoint serves`);
    },
  },
});
