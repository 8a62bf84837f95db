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
