// The endpoints a server serves: each a set of model versions with a traffic split. Applying a new
// configuration is a rolling change: the new versions' runtimes start and become ready first, then
// the routing switches in one step, then the old runtimes drain their requests and stop. Changes to
// one endpoint run one after the other. A (re)started server restores the recorded endpoints; until
// one is back, it is "restoring" (the gateway answers 503 with Retry-After, not 404).
import { systemClock, type Clock } from "../clock.js";
import type { Permission } from "../config/schema.js";
import type { ModelManifest } from "../registry/manifest.js";
import { CommandRuntime } from "./runtimes/command.js";
import { OnnxRuntime } from "./runtimes/onnx.js";
import { ReplicaUnavailable, RestartGate, Unavailable, type InvokeRequest, type InvokeResult, type ModelRuntime } from "./runtimes/runtime.js";

export interface ServedConfig {
  model: string;
  version: number;
  percent: number;
  manifest: ModelManifest;
  /** Local folder holding the version's files. */
  dir: string;
}

export interface EndpointConfig {
  project: string;
  target: string;
  name: string;
  configVersion: number;
  served: ServedConfig[];
  grants: Permission[];
  /** The inference table: share of requests logged, body bound, and retention (rows older than keepMs, or beyond the newest keepRows, are archived then deleted). */
  inference: { sample: number; maxBodyBytes: number; keepMs?: number; keepRows?: number };
  replicas: { min: number; max: number };
  /** How the MLflow route answers `onnx` models: as MLflow's scoring server (`mlflow`, and when absent) or one entry per row (`compact`). */
  responseFormat?: "mlflow" | "compact";
}

/** One served model version: its replicas, and a bound on requests in flight per replica. */
export class ServedVersion {
  private next = 0;
  inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly config: ServedConfig,
    readonly replicas: ModelRuntime[],
    readonly maxInFlight: number,
  ) {}

  ready(): boolean {
    return this.replicas.some((r) => r.ready());
  }

  /**
   * Runs a request on a ready replica; returns how long it waited for a slot. A replica that cannot be
   * reached (it crashed) hands the request to another ready replica; with none, it is Unavailable (503).
   */
  async invoke(request: InvokeRequest): Promise<{ result: InvokeResult; queueMs: number; modelMs: number }> {
    const queued = performance.now();
    let started = queued;
    if (this.inFlight >= this.maxInFlight) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      started = performance.now();
    }
    this.inFlight++;
    try {
      // One replica (every onnx version): no choice to make, and a crash is handled by failover.
      let replica = this.replicas[0]!;
      if (this.replicas.length > 1) {
        const ready = this.replicas.filter((r) => r.ready());
        replica = ready[this.next++ % Math.max(1, ready.length)] ?? replica;
      }
      let result: InvokeResult;
      try {
        result = await replica.invoke(request);
      } catch (e) {
        if (!(e instanceof ReplicaUnavailable)) throw e;
        result = await this.failover(request, replica, e);
      }
      return { result, queueMs: started - queued, modelMs: performance.now() - started };
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  private async failover(request: InvokeRequest, failed: ModelRuntime, error: ReplicaUnavailable): Promise<InvokeResult> {
    const other = this.replicas.find((r) => r !== failed && r.ready());
    if (!other) throw new Unavailable(error.message);
    try {
      return await other.invoke(request);
    } catch (e) {
      throw e instanceof ReplicaUnavailable ? new Unavailable(e.message) : e;
    }
  }

  /** How many replicas are ready. */
  readyReplicas(): number {
    return this.replicas.filter((r) => r.ready()).length;
  }

  async drainAndStop(clock: Clock, timeoutMs = 30_000): Promise<void> {
    const deadline = clock.now() + timeoutMs;
    while (this.inFlight > 0 && clock.now() < deadline) await clock.sleep(20);
    await Promise.all(this.replicas.map((r) => r.stop()));
  }
}

export interface LiveEndpoint {
  config: EndpointConfig;
  served: ServedVersion[];
  /** Cumulative percent boundaries for the traffic split. */
  cumulative: number[];
}

export interface EndpointsOptions {
  env: NodeJS.ProcessEnv;
  log(line: string): void;
  /** Where `command` replicas record their process groups (SLIPWAY_HOME/model-processes.json). */
  groups?: { add(pgid: number, label: string): void; remove(pgid: number): void };
  /** Deadlines (drains, model start-up) are measured on this clock; the system clock by default. */
  clock?: Clock;
}

export class Endpoints {
  private readonly live = new Map<string, LiveEndpoint>();
  /** Recorded endpoints being brought back after the server started, and those that failed to. */
  private readonly restoring = new Map<string, Promise<void>>();
  private readonly failed = new Map<string, string>();
  /** Per endpoint: the change running now (changes to one endpoint run one after the other). */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Every runtime started and not stopped yet (stopAll stops those still starting too). */
  private readonly runtimes = new Set<ModelRuntime>();
  private closing = false;

  constructor(private readonly options: EndpointsOptions) {}

  get(name: string): LiveEndpoint | undefined {
    return this.live.get(name);
  }

  list(): LiveEndpoint[] {
    return [...this.live.values()];
  }

  /**
   * Why an endpoint that is not live is not: "restoring" while a recorded endpoint is being brought
   * back, the error when that failed, undefined when it is not known here.
   */
  notServed(name: string): { restoring: true } | { failed: string } | undefined {
    if (this.restoring.has(name)) return { restoring: true };
    const failed = this.failed.get(name);
    return failed === undefined ? undefined : { failed };
  }

  /** True while an endpoint is being applied or removed. */
  changing(): boolean {
    return this.queues.size > 0;
  }

