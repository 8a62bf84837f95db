// A model runtime serves one model version: `onnx` in-process, `command` as a supervised process.

export interface InvokeRequest {
  protocol: "mlflow" | "oip";
  /** Parsed JSON body. */
  body: unknown;
  /** The body as received (passed through to command servers). */
  raw: string;
}

export interface InvokeResult {
  status: number;
  body: unknown;
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
