// The onnx flavor: an onnxruntime InferenceSession in the server process.
import { createRequire } from "node:module";
import { join } from "node:path";
import type { OnnxManifest } from "../../registry/manifest.js";
import { BadRequest, concatTyped, type Tensors } from "../protocols/index.js";
import type { InvokeRequest, InvokeResult, ModelRuntime } from "./runtime.js";

type Ort = typeof import("onnxruntime-node");
let ort: Ort | undefined;

type OrtTensor = import("onnxruntime-node").Tensor;
interface Pending {
  tensors: Tensors;
  rows: number;
  resolve(outputs: Tensors): void;
  reject(e: unknown): void;
}

/** Most requests a single batched session.run takes. */
const MAX_BATCH = 64;

export class OnnxRuntime implements ModelRuntime {
  private session?: import("onnxruntime-node").InferenceSession;
  /** The model's input names, in order and as a set (checked on every request). */
  private readonly names: string[];
  private readonly known: Set<string>;
  /** Requests that arrived in the same turn of the event loop run as one batch (dynamic batching). */
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    readonly label: string,
    private readonly dir: string,
    private readonly manifest: OnnxManifest,
  ) {
    this.names = manifest.inputs.map((i) => i.name);
    this.known = new Set(this.names);
  }

  async start(): Promise<void> {
    // Loaded on first use (require, not import(): the CLI bundle is CommonJS with a compile cache).
    ort ??= createRequire(import.meta.url)("onnxruntime-node") as Ort;
    this.session = await ort.InferenceSession.create(join(this.dir, this.manifest.file), { graphOptimizationLevel: "all", intraOpNumThreads: 1 });
  }

  ready(): boolean {
    return this.session !== undefined;
  }

  /** The protocol's codec reads the request's tensors; shapes are checked against model.yaml; outputs go back through the codec. */
  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    if (!request.codec) throw new BadRequest(`${this.label} takes tensors, and the ${request.protocol} request carries none`);
    const names = this.names;
    const tensors = request.codec.decode(this.manifest);
    for (const input of this.manifest.inputs) {
      const t = tensors[input.name];
      if (!t) throw new BadRequest(`input "${input.name}" is missing (the model takes ${names.join(", ")})`);
      if (t.shape.length !== input.shape.length) throw new BadRequest(`input "${input.name}" has ${t.shape.length} dimension(s) (shape ${JSON.stringify(t.shape)}), the model expects ${input.shape.length} (shape ${JSON.stringify(input.shape)}, -1: any)`);
      for (let i = 0; i < input.shape.length; i++) {
        const d = input.shape[i]!;
        if (d >= 0 && t.shape[i] !== d) throw new BadRequest(`input "${input.name}" has shape ${JSON.stringify(t.shape)}, the model expects ${JSON.stringify(input.shape)} (-1: any)`);
      }
    }
    for (const n in tensors) {
      if (!this.known.has(n)) throw new BadRequest(`unknown input(s) ${Object.keys(tensors).filter((k) => !this.known.has(k)).join(", ")}; the model takes ${names.join(", ")}`);
    }
    const outputs = await new Promise<Tensors>((resolve, reject) => {
      this.pending.push({ tensors, rows: tensors[names[0]!]!.shape[0] ?? 1, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
    return request.codec.encode(outputs, this.manifest);
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
        let shape = "";
        for (const name of this.names) shape += `${p.tensors[name]!.shape.slice(1).join(",")};`;
        const same = byShape.get(shape);
        if (same) same.push(p);
        else byShape.set(shape, [p]);
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
        if (shape.length) shape[0] = group.reduce((n, p) => n + p.tensors[input.name]!.shape[0]!, 0);
        feeds[input.name] = new ort!.Tensor(input.type, concatTyped(group.map((p) => p.tensors[input.name]!.data), input.type), shape);
      }
      const results = await this.session!.run(feeds);
      let row = 0;
      for (const p of group) {
        const outputs: Tensors = {};
        for (const o of this.manifest.outputs) {
          const t = results[o.name];
          if (!t) continue;
          const width = t.dims.slice(1).reduce((a, d) => a * d, 1);
          // Views on the batch's output (no copy); numbers for types other than these four.
          const data = t.data as Float32Array | Float64Array | Int32Array | BigInt64Array;
          const typed = data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array || data instanceof BigInt64Array ? data : Float64Array.from(data as ArrayLike<number>, Number);
          outputs[o.name] = { data: group.length === 1 ? typed : typed.subarray(row * width, (row + p.rows) * width), shape: group.length === 1 ? [...t.dims] : [p.rows, ...t.dims.slice(1)] };
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
