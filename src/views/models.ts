// Public JSON of the models commands.
import { z } from "zod";
import type { ModelVersionView, ModelView } from "../operations/models.js";
import type { ModelPromotion } from "../operations/promote.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

export const modelVersionSchema = lazy(() =>
  z.strictObject({
    model: z.string(),
    version: z.number().int(),
    registered_name: z.string(),
    flavor: z.string(),
    aliases: z.array(z.string()),
    metrics: z.record(z.string(), z.unknown()),
    tags: z.record(z.string(), z.unknown()),
    lineage: z.strictObject({ run: z.string().nullable(), job: z.string().nullable(), bundle: z.string().nullable() }),
    /** File path -> sha256 in the persisted_data archive. */
    files: z.record(z.string(), z.string()),
    /** The version's model.yaml, defaults filled in. */
    manifest: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    /** Set on a version promoted from another target's registry (`models promote`). */
    promoted_from: z.strictObject({ target: z.string(), version: z.number().int(), at: z.string() }).nullable(),
  }),
);

export function modelVersionView(v: ModelVersionView): Infer<typeof modelVersionSchema> {
  return {
    model: v.model,
    version: v.version,
    registered_name: v.registeredName,
    flavor: v.flavor,
    aliases: [...v.aliases],
    metrics: { ...v.metrics },
    tags: { ...v.tags },
    lineage: { run: v.lineage.run, job: v.lineage.job, bundle: v.lineage.bundle },
    files: { ...v.files },
    manifest: { ...v.manifest },
    created_at: v.createdAt,
    promoted_from: v.promotedFrom ? { ...v.promotedFrom } : null,
  };
}

export const modelPromotionSchema = lazy(() =>
  z.strictObject({
    model: z.string(),
    from: z.strictObject({ target: z.string(), version: z.number().int() }),
    to: z.strictObject({ target: z.string(), version: z.number().int() }),
    /** False when this version was promoted there before: nothing was added. */
    promoted: z.boolean(),
    alias: z.string().nullable(),
    /** Blobs copied into the destination's store, and those it already had (content-addressed). */
    copied: z.strictObject({ files: z.number().int(), bytes: z.number().int(), present: z.number().int() }),
    version: modelVersionSchema(),
  }),
);

export function modelPromotionView(p: ModelPromotion): Infer<typeof modelPromotionSchema> {
  return { model: p.model, from: { ...p.from }, to: { ...p.to }, promoted: p.promoted, alias: p.alias, copied: { ...p.copied }, version: modelVersionView(p.version) };
}

export const modelsSchema = lazy(() =>
  z.strictObject({
    models: z.array(
      z.strictObject({
        model: z.string(),
        registered_name: z.string(),
        latest_version: z.number().int().nullable(),
        versions: z.number().int(),
        aliases: z.record(z.string(), z.number().int()),
      }),
    ),
  }),
);

export function modelsView(list: ModelView[]): Infer<typeof modelsSchema> {
  return { models: list.map((m) => ({ model: m.model, registered_name: m.registeredName, latest_version: m.latestVersion, versions: m.versions, aliases: { ...m.aliases } })) };
}

export const modelVersionsSchema = lazy(() => z.strictObject({ model: z.string(), versions: z.array(modelVersionSchema()) }));

export function modelVersionsView(model: string, versions: ModelVersionView[]): Infer<typeof modelVersionsSchema> {
  return { model, versions: versions.map(modelVersionView) };
}
