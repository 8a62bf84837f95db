// A graceful stop for the server's HTTP listener: stop accepting connections, let the requests in
// flight finish (bounded), close keep-alive connections cleanly (answers given while draining carry
// `Connection: close`, so clients do not send another request on them), then close what is left.
// Node's own http.Server.close() closes idle keep-alive connections at once, which races with clients
// that are about to send their next request on them (they see a reset): that is what this avoids.
import type { Server as HttpServer } from "node:http";
import { Server as NetServer } from "node:net";

/** Idle keep-alive connections are closed once no request has arrived for this long. */
const QUIET_MS = 250;

export class Drainer {
  /** Requests received so far: the only per-request cost (idle and quiet checks compare it). */
  requests = 0;
  draining = false;

  constructor(private readonly http: HttpServer) {}

  /**
   * Stops accepting, lets requests in flight finish (up to `timeoutMs`), closes the connections.
   * Returns how many connections were still open (with a request in flight) when the time ran out.
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
      if (this.requests !== seen) {
        seen = this.requests;
        quietSince = performance.now();
        continue;
      }
      // No new request for a while: a client that was sending on a kept-alive connection has been
      // answered with Connection: close by now. Close the connections with no request in flight
      // (Node keeps those that are receiving a request or waiting for their answer).
      if (performance.now() - quietSince >= QUIET_MS) this.http.closeIdleConnections();
    }
    if (closed) return 0;
    const open = await new Promise<number>((resolve) => this.http.getConnections((_e, n) => resolve(n ?? 0)));
    this.http.closeAllConnections();
    await allClosed;
    return open;
  }
}
