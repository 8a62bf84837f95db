// The command flavor: the user's own server, started with PORT set in the model folder, supervised:
// traffic only once its health path answers, restarted with backoff when it exits (restarts of one
// version's replicas go one at a time). It runs under a wrapper that kills its process group when the
// Slipway server dies (see process-groups.ts), and the group is recorded while it runs.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Socket } from "node:net";
import type { CommandManifest } from "../../registry/manifest.js";
import { killProcessGroup } from "../../util/run-script.js";
import { LIFELINE_WRAPPER } from "../process-groups.js";
import { BadRequest } from "../protocols.js";
import { ReplicaUnavailable, type InvokeRequest, type InvokeResult, type ModelRuntime, type RestartGate } from "./runtime.js";

export interface CommandRuntimeOptions {
  env: NodeJS.ProcessEnv;
  /** Where the server's output goes (one line at a time). */
  log(line: string): void;
  /** First restart delay; doubles up to 30 s, back to the start after a minute of health. */
  backoffMs?: number;
  /** Restarts go through this gate: the replicas of a version restart one at a time. */
  restarts?: RestartGate;
  /** Where the process groups it starts are recorded while they run. */
  groups?: { add(pgid: number, label: string): void; remove(pgid: number): void };
}

export class CommandRuntime implements ModelRuntime {
  private child?: ChildProcess;
  private port = 0;
  private healthy = false;
  private stopping = false;
  private backoff: number;
  restarts = 0;

  constructor(
    readonly label: string,
    private readonly dir: string,
    private readonly manifest: CommandManifest,
    private readonly options: CommandRuntimeOptions,
  ) {
    this.backoff = options.backoffMs ?? 500;
  }

  async start(): Promise<void> {
    await this.launch();
  }

  ready(): boolean {
    return this.healthy;
  }

  private async launch(): Promise<void> {
    this.port = await freePort();
    this.healthy = false;
    if (this.stopping) throw new Error(`${this.label}: stopped`);
    // fd 3: the lifeline. The wrapper kills its process group when the server's end closes.
    const child = spawn("bash", ["-c", LIFELINE_WRAPPER, "slipway-model", this.manifest.command], { cwd: this.dir, env: { ...this.options.env, PORT: String(this.port) }, detached: true, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    this.child = child;
    const pgid = child.pid;
    if (pgid) this.options.groups?.add(pgid, this.label);
    (child.stdio[3] as Socket | null)?.on("error", () => {});
    child.on("error", (e) => this.options.log(`${this.label}: ${e.message}`));
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = "";
      stream.on("data", (d: Buffer) => {
        const lines = (partial + d.toString("utf8")).split("\n");
        partial = lines.pop()!;
        for (const line of lines) this.options.log(line);
      });
    }
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.on("exit", (code) => {
      // Whatever the model left in its group (workers it started) goes with it.
      if (pgid) {
        killProcessGroup(pgid);
        this.options.groups?.remove(pgid);
      }
      if (this.child !== child) return;
      this.healthy = false;
      if (this.stopping) return;
      this.options.log(`${this.label}: server exited (code ${code}); restarting in ${this.backoff} ms`);
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 30_000);
      this.restarts++;
      setTimeout(() => this.restart(), wait).unref();
    });
    const deadline = Date.now() + this.manifest.startup_timeout * 1000;
    for (;;) {
      if (await this.probe()) {
        if (this.child !== child || this.stopping) throw new Error(`${this.label}: stopped while starting`);
        this.healthy = true;
        const launched = child;
        setTimeout(() => {
          if (this.child === launched && this.healthy) this.backoff = this.options.backoffMs ?? 500;
        }, 60_000).unref();
        return;
      }
      const gone = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]);
      if (gone && this.child === child) throw new Error(`${this.label}: \`${this.manifest.command}\` exited before answering ${this.manifest.health}`);
      if (gone || this.stopping) throw new Error(`${this.label}: stopped while starting`);
      if (Date.now() > deadline) {
        this.kill(child);
        throw new Error(`${this.label}: ${this.manifest.health} did not answer 200 within ${this.manifest.startup_timeout} s`);
      }
    }
  }

  /** Starts the server again after it exited; through the version's gate, so one replica at a time. */
  private restart(): void {
    const run = async () => {
      if (this.stopping) return;
      this.options.log(`${this.label}: starting again`);
      await this.launch();
      this.options.log(`${this.label}: ready again`);
    };
    (this.options.restarts ? this.options.restarts.run(run) : run()).catch((e: Error) => this.options.log(`${this.label}: ${e.message}`));
  }

  /**
   * A request could not reach the server: take this replica out of the rotation at once (not when the
   * exit is noticed), and back in when its health path answers again, unless it exited (then the
   * restart brings it back).
   */
  private suspect(): void {
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

  private async probe(): Promise<boolean> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.port}${this.manifest.health}`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      return r.status === 200;
    } catch {
      return false;
    }
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    if (request.protocol === "oip") throw new BadRequest("this endpoint serves a command-flavor model, which speaks the MLflow protocol: POST /serving-endpoints/NAME/invocations");
    let status: number;
    let text: string;
    try {
      const r = await fetch(`http://127.0.0.1:${this.port}/invocations`, { method: "POST", headers: { "content-type": "application/json" }, body: request.raw });
      status = r.status;
      text = await r.text();
    } catch (e) {
      // Refused or reset before an answer: the process died or is dying.
      this.suspect();
      const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
      throw new ReplicaUnavailable(`${this.label}: the model server did not answer (${cause?.code ?? cause?.message ?? (e as Error).message}); it is restarting`);
    }
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: pass the text through */
    }
    return { status, body };
  }

  /** Kills the process group and waits (up to 5 s) until the wrapper is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.healthy = false;
    const child = this.child;
    if (!child) return;
    const gone = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once("exit", () => resolve()));
    this.kill(child);
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  /** The process of the running server (tests crash it on purpose). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private kill(child: ChildProcess): void {
    if (child.pid) killProcessGroup(child.pid);
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
