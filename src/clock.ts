// Time comes from an injected clock so tests (and the TTL reaper, schedules, leases) can move it.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock shifted by a fixed offset; used when SLIPWAY_CLOCK_OFFSET_MS is set (tests across processes). */
export function offsetClock(offsetMs: number, base: Clock = systemClock): Clock {
  return { now: () => base.now() + offsetMs };
}

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
