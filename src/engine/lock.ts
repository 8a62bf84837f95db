// Deploy locks as leases on (project, target): owner, heartbeat, expiry. A second deploy is refused at
// once; a lease whose holder died (its pid is gone on this host, or it stopped renewing) is taken over.
import { randomBytes } from "node:crypto";
import { iso, type Clock } from "../clock.js";
import { RefusedError } from "../errors.js";
import type { LockRow, TargetState } from "../store/state/state-store.js";
import { processAlive } from "../util/run-script.js";

export interface LeaseOwner {
  user: string;
  host: string;
  pid: number;
}

export interface LeaseOptions {
  operation: string;
  owner: LeaseOwner;
  ttlMs: number;
  clock: Clock;
  /** --force-unlock: take the lease even if its holder looks alive. */
  force?: boolean;
  /** Told when a stale lease is taken over. */
  onTakeover?: (previous: LockRow, reason: string) => void;
}

export class Lease {
  private timer?: NodeJS.Timeout;
  private readonly lost = new AbortController();

  constructor(
    private readonly state: TargetState,
    readonly token: string,
    private readonly options: LeaseOptions,
  ) {}

  /** Aborted if the lease could not be renewed (someone forced it away). */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  startHeartbeat(): void {
    const every = Math.max(50, Math.floor(this.options.ttlMs / 3));
    this.timer = setInterval(() => void this.renew(), every);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    const now = this.options.clock.now();
    try {
      const ok = await this.state.renewLock(this.token, iso(now), now + this.options.ttlMs);
      if (!ok) this.lost.abort(new RefusedError("lock_lost", "the deploy lock was taken by someone else (--force-unlock?)"));
    } catch {
      /* a transient error; the next heartbeat retries before the lease runs out */
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.state.deleteLock(this.token);
  }
}

export async function acquireLease(state: TargetState, options: LeaseOptions): Promise<Lease> {
  const token = randomBytes(12).toString("hex");
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = options.clock.now();
    const inserted = await state.tryInsertLock({
      token,
      operation: options.operation,
      owner_user: options.owner.user,
      owner_host: options.owner.host,
      owner_pid: options.owner.pid,
      acquired_at: iso(now),
      heartbeat_at: iso(now),
      expires_at: now + options.ttlMs,
    });
    if (inserted) {
      const lease = new Lease(state, token, options);
      lease.startHeartbeat();
      return lease;
    }
    const holder = await state.getLock();
    if (!holder) continue;
    const reason = staleReason(holder, options, now);
    if (!reason) throw lockHeld(state, holder, now);
    if (await state.deleteLock(holder.token)) options.onTakeover?.(holder, reason);
  }
  throw new RefusedError("lock_contended", `could not take the lock on ${state.project}/${state.target}: it keeps changing hands`, { hint: "try again" });
}

function staleReason(holder: LockRow, options: LeaseOptions, now: number): string | undefined {
  if (options.force) return "--force-unlock";
  if (holder.expires_at <= now) return `its lease expired at ${iso(holder.expires_at)}`;
  if (holder.owner_host === options.owner.host && holder.owner_pid !== options.owner.pid && !processAlive(holder.owner_pid)) {
    return `its process ${holder.owner_pid} is gone`;
  }
  return undefined;
}

function lockHeld(state: TargetState, holder: LockRow, now: number): RefusedError {
  const seconds = Math.max(0, Math.round((holder.expires_at - now) / 1000));
  return new RefusedError(
    "lock_held",
    `${state.project}/${state.target} is locked by ${holder.owner_user}@${holder.owner_host} (pid ${holder.owner_pid}), running "${holder.operation}" since ${holder.acquired_at}`,
    {
      hint: `wait for it to finish (its lease runs ${seconds}s more unless renewed); if that process is gone for good, run again with --force-unlock`,
      details: { holder: { user: holder.owner_user, host: holder.owner_host, pid: holder.owner_pid, operation: holder.operation, since: holder.acquired_at, expires_at: iso(holder.expires_at) } },
    },
  );
}
