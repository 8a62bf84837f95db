// "name@3", "name@champion", "name": which version of a model is meant.
import { InvalidInputError } from "../errors.js";
import type { ModelStore, ModelVersionRow } from "../store/state/model-store.js";

export async function resolveVersion(models: ModelStore, model: string, ref: { version?: number | string; alias?: string }): Promise<ModelVersionRow> {
  const versions = await models.versions(model);
  if (versions.length === 0) {
    throw new InvalidInputError([{ message: `model ${model} has no versions in ${models.project}/${models.target}`, hint: "a job with `registers: { model: " + model + " }` registers versions when it runs" }], "unknown_model_version");
  }
  if (ref.alias !== undefined) {
    const alias = (await models.aliases(model)).find((a) => a.alias === ref.alias);
    if (!alias) {
      const known = (await models.aliases(model)).map((a) => `${a.alias} (version ${a.version})`);
      throw new InvalidInputError([{ message: `model ${model} has no alias "${ref.alias}"`, hint: known.length ? `its aliases: ${known.join(", ")}` : `set one with: slipway models alias set ${model} ${ref.alias} VERSION` }], "unknown_model_version");
    }
    return versions.find((v) => v.version === alias.version)!;
  }
  const wanted = ref.version === undefined ? versions[0]!.version : Number(ref.version);
  const found = versions.find((v) => v.version === wanted);
  if (!found) {
    throw new InvalidInputError([{ message: `model ${model} has no version ${ref.version}`, hint: `its versions: ${versions.map((v) => v.version).join(", ")}` }], "unknown_model_version");
  }
  return found;
}

/** Parses NAME, NAME@VERSION, NAME@ALIAS or NAME/VERSION. */
export function parseModelRef(text: string): { model: string; version?: number; alias?: string } {
  const slash = /^([^@/]+)\/(\d+)$/.exec(text);
  if (slash) return { model: slash[1]!, version: Number(slash[2]) };
  const at = text.indexOf("@");
  if (at < 0) return { model: text };
  const model = text.slice(0, at);
  const ref = text.slice(at + 1);
  return /^\d+$/.test(ref) ? { model, version: Number(ref) } : { model, alias: ref };
}
