// A model runtime serves one model version: `onnx` in-process, `command` as a supervised process.
import type { Tensors, TensorSpec } from "../protocols/tensors.js";

export interface InvokeRequest {
  /** The protocol the request came in ("mlflow", "oip"). */
  protocol: string;
  /** The parsed body (for a binary OIP request, its JSON object; for CSV, the table as dataframe_split). */
  body: unknown;
  /** The body as received (passed through to command servers). */
  raw: string | Buffer;
  /** The request's Content-Type (passed through to command servers). */
  contentType?: string;
  /** How tensors come out of this request and the outputs go back into its answer (runtimes that take tensors). */
  codec?: TensorCodec;
}

/** A model's inputs and outputs, as model.yaml declares them. */
export interface ModelSignature {
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
}

export interface TensorCodec {
  /** The request's tensors for this model (throws BadRequest when the model cannot take them). */
  decode(model: ModelSignature): Tensors;
  /** The model's outputs as the protocol answers them. */
  encode(outputs: Tensors, model: ModelSignature): InvokeResult;
}

export interface InvokeResult {
  status: number;
  /** The answer as JSON; with `encoded`, the JSON part of it. */
  body: unknown;
  /** An answer already encoded (binary tensor data): sent as is, logged as `logText`. */
  encoded?: { bytes: Buffer; headers: Record<string, string>; logText: string };
}

export interface ModelRuntime {
  /** e.g. "iris@3 (onnx)" */
  readonly label: string;
  /** Resolves once the runtime can answer (and rejects if it cannot start). */
  start(): Promise<void>;
  ready(): boolean;
  invoke(request: InvokeRequest): Promise<InvokeResult>;
  stop(): Promise<void>;
}

/** A replica could not be reached (refused, or reset before it answered): another replica may take the request. */
export class ReplicaUnavailable extends Error {}

/** No replica could take the request (it crashed and is restarting): 503 with Retry-After. */
export class Unavailable extends Error {}

/** Runs restarts one at a time (the replicas of one served version share one gate). */
export class RestartGate {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }
}
