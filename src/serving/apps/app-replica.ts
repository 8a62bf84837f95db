// One replica of an app: its command started in the bundle's folder with PORT set, under the lifeline
// wrapper (process-groups.ts: the whole process group dies with the server, kill -9 included), its
// process group recorded while it runs. It takes traffic once its health path answers 200; when it
// exits it is restarted with exponential backoff (0.5 s doubling to 30 s, back to the start after a
// minute of health). Stopping sends SIGTERM to the group, then SIGKILL after a grace period.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Socket } from "node:net";
import type { Clock } from "../../clock.js";
import { LIFELINE_WRAPPER } from "../process-groups.js";

export interface AppReplicaOptions {
  /** The process environment (PORT is added). */
  env: Record<string, string>;
  dir: string;
  command: string;
  health: string;
  startupTimeoutMs: number;
  /** One line of output or of the supervisor's news. */
  log(line: string): void;
  groups?: { add(pgid: number, label: string): void; remove(pgid: number): void };
  clock: Clock;
  backoffMs?: number;
  /** Grace between SIGTERM and SIGKILL on stop. */
  stopGraceMs?: number;
}

export class AppReplica {
  private child?: ChildProcess;
  port = 0;
  private healthy = false;
  private stopping = false;
  private backoff: number;
  restarts = 0;
  /** Requests being proxied to it now (a replica being replaced finishes them before it stops). */
  inFlight = 0;
  /** When it last became healthy (ms on the clock), for status; null until it first is. */
  startedAt: number | null = null;

  constructor(
    readonly label: string,
    private readonly options: AppReplicaOptions,
  ) {
    this.backoff = options.backoffMs ?? 500;
  }

  ready(): boolean {
    return this.healthy;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it and resolves once its health path answers; rejects when it exits or times out first. */
  start(): Promise<void> {
    return this.launch();
  }

  private async launch(): Promise<void> {
    if (this.stopping) throw new Error(`${this.label}: stopped`);
    this.port = await freePort();
    this.healthy = false;
    const child = spawn("bash", ["-c", LIFELINE_WRAPPER, "slipway-app", this.options.command], {
      cwd: this.options.dir,
      env: { ...this.options.env, PORT: String(this.port) },
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    this.child = child;
    const pgid = child.pid;
    if (pgid) this.options.groups?.add(pgid, `app ${this.label}`);
    (child.stdio[3] as Socket | null)?.on("error", () => {});
    child.on("error", (e) => this.options.log(`could not start: ${e.message}`));
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = "";
      stream.on("data", (d: Buffer) => {
        const lines = (partial + d.toString("utf8")).split("\n");
        partial = lines.pop()!;
        if (partial.length > 16_384) lines.push(partial.slice(0, 16_384)), (partial = "");
        for (const line of lines) this.options.log(line);
      });
      stream.on("end", () => partial && this.options.log(partial));
    }
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    child.on("exit", (code, signal) => {
      // Whatever the app left in its group (workers it started) goes with it.
      if (pgid) {
        signalGroup(pgid, "SIGKILL");
        this.options.groups?.remove(pgid);
      }
      if (this.child !== child) return;
      this.healthy = false;
      if (this.stopping) return;
      // Never ready yet: the first start fails (the deploy says why), nothing to restart.
      if (this.startedAt === null) return this.options.log(`exited (${signal ?? `code ${code}`}) before ${this.options.health} answered 200`);
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 30_000);
      this.restarts++;
      this.options.log(`exited (${signal ?? `code ${code}`}); restarting in ${wait} ms (restart ${this.restarts})`);
      setTimeout(() => {
        if (this.stopping) return;
        this.launch().then(
          () => this.options.log("ready again"),
          (e: Error) => this.options.log(e.message),
        );
      }, wait).unref();
    });
    const deadline = this.options.clock.now() + this.options.startupTimeoutMs;
    for (;;) {
      if (await this.probe()) {
        if (this.child !== child || this.stopping) throw new Error(`${this.label}: stopped while starting`);
        this.healthy = true;
        this.startedAt = this.options.clock.now();
        setTimeout(() => {
          if (this.child === child && this.healthy) this.backoff = this.options.backoffMs ?? 500;
        }, 60_000).unref();
        return;
      }
      const gone = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]);
      if (gone || this.stopping) throw new Error(`${this.label}: \`${this.options.command}\` ${this.stopping ? "was stopped" : "exited"} before ${this.options.health} answered 200`);
      if (this.options.clock.now() > deadline) {
        signalGroup(pgid, "SIGKILL");
        throw new Error(`${this.label}: ${this.options.health} did not answer 200 within ${Math.round(this.options.startupTimeoutMs / 1000)} s`);
      }
    }
  }

  private async probe(): Promise<boolean> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.port}${this.options.health}`, { signal: AbortSignal.timeout(1000), redirect: "manual" });
      await r.arrayBuffer();
      return r.status === 200;
    } catch {
      return false;
    }
  }

  /**
   * A request could not reach it: out of the rotation at once, back in when its health path answers
   * again (unless it exited: then the restart brings it back).
   */
  suspect(): void {
    const child = this.child;
    if (!this.healthy || !child) return;
    this.healthy = false;
    void (async () => {
      while (this.child === child && !this.stopping && child.exitCode === null && child.signalCode === null) {
        if (await this.probe()) {
          if (this.child === child && !this.stopping && child.exitCode === null) this.healthy = true;
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }

  /** SIGTERM to its process group, SIGKILL after the grace period; resolves once the wrapper is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.healthy = false;
    const child = this.child;
    if (!child?.pid) return;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    signalGroup(child.pid, "SIGTERM");
    const grace = this.options.stopGraceMs ?? 5000;
    const killed = await Promise.race([gone.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), grace).unref())]);
    if (killed) {
      signalGroup(child.pid, "SIGKILL");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
  }
}

function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    /* gone */
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
