// model.yaml: the manifest of a model folder, which says how to serve the model.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { SlipwayError } from "../errors.js";

const tensor = z.strictObject({
  name: z.string().min(1),
  type: z.enum(["float32", "float64", "int32", "int64"]),
  shape: z.array(z.number().int()).min(1),
});

export const modelManifestSchema = z.discriminatedUnion("flavor", [
  z.strictObject({
    flavor: z.literal("onnx").describe("served in-process by onnxruntime"),
    file: z.string().min(1),
    inputs: z.array(tensor).min(1),
    outputs: z.array(tensor).min(1),
  }),
  z.strictObject({
    flavor: z.literal("command").describe("any server the user provides, started with PORT set"),
    command: z.string().min(1),
    health: z.string().startsWith("/").default("/health"),
    /** Seconds to wait for the health path to answer 200. */
    startup_timeout: z.number().positive().default(60),
  }),
]);

export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type OnnxManifest = Extract<ModelManifest, { flavor: "onnx" }>;
export type CommandManifest = Extract<ModelManifest, { flavor: "command" }>;

export function readManifest(file: string): ModelManifest {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new SlipwayError("invalid_model", `${file}: ${(e as Error).message}`, { hint: "a model folder holds a model.yaml manifest (flavor: onnx or command)" });
  }
  const result = modelManifestSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(manifest)"}: ${i.message}`).join("; ");
    throw new SlipwayError("invalid_model", `${file} is not a valid model manifest: ${problems}`, { hint: "see docs/models.md for the onnx and command flavors" });
  }
  return result.data;
}
