// The model registry: list models, their versions and aliases; move an alias.
import { resourcesOfKind } from "../kinds/compile-project.js";
import { iso } from "../clock.js";
import { InvalidInputError } from "../errors.js";
import { parseModelRef, resolveVersion } from "../registry/resolve.js";
import type { ModelStore, ModelVersionRow } from "../store/state/model-store.js";
import { didYouMean } from "../util/suggest.js";
import { authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";

export interface ModelVersionView {
  model: string;
  version: number;
  registeredName: string;
  flavor: string;
  aliases: string[];
  metrics: Record<string, unknown>;
  tags: Record<string, unknown>;
  lineage: { run: string | null; job: string | null; bundle: string | null };
  files: Record<string, string>;
  manifest: Record<string, unknown>;
  createdAt: string;
  /** Set on a version promoted from another target's registry. */
  promotedFrom: { target: string; version: number; at: string } | null;
}

export interface ModelView {
  model: string;
  registeredName: string;
  latestVersion: number | null;
  versions: number;
  aliases: Record<string, number>;
}

export async function listModels(options: ProjectOptions, ctx: OperationContext): Promise<ModelView[]> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "models list");
  return withStores(compiled, ctx.env, async (stores) => {
    const models = stores.state.models(compiled.project.name, compiled.project.target.name);
    const counts = new Map((await models.models()).map((m) => [m.model, m]));
    const aliases = await models.aliases();
    const configured = resourcesOfKind(compiled, "model");
    const names = [...new Set([...configured.map((r) => r.name), ...counts.keys()])].sort();
    return names.map((model) => ({
      model,
      registeredName: configured.find((r) => r.name === model)?.spec.name ?? model,
      latestVersion: counts.get(model)?.latest ?? null,
      versions: counts.get(model)?.count ?? 0,
      aliases: Object.fromEntries(aliases.filter((a) => a.model === model).map((a) => [a.alias, a.version])),
    }));
  });
}

export async function modelVersions(options: ProjectOptions & { model: string }, ctx: OperationContext): Promise<ModelVersionView[]> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "models versions");
  return withStores(compiled, ctx.env, async (stores) => {
    const models = stores.state.models(compiled.project.name, compiled.project.target.name);
    const aliases = await models.aliases(options.model);
    const versions = await models.versions(options.model);
    if (versions.length === 0) knownModel(compiled.resources.filter((r) => r.kind === "model").map((r) => r.name), options.model);
    return versions.map((v) => view(v, aliases.filter((a) => a.version === v.version).map((a) => a.alias)));
  });
}

export async function showModelVersion(options: ProjectOptions & { ref: string }, ctx: OperationContext): Promise<ModelVersionView> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "models show");
  return withStores(compiled, ctx.env, async (stores) => {
    const models = stores.state.models(compiled.project.name, compiled.project.target.name);
    const ref = parseModelRef(options.ref);
    const v = await resolveVersion(models, ref.model, ref);
    return view(v, (await models.aliases(ref.model)).filter((a) => a.version === v.version).map((a) => a.alias));
  });
}

export async function setModelAlias(options: ProjectOptions & { model: string; alias: string; version: number }, ctx: OperationContext): Promise<ModelVersionView> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", "models alias set", `model.${options.model}`);
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(options.alias)) throw new InvalidInputError([{ message: `alias "${options.alias}" must start with a letter and use letters, digits, _ and -` }], "invalid_alias");
  return withStores(compiled, ctx.env, async (stores) => {
    const models = stores.state.models(compiled.project.name, compiled.project.target.name);
    const v = await resolveVersion(models, options.model, { version: options.version });
    await models.setAlias(options.model, options.alias, v.version, iso(ctx.env.clock.now()));
    return view(v, (await models.aliases(options.model)).filter((a) => a.version === v.version).map((a) => a.alias));
  });
}

/** One version as the commands show it, with its aliases. */
export async function modelVersionOf(models: ModelStore, model: string, version: number): Promise<ModelVersionView> {
  const v = await resolveVersion(models, model, { version });
  return view(v, (await models.aliases(model)).filter((a) => a.version === v.version).map((a) => a.alias));
}

function knownModel(configured: string[], model: string): void {
  if (!configured.includes(model)) throw new InvalidInputError([{ message: `no model "${model}"`, hint: didYouMean(model, configured) ?? `models: ${configured.join(", ") || "(none)"}` }], "unknown_model");
}

function view(v: ModelVersionRow, aliases: string[]): ModelVersionView {
  return {
    model: v.model,
    version: v.version,
    registeredName: v.registered_name,
    flavor: v.flavor,
    aliases,
    metrics: JSON.parse(v.metrics),
    tags: JSON.parse(v.tags),
    lineage: { run: v.run_id, job: v.job, bundle: v.bundle },
    files: JSON.parse(v.files),
    manifest: JSON.parse(v.manifest),
    createdAt: v.created_at,
    promotedFrom: v.promoted_from ? (JSON.parse(v.promoted_from) as { target: string; version: number; at: string }) : null,
  };
}