  restoringNames(): string[] {
    return [...this.restoring.keys()];
  }

  /** True when every endpoint is restored and every served version has a ready replica. */
  allReady(): boolean {
    return this.restoring.size === 0 && this.failed.size === 0 && this.list().every((e) => e.served.every((s) => s.ready()));
  }

  /**
   * Brings back recorded endpoints: they count as restoring at once (call this before listening), and
   * start in the background. Resolves when all have started or failed.
   */
  restore(configs: EndpointConfig[], prepare: (config: EndpointConfig) => Promise<EndpointConfig> = async (c) => c): Promise<void> {
    const all = configs.map((config) => {
      const done = prepare(config)
        .then((prepared) => this.apply(prepared))
        .then(() => undefined)
        .catch((e: Error) => {
          this.failed.set(config.name, e.message);
          this.options.log(`could not start endpoint ${config.name}: ${e.message}`);
        })
        .finally(() => this.restoring.delete(config.name));
      this.restoring.set(config.name, done);
      return done;
    });
    return Promise.all(all).then(() => undefined);
  }

  /** Resolves when the endpoint's restore (if one runs) has finished. */
  async restored(name: string): Promise<void> {
    await this.restoring.get(name);
  }

  /** Starts what the new configuration needs, switches traffic when it is ready, stops what is left. */
  apply(config: EndpointConfig): Promise<void> {
    return this.serially(config.name, async () => {
      await this.applyNow(config);
      this.failed.delete(config.name);
    });
  }

  private async applyNow(config: EndpointConfig): Promise<void> {
    if (this.closing) throw new Error("the server is stopping");
    const current = this.live.get(config.name);
    if (current && (current.config.project !== config.project || current.config.target !== config.target)) {
      throw new Error(`endpoint name ${config.name} is already served for ${current.config.project}/${current.config.target}; endpoint names are unique on a server`);
    }
    const reusable = new Map((current?.served ?? []).map((s) => [key(s.config), s]));
    const started: ServedVersion[] = [];
    const served: ServedVersion[] = [];
    try {
      for (const s of config.served) {
        const existing = reusable.get(key(s));
        if (existing && existing.replicas.length === replicaCount(s, config)) {
          served.push(new ServedVersion(s, existing.replicas, existing.maxInFlight));
          reusable.delete(key(s));
          continue;
        }
        const gate = new RestartGate();
        const replicas = Array.from({ length: replicaCount(s, config) }, (_, i) => this.runtimeFor(config, s, i, gate));
        const version = new ServedVersion(s, replicas, s.manifest.flavor === "onnx" ? 64 : 32 * replicas.length);
        started.push(version);
        await Promise.all(replicas.map((r) => r.start()));
        served.push(version);
      }
      if (this.closing) throw new Error("the server is stopping");
    } catch (e) {
      await Promise.all(started.map((s) => this.stopVersion(s, 0)));
      throw e;
    }
    let total = 0;
    const cumulative = served.map((s) => (total += s.config.percent));
    this.live.set(config.name, { config, served, cumulative });
    // Whatever the new configuration no longer uses finishes its requests, then stops.
    await Promise.all([...reusable.values()].map((s) => this.stopVersion(s)));
  }

  remove(name: string): Promise<void> {
    this.failed.delete(name);
    return this.serially(name, async () => {
      const current = this.live.get(name);
      this.live.delete(name);
      this.failed.delete(name);
      await Promise.all((current?.served ?? []).map((s) => this.stopVersion(s)));
    });
  }

  /** Stops everything, including runtimes still starting; no change is accepted afterwards. */
  async stopAll(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.runtimes].map((r) => r.stop()));
    await Promise.all(this.list().map((e) => this.remove(e.config.name)));
  }

  private async stopVersion(version: ServedVersion, timeoutMs?: number): Promise<void> {
    await version.drainAndStop(this.options.clock ?? systemClock, timeoutMs);
    for (const r of version.replicas) this.runtimes.delete(r);
  }

  private serially<T>(name: string, change: () => Promise<T>): Promise<T> {
    const next = (this.queues.get(name) ?? Promise.resolve()).then(change, change);
    const tail = next.catch(() => {});
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return next;
  }

  private runtimeFor(config: EndpointConfig, s: ServedConfig, replica: number, restarts: RestartGate): ModelRuntime {
    const label = `${config.name}: ${s.model}@${s.version}${replica ? ` #${replica + 1}` : ""}`;
    const runtime =
      s.manifest.flavor === "onnx"
        ? new OnnxRuntime(label, s.dir, s.manifest)
        : new CommandRuntime(label, s.dir, s.manifest, { env: this.options.env, log: (line) => this.options.log(`[${label}] ${line}`), restarts, groups: this.options.groups, clock: this.options.clock });
    this.runtimes.add(runtime);
    return runtime;
  }
}

/** Picks a served version by the traffic split, among the ready ones. */
export function pickServed(endpoint: LiveEndpoint, random = Math.random()): ServedVersion | undefined {
  const ready = endpoint.served.filter((s) => s.ready());
  if (ready.length === endpoint.served.length) {
    const total = endpoint.cumulative[endpoint.cumulative.length - 1] ?? 0;
    const point = random * total;
    const i = endpoint.cumulative.findIndex((c) => point < c);
    return endpoint.served[i === -1 ? endpoint.served.length - 1 : i];
  }
  // Some versions are down (restarting): send their share to the ready ones.
  return ready[Math.floor(random * ready.length)];
}

function key(s: ServedConfig): string {
  return `${s.model}@${s.version}`;
}

function replicaCount(s: ServedConfig, config: EndpointConfig): number {
  return s.manifest.flavor === "onnx" ? 1 : Math.max(1, config.replicas.min);
}
