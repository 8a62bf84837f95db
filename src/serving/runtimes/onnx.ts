// The onnx flavor: an onnxruntime InferenceSession in the server process.
import { createRequire } from "node:module";
import { join } from "node:path";
import type { OnnxManifest } from "../../registry/manifest.js";
import { BadRequest, mlflowResponse, oipResponse, parseMlflowRequest, parseOipRequest, type TensorBatch } from "../protocols.js";
import type { InvokeRequest, InvokeResult, ModelRuntime } from "./runtime.js";

type Ort = typeof import("onnxruntime-node");
let ort: Ort | undefined;

const ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array } as const;

export class OnnxRuntime implements ModelRuntime {
  private session?: import("onnxruntime-node").InferenceSession;

  constructor(
    readonly label: string,
    private readonly dir: string,
    private readonly manifest: OnnxManifest,
    private readonly model: string,
    private readonly version: number,
  ) {}

  async start(): Promise<void> {
    // Loaded on first use (require, not import(): the CLI bundle is CommonJS with a compile cache).
    ort ??= createRequire(import.meta.url)("onnxruntime-node") as Ort;
    this.session = await ort.InferenceSession.create(join(this.dir, this.manifest.file), { graphOptimizationLevel: "all", intraOpNumThreads: 1 });
  }

  ready(): boolean {
    return this.session !== undefined;
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    const names = this.manifest.inputs.map((i) => i.name);
    const batch: TensorBatch & { id?: string } = request.protocol === "oip" ? parseOipRequest(request.body) : parseMlflowRequest(request.body, names);
    const feeds: Record<string, import("onnxruntime-node").Tensor> = {};
    for (const input of this.manifest.inputs) {
      const t = batch.tensors[input.name];
      if (!t) throw new BadRequest(`input "${input.name}" is missing (the model takes ${names.join(", ")})`);
      input.shape.forEach((d, i) => {
        if (d >= 0 && t.shape[i] !== d) throw new BadRequest(`input "${input.name}" has shape ${JSON.stringify(t.shape)}, the model expects ${JSON.stringify(input.shape)} (-1: any)`);
      });
      if (t.shape.length !== input.shape.length) throw new BadRequest(`input "${input.name}" has ${t.shape.length} dimension(s), the model expects ${input.shape.length}`);
      const Arr = ARRAYS[input.type];
      const data = input.type === "int64" ? BigInt64Array.from(t.data.map((v) => BigInt(Math.trunc(v)))) : (Arr as Float32ArrayConstructor).from(t.data);
      feeds[input.name] = new ort!.Tensor(input.type, data, t.shape);
    }
    const extra = Object.keys(batch.tensors).filter((n) => !names.includes(n));
    if (extra.length) throw new BadRequest(`unknown input(s) ${extra.join(", ")}; the model takes ${names.join(", ")}`);
    const results = await this.session!.run(feeds);
    const outputs: Record<string, { data: ArrayLike<number>; shape: readonly number[] }> = {};
    for (const o of this.manifest.outputs) {
      const t = results[o.name];
      if (t) outputs[o.name] = { data: Array.from(t.data as ArrayLike<number | bigint>, Number), shape: t.dims };
    }
    return { status: 200, body: request.protocol === "oip" ? oipResponse(this.model, String(this.version), outputs, batch.id) : mlflowResponse(outputs) };
  }

  async stop(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }
}
