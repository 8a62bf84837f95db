// A registered model (`model.NAME`): its name in the target's registry, description and tags. Versions
// are registered by runs (src/registry/register.ts); the resource records what the config says.
import { defineKind } from "../kind.js";
import { recordOnly, replaceOnModuleChange } from "../record-only.js";
import { modelSchema, type ModelBlock } from "./schema.js";

export type ModelSpec = {
  module: string;
  /** The registered name (defaults to the key when the config gives none). */
  name?: string;
  description?: string;
  tags?: Record<string, string | number | boolean>;
};

export const modelKind = defineKind<ModelSpec, ModelBlock>({
  kind: "model",
  section: { key: "models", schema: modelSchema },
  permissioned: true,
  compile({ phase: _phase, permissions: _permissions, ...rest }, cx) {
    return { module: cx.module.name, ...rest };
  },
  provider: recordOnly(),
  changeKind: replaceOnModuleChange,
});
