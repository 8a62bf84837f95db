// The endpoints a server serves: each a set of model versions with a traffic split. Applying a new
// configuration is a rolling change: the new versions' runtimes start and become ready first, then
// the routing switches in one step, then the old runtimes drain their requests and stop.
import type { Permission } from "../config/schema.js";
import type { ModelManifest } from "../registry/manifest.js";
import { CommandRuntime } from "./runtimes/command.js";
import { OnnxRuntime } from "./runtimes/onnx.js";
import type { InvokeRequest, InvokeResult, ModelRuntime } from "./runtimes/runtime.js";

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
  inference: { sample: number; maxBodyBytes: number };
  replicas: { min: number; max: number };
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

  /** Runs a request on a ready replica; returns how long it waited for a slot. */
  async invoke(request: InvokeRequest): Promise<{ result: InvokeResult; queueMs: number; modelMs: number }> {
    const queued = performance.now();
    if (this.inFlight >= this.maxInFlight) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    const started = performance.now();
    try {
      const ready = this.replicas.filter((r) => r.ready());
      const replica = ready[this.next++ % Math.max(1, ready.length)] ?? this.replicas[0]!;
      const result = await replica.invoke(request);
      return { result, queueMs: started - queued, modelMs: performance.now() - started };
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  async drainAndStop(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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
}

export class Endpoints {
  private readonly live = new Map<string, LiveEndpoint>();

  constructor(private readonly options: EndpointsOptions) {}

  get(name: string): LiveEndpoint | undefined {
    return this.live.get(name);
  }

  list(): LiveEndpoint[] {
    return [...this.live.values()];
  }

  /** Starts what the new configuration needs, switches traffic when it is ready, stops what is left. */
  async apply(config: EndpointConfig): Promise<void> {
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
        const replicas = Array.from({ length: replicaCount(s, config) }, (_, i) => this.runtimeFor(config, s, i));
        const version = new ServedVersion(s, replicas, s.manifest.flavor === "onnx" ? 64 : 32 * replicas.length);
        started.push(version);
        await Promise.all(replicas.map((r) => r.start()));
        served.push(version);
      }
    } catch (e) {
      await Promise.all(started.map((s) => s.drainAndStop(0)));
      throw e;
    }
    let total = 0;
    const cumulative = served.map((s) => (total += s.config.percent));
    this.live.set(config.name, { config, served, cumulative });
    // Whatever the new configuration no longer uses finishes its requests, then stops.
    await Promise.all([...reusable.values()].map((s) => s.drainAndStop()));
  }

  async remove(name: string): Promise<void> {
    const current = this.live.get(name);
    this.live.delete(name);
    await Promise.all((current?.served ?? []).map((s) => s.drainAndStop()));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.list().map((e) => this.remove(e.config.name)));
  }

  private runtimeFor(config: EndpointConfig, s: ServedConfig, replica: number): ModelRuntime {
    const label = `${config.name}: ${s.model}@${s.version}${replica ? ` #${replica + 1}` : ""}`;
    if (s.manifest.flavor === "onnx") return new OnnxRuntime(label, s.dir, s.manifest, s.model, s.version);
    return new CommandRuntime(label, s.dir, s.manifest, { env: this.options.env, log: (line) => this.options.log(`[${label}] ${line}`) });
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
