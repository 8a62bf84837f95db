// The command flavor: the user's own server, started with PORT set in the model folder, supervised:
// traffic only once its health path answers, restarted with backoff when it exits.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { CommandManifest } from "../../registry/manifest.js";
import { killProcessGroup } from "../../util/run-script.js";
import { BadRequest } from "../protocols.js";
import type { InvokeRequest, InvokeResult, ModelRuntime } from "./runtime.js";

export interface CommandRuntimeOptions {
  env: NodeJS.ProcessEnv;
  /** Where the server's output goes (one line at a time). */
  log(line: string): void;
  /** First restart delay; doubles up to 30 s, back to the start after a minute of health. */
  backoffMs?: number;
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
    const child = spawn("bash", ["-c", this.manifest.command], { cwd: this.dir, env: { ...this.options.env, PORT: String(this.port) }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
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
      if (this.child !== child) return;
      this.healthy = false;
      if (this.stopping) return;
      this.options.log(`${this.label}: server exited (code ${code}); restarting in ${this.backoff} ms`);
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 30_000);
      this.restarts++;
      setTimeout(() => {
        if (!this.stopping) this.launch().catch((e: Error) => this.options.log(`${this.label}: ${e.message}`));
      }, wait).unref();
    });
    const deadline = Date.now() + this.manifest.startup_timeout * 1000;
    for (;;) {
      if (await this.probe()) {
        this.healthy = true;
        const launched = child;
        setTimeout(() => {
          if (this.child === launched && this.healthy) this.backoff = this.options.backoffMs ?? 500;
        }, 60_000).unref();
        return;
      }
      const gone = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]);
      if (gone && this.child === child) throw new Error(`${this.label}: \`${this.manifest.command}\` exited before answering ${this.manifest.health}`);
      if (Date.now() > deadline) {
        this.kill(child);
        throw new Error(`${this.label}: ${this.manifest.health} did not answer 200 within ${this.manifest.startup_timeout} s`);
      }
    }
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
    const r = await fetch(`http://127.0.0.1:${this.port}/invocations`, { method: "POST", headers: { "content-type": "application/json" }, body: request.raw });
    const text = await r.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: pass the text through */
    }
    return { status: r.status, body };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.healthy = false;
    if (this.child) this.kill(this.child);
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
