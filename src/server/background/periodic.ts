// A unit of background work that runs on a cadence (endpoint TTLs, lost runs, one target's retention),
// at most once per due time across servers: the due time comes from the unit's status row (its
// `next_at`, or "first"), and the lease `<unit>@<due>` is taken before the work starts. The lease is
// renewed while the work runs; if its server dies, another takes the same lease over once it expires
// and does the work. The status row records the last run (start, end, outcome, message) and the next.
import { iso, type Clock } from "../../clock.js";
import type { StateStore } from "../../store/state/state-store.js";

export interface PeriodicUnit {
  /** e.g. `ttl`, `lost-runs`, `retention/proj/dev` */
  unit: string;
  everyMs: number;
  /** Does the work; returns what to record as its message (and log). */
  run(signal: AbortSignal): Promise<string>;
}

export interface PeriodicOptions {
  state: StateStore;
  clock: Clock;
  owner: string;
  log(line: string): void;
  /** Lease length; renewed every third of it while the work runs (default 10 min). */
  leaseMs?: number;
}

export type PeriodicOutcome = { ran: false; next: number } | { ran: true; next: number; outcome: "ok" | "failed"; message: string };

/** Runs the unit if it is due and this server wins its lease; returns when it is next due. */
export async function runIfDue(u: PeriodicUnit, o: PeriodicOptions): Promise<PeriodicOutcome> {
  const bg = o.state.background();
  const now = o.clock.now();
  const status = await bg.status(u.unit);
  const due = status?.next_at ? Date.parse(status.next_at) : now;
  if (due > now) return { ran: false, next: due };
  const key = `${u.unit}@${status?.next_at ?? "first"}`;
  const leaseMs = o.leaseMs ?? 600_000;
  if (!(await bg.tryLease(key, o.owner, iso(now), now, now + leaseMs))) {
    // Another server has it (or had it: its status row will move next_at on).
    return { ran: false, next: now + Math.min(u.everyMs, 5_000) };
  }
  await bg.putStatus({ unit: u.unit, owner: o.owner, last_started_at: iso(now), last_finished_at: status?.last_finished_at ?? null, last_outcome: "running", last_message: status?.last_message ?? null, next_at: status?.next_at ?? null });
  const lost = new AbortController();
  const renew = setInterval(() => {
    void bg.renewLease(key, o.owner, o.clock.now() + leaseMs).then((ok) => ok || lost.abort(), () => {});
  }, Math.max(50, Math.floor(leaseMs / 3)));
  renew.unref();
  let outcome: "ok" | "failed" = "ok";
  let message: string;
  try {
    message = await u.run(lost.signal);
  } catch (e) {
    outcome = "failed";
    message = (e as Error).message;
  } finally {
    clearInterval(renew);
  }
  const end = o.clock.now();
  let next = (status?.next_at ? due : now) + u.everyMs;
  if (next <= end) next = end + u.everyMs;
  await bg.finishLease(key, o.owner, iso(end), outcome);
  await bg.putStatus({ unit: u.unit, owner: o.owner, last_started_at: iso(now), last_finished_at: iso(end), last_outcome: outcome, last_message: message, next_at: iso(next) });
  o.log(`${u.unit}: ${outcome === "ok" ? message : `failed: ${message}`}`);
  return { ran: true, next, outcome, message };
}
