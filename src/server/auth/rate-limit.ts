// Failed authentication is rate-limited per client address: after `max` failures within `windowMs`,
// further requests from that address are refused (429) until the window has passed, even with a valid
// token, so guessing tokens is slow. Memory is bounded.
import type { Clock } from "../../clock.js";

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly clock: Clock,
    readonly max = 10,
    readonly windowMs = 60_000,
  ) {}

  /** Seconds until the address may try again, or 0 when it may now. */
  blockedFor(client: string): number {
    const now = this.clock.now();
    const recent = (this.failures.get(client) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length < this.max) return 0;
    return Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
  }

  fail(client: string): void {
    const now = this.clock.now();
    if (this.failures.size >= 10_000 && !this.failures.has(client)) this.failures.clear();
    const recent = (this.failures.get(client) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.failures.set(client, recent.slice(-this.max));
  }
}
