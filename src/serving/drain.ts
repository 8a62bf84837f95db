// A graceful stop for the server's HTTP listener: stop accepting connections, let the requests in
// flight finish (bounded), close keep-alive connections cleanly (answers given while draining carry
// `Connection: close`, so clients do not send another request on them), then close what is left.
// Node's own http.Server.close() closes idle keep-alive connections at once, which races with clients
// that are about to send their next request on them (they see a reset): that is what this avoids.
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import { Server as NetServer } from "node:net";

/** Idle keep-alive connections are closed once nothing has been in flight for this long. */
const QUIET_MS = 250;

export class Drainer {
  /** Requests received and not yet answered (or aborted). */
  inFlight = 0;
  /** Requests received so far (an idle check sees activity through it). */
  requests = 0;
  draining = false;
  private readonly done: (this: ServerResponse) => void;

  constructor(private readonly http: HttpServer) {
    // One shared listener (no closure per request): 'close' fires once per response, answered or aborted.
    const self = this;
    this.done = function () {
      self.inFlight--;
    };
  }

  /** Counts a request until its response closes. Called first thing for every request. */
  track(_req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    this.inFlight++;
    res.on("close", this.done);
  }

  /**
   * Stops accepting, waits for the requests in flight (up to `timeoutMs`), closes the connections.
   * Returns how many requests were still in flight when the time ran out (0 when all finished).
   */
  async drain(timeoutMs: number): Promise<number> {
    this.draining = true;
    let closed = false;
    // net.Server's close: stop listening and call back once every connection has ended, without
    // http.Server's immediate closing of idle keep-alive connections.
    const allClosed = new Promise<void>((resolve) => NetServer.prototype.close.call(this.http, () => resolve())).then(() => {
      closed = true;
    });
    const deadline = performance.now() + timeoutMs;
    let seen = this.requests;
    let quietSince = performance.now();
    while (!closed && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      if (this.inFlight > 0 || this.requests !== seen) {
        seen = this.requests;
        quietSince = performance.now();
        continue;
      }
      // Nothing in flight for a while: connections left are idle keep-alive ones (a client that was
      // sending would have been answered with Connection: close by now).
      if (performance.now() - quietSince >= QUIET_MS) this.http.closeIdleConnections();
    }
    const dropped = closed ? 0 : this.inFlight;
    if (!closed) {
      this.http.closeAllConnections();
      await allClosed;
    }
    return dropped;
  }
}
