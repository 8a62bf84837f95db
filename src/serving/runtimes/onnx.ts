// The onnx flavor: an onnxruntime InferenceSession in the server process.
import { createRequire } from "node:module";
import { join } from "node:path";
import type { OnnxManifest } from "../../registry/manifest.js";
import { BadRequest, mlflowResponse, oipResponse, parseMlflowRequest, parseOipRequest, type TensorBatch } from "../protocols.js";
import type { InvokeRequest, InvokeResult, ModelRuntime } from "./runtime.js";

type Ort = typeof import("onnxruntime-node");
let ort: Ort | undefined;

const ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array } as const;

type OrtTensor = import("onnxruntime-node").Tensor;
interface Pending {
  tensors: Record<string, { data: number[]; shape: number[] }>;
  rows: number;
  resolve(outputs: Record<string, { data: ArrayLike<number>; shape: readonly number[] }>): void;
  reject(e: unknown): void;
}

/** Most requests a single batched session.run takes. */
const MAX_BATCH = 64;

export class OnnxRuntime implements ModelRuntime {
  private session?: import("onnxruntime-node").InferenceSession;
  /** Requests that arrived in the same turn of the event loop run as one batch (dynamic batching). */
  private pending: Pending[] = [];
  private scheduled = false;

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
    for (const input of this.manifest.inputs) {
      const t = batch.tensors[input.name];
      if (!t) throw new BadRequest(`input "${input.name}" is missing (the model takes ${names.join(", ")})`);
      if (t.shape.length !== input.shape.length) throw new BadRequest(`input "${input.name}" has ${t.shape.length} dimension(s), the model expects ${input.shape.length}`);
      input.shape.forEach((d, i) => {
        if (d >= 0 && t.shape[i] !== d) throw new BadRequest(`input "${input.name}" has shape ${JSON.stringify(t.shape)}, the model expects ${JSON.stringify(input.shape)} (-1: any)`);
      });
    }
    const extra = Object.keys(batch.tensors).filter((n) => !names.includes(n));
    if (extra.length) throw new BadRequest(`unknown input(s) ${extra.join(", ")}; the model takes ${names.join(", ")}`);
    const outputs = await new Promise<Record<string, { data: ArrayLike<number>; shape: readonly number[] }>>((resolve, reject) => {
      this.pending.push({ tensors: batch.tensors, rows: batch.tensors[names[0]!]!.shape[0]!, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
    return { status: 200, body: request.protocol === "oip" ? oipResponse(this.model, String(this.version), outputs, batch.id) : mlflowResponse(outputs) };
  }

  /** Whether requests can be stacked along the first dimension (every input and output batched by it). */
  private get batchable(): boolean {
    return this.manifest.inputs.every((i) => i.shape[0] === -1) && this.manifest.outputs.every((o) => o.shape[0] === -1);
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    const groups: Pending[][] = [];
    if (this.batchable) {
      // Only requests whose tensors agree beyond the batch dimension can be stacked.
      const byShape = new Map<string, Pending[]>();
      for (const p of all) {
        const shape = JSON.stringify(this.manifest.inputs.map((i) => p.tensors[i.name]!.shape.slice(1)));
        byShape.set(shape, [...(byShape.get(shape) ?? []), p]);
      }
      for (const same of byShape.values()) for (let i = 0; i < same.length; i += MAX_BATCH) groups.push(same.slice(i, i + MAX_BATCH));
    } else for (const p of all) groups.push([p]);
    await Promise.all(groups.map((g) => this.runBatch(g)));
  }

  private async runBatch(group: Pending[]): Promise<void> {
    try {
      const feeds: Record<string, OrtTensor> = {};
      for (const input of this.manifest.inputs) {
        const shape = [...group[0]!.tensors[input.name]!.shape];
        shape[0] = group.reduce((n, p) => n + p.tensors[input.name]!.shape[0]!, 0);
        const values = group.length === 1 ? group[0]!.tensors[input.name]!.data : group.flatMap((p) => p.tensors[input.name]!.data);
        const data = input.type === "int64" ? BigInt64Array.from(values.map((v) => BigInt(Math.trunc(v)))) : (ARRAYS[input.type] as Float32ArrayConstructor).from(values);
        feeds[input.name] = new ort!.Tensor(input.type, data, shape);
      }
      const results = await this.session!.run(feeds);
      let row = 0;
      for (const p of group) {
        const outputs: Record<string, { data: ArrayLike<number>; shape: readonly number[] }> = {};
        for (const o of this.manifest.outputs) {
          const t = results[o.name];
          if (!t) continue;
          const width = t.dims.slice(1).reduce((a, d) => a * d, 1);
          const data = t.data as ArrayLike<number | bigint> & { subarray?: (a: number, b: number) => ArrayLike<number | bigint> };
          const slice = group.length === 1 ? data : data.subarray!(row * width, (row + p.rows) * width);
          outputs[o.name] = { data: Array.from(slice, Number), shape: [p.rows, ...t.dims.slice(1)] };
        }
        row += p.rows;
        p.resolve(outputs);
      }
    } catch (e) {
      for (const p of group) p.reject(e);
    }
  }

  async stop(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }
}
