// The apps a server runs: each a set of replicas of one configuration behind the route /apps/NAME/.
// Applying a configuration is a rolling change, as for endpoints: the new replicas start (with a
// new token for the app's service principal) and answer their health path first, then the route
// switches in one step, then the old replicas finish their requests in flight and stop, and the old
// tokens are revoked. Changes to one app run one after the other. A (re)started server restores the
// recorded apps; until one is back it is "restoring" (the route answers 503 with Retry-After).
import { join } from "node:path";
import type { Clock } from "../../clock.js";
import { AppLog } from "./app-log.js";
import { AppReplica } from "./app-replica.js";
import { appPrincipal, type AppConfig } from "./config.js";

/** The app's identity, handed in by the control plane (src/server/index.ts). */
export interface AppIdentity {
  /** A new token for the app's service principal (made when missing); its id for `revoke`. */
  issue(app: string): Promise<{ token: string; id: string }>;
  /** Revokes the app's tokens except `keep`. */
  revoke(app: string, keep?: string): Promise<void>;
}

export interface AppsOptions {
  home: string;
  /** The base environment of every app (the server's, without its secrets). */
  env: Record<string, string>;
  /** The server's URL, given to apps as SLIPWAY_SERVER. */
  serverUrl(): string;
  log(line: string): void;
  groups?: { add(pgid: number, label: string): void; remove(pgid: number): void };
  identity?: AppIdentity;
  clock: Clock;
  backoffMs?: number;
}

export interface LiveApp {
  config: AppConfig;
  replicas: AppReplica[];
  log: AppLog;
  tokenId?: string;
  next: number;
}

export interface AppStatus {
  name: string;
  project: string;
  target: string;
  config_version: number;
  bundle: string;
  state: "running" | "degraded" | "restoring" | "failed";
  message?: string;
  replicas: number;
  ready_replicas: number;
  restarts: number;
  pids: number[];
  anonymous: boolean;
  recent_logs: string[];
}

export class Apps {
  private readonly live = new Map<string, LiveApp>();
  private readonly restoring = new Map<string, Promise<void>>();
  private readonly failed = new Map<string, { config: AppConfig; message: string }>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly logs = new Map<string, AppLog>();
  private readonly replicas = new Set<AppReplica>();
  private closing = false;

  constructor(private readonly options: AppsOptions) {}

  get(name: string): LiveApp | undefined {
    return this.live.get(name);
  }

  list(): LiveApp[] {
    return [...this.live.values()];
  }

  isRestoring(name: string): boolean {
    return this.restoring.has(name);
  }

  /** Resolves when the app's restore (if one runs) has finished. */
  async restored(name: string): Promise<void> {
    await this.restoring.get(name);
  }

  restoringNames(): string[] {
    return [...this.restoring.keys()];
  }

  changing(): boolean {
    return this.queues.size > 0;
  }

  /** A ready replica, taking turns; undefined when none is ready. */
  pick(app: LiveApp, except?: AppReplica): AppReplica | undefined {
    const ready = app.replicas.filter((r) => r.ready() && r !== except);
    if (ready.length === 0) return undefined;
    return ready[app.next++ % ready.length];
  }

  logOf(name: string): AppLog {
    let log = this.logs.get(name);
    if (!log) {
      log = new AppLog(join(this.options.home, "logs", "apps", `${name}.log`), () => this.options.clock.now());
      this.logs.set(name, log);
    }
    return log;
  }

  /** Brings back recorded apps (they count as restoring at once; call before listening). */
  restore(configs: AppConfig[]): Promise<void> {
    return Promise.all(
      configs.map((config) => {
        const done = this.apply(config)
          .catch((e: Error) => this.options.log(`could not start app ${config.name}: ${e.message}`))
          .finally(() => this.restoring.delete(config.name));
        this.restoring.set(config.name, done);
        return done;
      }),
    ).then(() => undefined);
  }

  apply(config: AppConfig): Promise<void> {
    return this.serially(config.name, async () => {
      try {
        await this.applyNow(config);
        this.failed.delete(config.name);
      } catch (e) {
        if (!this.live.has(config.name)) this.failed.set(config.name, { config, message: (e as Error).message });
        throw e;
      }
    });
  }

