// Time comes from an injected clock so tests (and the TTL reaper, schedules, leases, retries, timeouts)
// can move it: reading the time and waiting for some of it to pass both go through a Clock.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves once `ms` have passed on this clock, or at once when `signal` is (or becomes) aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}

export const systemClock: Clock = { now: () => Date.now(), sleep: realSleep };

/** A clock shifted by a fixed offset; used when SLIPWAY_CLOCK_OFFSET_MS is set (tests across processes). */
export function offsetClock(offsetMs: number, base: Clock = systemClock): Clock {
  return { now: () => base.now() + offsetMs, sleep: (ms, signal) => base.sleep(ms, signal) };
}

/** A clock a test moves by hand: `sleep` resolves only when `advance` moves past its deadline. */
export class ManualClock implements Clock {
  private readonly sleepers = new Set<{ until: number; wake: () => void }>();

  constructor(private current: number = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = {
        until: this.current + ms,
        wake: () => {
          this.sleepers.delete(sleeper);
          signal?.removeEventListener("abort", sleeper.wake);
          resolve();
        },
      };
      this.sleepers.add(sleeper);
      signal?.addEventListener("abort", sleeper.wake, { once: true });
    });
  }

  /** How many sleeps are waiting for this clock to move (a test waits for one before advancing). */
  get sleeping(): number {
    return this.sleepers.size;
  }

  /** Moves the clock forward, waking every sleep whose deadline it passes. */
  advance(ms: number): void {
    this.current += ms;
    for (const s of [...this.sleepers]) if (s.until <= this.current) s.wake();
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
