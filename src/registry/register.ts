// Registering a model version from a run: the folder the run wrote under $SLIPWAY_OUTPUT_DIR becomes
// an immutable version with its metrics, tags and lineage; `only_if_better` compares with the
// version holding the `champion` alias and, when better, registers and makes the new one champion.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import type { ModelStore } from "../store/state/model-store.js";
import { isInside, outputPathReason, realOfExistingPart } from "../config/safe-paths.js";
import { readManifest } from "./manifest.js";

export const CHAMPION = "champion";

export interface RegistersSpec {
  model: string;
  /** The registered name (models.<model>.name), resolved when the run was submitted. */
  name?: string;
  /** The model's configured tags (models.<model>.tags), given to each version. */
  tags?: Record<string, unknown>;
  path: string;
  metric?: string;
  only_if_better?: boolean;
}

export interface Registration {
  model: string;
  registered: boolean;
  version?: number;
  reason?: string;
}

export interface RegisterFromRun {
  models: ModelStore;
  registers: RegistersSpec;
  /** The run's output folder and the files it wrote there (path -> sha256, already archived). */
  outputDir: string;
  outputs: Record<string, string>;
  run: { id: string; job: string; bundle: string };
  at: string;
}

export async function registerFromRun(input: RegisterFromRun): Promise<Registration> {
  const { registers, models } = input;
  const folder = registers.path.replace(/\/+$/, "");
  const manifestFile = join(input.outputDir, folder, "model.yaml");
  // The folder, its manifest and metrics must be inside the run's output folder, also after
  // following symbolic links the job may have written: nothing outside is read or registered.
  const outside = outputPathReason(registers.path) ?? escapesOutputDir(input.outputDir, [join(input.outputDir, folder), manifestFile]);
  if (outside) {
    return { model: registers.model, registered: false, reason: `registers.path ${JSON.stringify(registers.path)} ${outside}; it must name a folder inside $SLIPWAY_OUTPUT_DIR` };
  }
  if (!existsSync(manifestFile)) {
    return { model: registers.model, registered: false, reason: `the run wrote no ${folder}/model.yaml under $SLIPWAY_OUTPUT_DIR` };
  }
  const manifest = readManifest(manifestFile);
  const files = Object.fromEntries(
    Object.entries(input.outputs)
      .filter(([path]) => path.startsWith(`${folder}/`))
      .map(([path, hash]) => [posix.relative(folder, path), hash]),
  );
  if (manifest.flavor === "onnx" && !files[manifest.file]) {
    return { model: registers.model, registered: false, reason: `model.yaml names ${manifest.file}, which the run did not write in ${folder}/` };
  }
  const metrics = readMetrics(input.outputDir, folder);

  if (registers.only_if_better) {
    const metric = registers.metric;
    const value = metric ? metrics[metric] : undefined;
    if (metric && typeof value !== "number") {
      return { model: registers.model, registered: false, reason: `metrics.json has no number "${metric}" to compare` };
    }
    const champion = (await models.aliases(registers.model)).find((a) => a.alias === CHAMPION);
    if (champion && metric) {
      const current = await models.version(registers.model, champion.version);
      const best = current ? (JSON.parse(current.metrics) as Record<string, unknown>)[metric] : undefined;
      if (typeof best === "number" && !((value as number) > best)) {
        return { model: registers.model, registered: false, reason: `${metric} ${value} is not better than the champion (version ${champion.version}: ${best})` };
      }
    }
  }
  const version = await models.addVersion({
    model: registers.model,
    registered_name: registers.name ?? registers.model,
    flavor: manifest.flavor,
    manifest: JSON.stringify(manifest),
    files: JSON.stringify(files),
    metrics: JSON.stringify(metrics),
    tags: JSON.stringify({ ...registers.tags, job: input.run.job }),
    run_id: input.run.id,
    job: input.run.job,
    bundle: input.run.bundle,
    created_at: input.at,
  });
  if (registers.only_if_better) await models.setAlias(registers.model, CHAMPION, version, input.at);
  return { model: registers.model, registered: true, version };
}

/** Why one of `paths` is not inside `outputDir` once symbolic links are followed, or undefined. */
function escapesOutputDir(outputDir: string, paths: string[]): string | undefined {
  const root = realOfExistingPart(outputDir);
  for (const p of paths) {
    const real = realOfExistingPart(p);
    if (!isInside(root, real)) return `leads outside the run's output folder (to ${real})`;
  }
  return undefined;
}

/** metrics.json next to the model folder, else at the top of the output folder. */
function readMetrics(outputDir: string, folder: string): Record<string, unknown> {
  for (const file of [join(outputDir, dirname(folder), "metrics.json"), join(outputDir, "metrics.json")]) {
    if (existsSync(file) && !escapesOutputDir(outputDir, [file])) {
      try {
        const parsed = JSON.parse(readFileSync(file, "utf8"));
        if (parsed && typeof parsed === "object") return parsed as Record<string, unknown>;
      } catch {
        /* not JSON: no metrics */
      }
    }
  }
  return {};
}