  private async applyNow(config: AppConfig): Promise<void> {
    if (this.closing) throw new Error("the server is stopping");
    const current = this.live.get(config.name);
    if (current && (current.config.project !== config.project || current.config.target !== config.target)) {
      throw new Error(`app name ${config.name} is already used by ${current.config.project}/${current.config.target} on this server; app names are unique on a server`);
    }
    const log = this.logOf(config.name);
    log.mask(config.secretEnv.map((k) => config.env[k] ?? ""));
    const issued = await this.options.identity?.issue(config.name);
    if (issued) log.mask([issued.token]);
    const env: Record<string, string> = {
      ...this.options.env,
      ...config.env,
      SLIPWAY_APP: config.name,
      SLIPWAY_APP_PREFIX: `/apps/${config.name}`,
      SLIPWAY_SERVER: this.options.serverUrl(),
      ...(issued ? { SLIPWAY_TOKEN: issued.token } : {}),
    };
    const started = Array.from({ length: config.replicas }, (_, i) => {
      const source = `v${config.configVersion} #${i + 1}`;
      const replica = new AppReplica(`${config.name} ${source}`, {
        env,
        dir: config.dir,
        command: config.command,
        health: config.health,
        startupTimeoutMs: config.startupTimeoutMs,
        log: (line) => log.write(source, line),
        groups: this.options.groups,
        clock: this.options.clock,
        backoffMs: this.options.backoffMs,
      });
      this.replicas.add(replica);
      return replica;
    });
    log.write("slipway", `starting ${config.replicas} replica(s) of configuration ${config.configVersion} (bundle ${config.bundle.slice(0, 12)})`);
    try {
      await Promise.all(started.map((r) => r.start()));
      if (this.closing) throw new Error("the server is stopping");
    } catch (e) {
      await Promise.all(started.map((r) => this.stopReplica(r, 0)));
      if (issued) await this.options.identity?.revoke(config.name, current?.tokenId).catch(() => {});
      log.write("slipway", `configuration ${config.configVersion} did not start: ${(e as Error).message}`);
      // The app's last words say why (a syntax error, a missing module); they are masked already.
      const last = log.recent(16).slice(0, -1).filter((l) => !l.includes("] exited (")).slice(-12).map((l) => `\n    ${l}`).join("");
      throw new Error(`${(e as Error).message}${last ? `; its last lines:${last}` : ""}`);
    }
    // The switch: new requests go to the new replicas from here on.
    this.live.set(config.name, { config, replicas: started, log, tokenId: issued?.id, next: 0 });
    log.write("slipway", `configuration ${config.configVersion} is serving`);
    if (current) {
      await Promise.all(current.replicas.map((r) => this.stopReplica(r)));
      log.write("slipway", `stopped the replicas of configuration ${current.config.configVersion}`);
    }
    if (issued) await this.options.identity?.revoke(config.name, issued.id);
  }

  /** Stops the app and removes its route, its tokens and its log (a no-op for an unknown app or another project's). */
  remove(name: string, owner?: { project: string; target: string }): Promise<boolean> {
    return this.serially(name, async () => {
      const current = this.live.get(name) ?? (this.failed.get(name) ? { config: this.failed.get(name)!.config, replicas: [] as AppReplica[] } : undefined);
      if (!current) return false;
      if (owner && (current.config.project !== owner.project || current.config.target !== owner.target)) return false;
      this.live.delete(name);
      this.failed.delete(name);
      await Promise.all(current.replicas.map((r) => this.stopReplica(r)));
      await this.options.identity?.revoke(name).catch((e: Error) => this.options.log(`app ${name}: could not revoke its tokens: ${e.message}`));
      this.logs.get(name)?.remove();
      this.logs.delete(name);
      return true;
    });
  }

  /** Stops every replica (those still starting too); nothing is accepted afterwards. */
  async stopAll(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.replicas].map((r) => r.stop()));
    this.live.clear();
  }

  status(): AppStatus[] {
    const out: AppStatus[] = [];
    const names = new Set([...this.live.keys(), ...this.restoring.keys(), ...this.failed.keys()]);
    for (const name of [...names].sort()) {
      const app = this.live.get(name);
      const failed = this.failed.get(name);
      const config = app?.config ?? failed?.config;
      const ready = app ? app.replicas.filter((r) => r.ready()).length : 0;
      out.push({
        name,
        project: config?.project ?? "",
        target: config?.target ?? "",
        config_version: config?.configVersion ?? 0,
        bundle: config?.bundle ?? "",
        state: app ? (ready === app.replicas.length ? "running" : "degraded") : this.restoring.has(name) ? "restoring" : "failed",
        ...(failed && !app ? { message: failed.message } : {}),
        replicas: config?.replicas ?? 0,
        ready_replicas: ready,
        restarts: app ? app.replicas.reduce((n, r) => n + r.restarts, 0) : 0,
        pids: app ? app.replicas.map((r) => r.pid).filter((p): p is number => p !== undefined) : [],
        anonymous: config?.anonymous ?? false,
        recent_logs: this.logs.get(name)?.recent(20) ?? [],
      });
    }
    return out;
  }

  /** The old replica finishes its requests in flight (up to `drainMs`), then stops. */
  private async stopReplica(replica: AppReplica, drainMs = 30_000): Promise<void> {
    const clock = this.options.clock;
    const deadline = clock.now() + drainMs;
    while (replica.inFlight > 0 && clock.now() < deadline) await clock.sleep(20);
    await replica.stop();
    this.replicas.delete(replica);
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
}

export { appPrincipal };
