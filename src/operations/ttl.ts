// Time-limited targets: `ttl: { after: 24h, notify_before: 1h }` destroys everything deployed to the
// target `after` its last deploy (src/operations/ttl-clock.ts keeps the clock). Here: the server's pass
// that sends deletion_upcoming and destroys what ran out (retrying a failed deletion with backoff and
// saying so), and the commands `ttl show`, `ttl extend`, `ttl pin`, `ttl unpin`.
//
// The pass runs in the server's `ttl` unit, under its lease, so two servers on one state run it once
// per due time; each notification is claimed by a row before it is sent (once per channel and
// generation); the deletion checks under the target's lock that the clock was not restarted, extended
// or pinned since the pass looked (`guard`), so it never destroys what a deploy just brought up.
import { iso } from "../clock.js";
import { targetEnvironment } from "../config/env-files.js";
import type { TargetChannel, TargetEvent } from "../config/schema.js";
import { targetTtl } from "../config/ttl.js";
import { silentReporter } from "../engine/reporter.js";
import type { RuntimeEnv, UserName } from "../env.js";
import { InvalidInputError, RefusedError } from "../errors.js";
import type { CompiledProject } from "../kinds/compile-project.js";
import { describeChannel, sendNotification, type TargetNotificationMessage } from "../pipelines/notify.js";
import type { Stores } from "../store/open.js";
import type { TargetTtlRow } from "../store/state/ttl-store.js";
import { parseDuration } from "../util/duration.js";
import { authorizeFor, compile, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";
import { takeLease } from "./deployment.js";
import { destroy } from "./destroy.js";

/** The longest wait between two attempts of a failing deletion. */
const MAX_RETRY_MS = 3_600_000;

export interface TtlDelivery {
  event: string;
  channel: string;
  status: string;
  attempts: number;
  error: string | null;
  at: string;
}

export interface TtlInfo {
  scope: "target" | "endpoints";
  after: string;
  notifyBefore: string | null;
  /** not_started (deployed before the ttl was set, or never deployed) | armed | retrying | expired | destroyed */
  status: string;
  deployedAt: string | null;
  deployedBy: string | null;
  dueAt: string | null;
  /** ms until the deletion (negative: overdue); null when no deletion is pending or while pinned. */
  remainingMs: number | null;
  extendedMs: number;
  pinnedBy: string | null;
  pinnedAt: string | null;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  finishedAt: string | null;
  deliveries: TtlDelivery[];
  /** scope endpoints: each endpoint's expiry. */
  endpoints: Array<{ name: string; expiresAt: string | null }>;
}

export interface TtlResult {
  project: string;
  target: string;
  ttl: TtlInfo | null;
}

/** The target's TTL as `status` and `ttl show` give it (null when the target has none). */
export async function ttlInfo(compiled: CompiledProject, stores: Stores, now: number): Promise<TtlInfo | null> {
  const { project } = compiled;
  const ttl = targetTtl(project.target.config);
  if (!ttl) return null;
  const base = { scope: ttl.scope, after: ttl.after, notifyBefore: ttl.notifyBefore };
  if (ttl.scope === "endpoints") {
    const endpoints = (await stores.state.forTarget(project.name, project.target.name).listResources()).filter((r) => r.kind === "endpoint");
    return { ...base, status: endpoints.length ? "armed" : "not_started", deployedAt: null, deployedBy: null, dueAt: null, remainingMs: null, extendedMs: 0, pinnedBy: null, pinnedAt: null, attempts: 0, lastError: null, nextAttemptAt: null, finishedAt: null, deliveries: [], endpoints: endpoints.map((r) => ({ name: r.name, expiresAt: (r.outputs.expires_at as string | null | undefined) ?? null })) };
  }
  const row = await stores.state.ttl().get(project.name, project.target.name);
  if (!row) return { ...base, status: "not_started", deployedAt: null, deployedBy: null, dueAt: null, remainingMs: null, extendedMs: 0, pinnedBy: null, pinnedAt: null, attempts: 0, lastError: null, nextAttemptAt: null, finishedAt: null, deliveries: [], endpoints: [] };
  const open = row.status === "armed" || row.status === "retrying";
  const deliveries = await stores.state.ttl().deliveries(project.name, project.target.name, row.generation);
  return {
    // As deployed: a config changed since shows on the next deploy.
    scope: "target",
    after: row.after,
    notifyBefore: row.notify_before,
    status: row.status,
    deployedAt: row.deployed_at,
    deployedBy: row.deployed_by,
    dueAt: open ? iso(row.due_ms) : null,
    remainingMs: open && !row.pinned_by ? row.due_ms - now : null,
    extendedMs: row.extended_ms,
    pinnedBy: row.pinned_by,
    pinnedAt: row.pinned_at,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_ms === null ? null : iso(row.next_attempt_ms),
    finishedAt: row.finished_at,
    deliveries: deliveries.map((d) => ({ event: d.event, channel: d.description, status: d.status, attempts: d.attempts, error: d.error, at: d.at })),
    endpoints: [],
  };
}

export async function showTtl(options: ProjectOptions, ctx: OperationContext): Promise<TtlResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "ttl show");
  return withStores(compiled, ctx.env, async (stores) => ({ project: compiled.project.name, target: compiled.project.target.name, ttl: await ttlInfo(compiled, stores, ctx.env.clock.now()) }));
}

/** `ttl extend`: the deletion moves `by` later (from now when it is overdue); a deploy drops extensions. */
export async function extendTtl(options: ProjectOptions & { by: string }, ctx: OperationContext): Promise<TtlResult> {
  if (!/^\d+(ms|s|m|h|d)$/.test(options.by) || parseDuration(options.by) === 0) {
    throw new InvalidInputError([{ message: `ttl extend: "${options.by}" is not a duration`, hint: "for example `slipway ttl extend dev 12h` (units ms, s, m, h, d)" }], "invalid_flag");
  }
  const by = parseDuration(options.by);
  return changeClock(options, ctx, "ttl extend", (row, now) => {
    const due = Math.max(row.due_ms, now) + by;
    // A new generation: deletion_upcoming is sent again for the new time; a failed deletion's retries restart.
    return { generation: row.generation + 1, due_ms: due, extended_ms: row.extended_ms + by, status: "armed", attempts: 0, next_attempt_ms: null, last_error: null };
  });
}

/** `ttl pin` / `ttl unpin`: a pinned target is not destroyed (nor warned about) until unpinned; unpinning an overdue target lets the next pass destroy it. */
export async function setTtlPinned(options: ProjectOptions & { pinned: boolean }, ctx: OperationContext): Promise<TtlResult> {
  return changeClock(options, ctx, options.pinned ? "ttl pin" : "ttl unpin", (_row, now) => (options.pinned ? { pinned_by: ctx.env.user, pinned_at: iso(now) } : { pinned_by: null, pinned_at: null }));
}

async function changeClock(options: ProjectOptions, ctx: OperationContext, command: string, change: (row: TargetTtlRow, now: number) => Partial<TargetTtlRow>): Promise<TtlResult> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_MANAGE", command);
  const { project } = compiled;
  return withStores(compiled, ctx.env, async (stores) => {
    // Under the target's lock, like a deletion: the pass never destroys with a clock this call changed.
    const lease = await takeLease(stores.state.forTarget(project.name, project.target.name), ctx, command);
    try {
      const store = stores.state.ttl();
      const row = await store.get(project.name, project.target.name);
      if (!row || (row.status !== "armed" && row.status !== "retrying")) {
        const ttl = targetTtl(project.target.config);
        const why = !ttl || ttl.scope !== "target" ? `${project.name}/${project.target.name} has no target-wide ttl (ttl: { after: 24h } in slipway.yaml)` : !row ? `${project.name}/${project.target.name} has not been deployed with its ttl yet` : `${project.name}/${project.target.name} was already ${row.status === "expired" ? "destroyed by its ttl" : "destroyed"} (${row.finished_at})`;
        throw new RefusedError("ttl_not_running", `${command}: ${why}`, { hint: ttl?.scope === "endpoints" ? "`ttl: 24h` applies to each endpoint: a deploy restarts their clocks" : "deploy the target to start its clock" });
      }
      const now = ctx.env.clock.now();
      const fields = { ...change(row, now), updated_at: iso(now) };
      if (!(await store.update(project.name, project.target.name, row.generation, fields))) throw new RefusedError("ttl_restarted", `${command}: the clock of ${project.name}/${project.target.name} changed meanwhile`, { hint: "run it again" });
    } finally {
      await lease.release();
    }
    return { project: project.name, target: project.target.name, ttl: await ttlInfo(compiled, stores, ctx.env.clock.now()) };
  });
}

export interface ExpireOptions {
  log(line: string): void;
  /** Notification retries (tests: shorter). */
  retryDelaysMs?: readonly number[];
}

/**
 * The server's pass over target-wide TTLs in its state: sends deletion_upcoming once the time is
 * within notify_before, destroys (as `slipway destroy --yes`, recorded as `expire`, as the user who
 * deployed) what ran out, and on failure records the error and retries with backoff (the reap
 * interval, doubling, at most an hour), sending deletion_failed. Returns what it did, one line each.
 */
export async function expireTargets(stores: Stores, env: RuntimeEnv, o: ExpireOptions): Promise<string[]> {
  const store = stores.state.ttl();
  const did: string[] = [];
  for (const row of await store.open()) {
    const now = env.clock.now();
    const where = `${row.project}/${row.target}`;
    if (row.pinned_by) continue;
    const notifyBeforeMs = row.notify_before ? parseDuration(row.notify_before) : 0;
    if (row.status === "armed" && notifyBeforeMs > 0 && now >= row.due_ms - notifyBeforeMs && now < row.due_ms) {
      if (await notify(stores, env, row, "deletion_upcoming", o)) did.push(`${where}: deletion_upcoming sent (destroyed at ${iso(row.due_ms)})`);
    }
    if (now < row.due_ms || (row.next_attempt_ms !== null && now < row.next_attempt_ms)) continue;
    const asDeployer: RuntimeEnv = { ...env, user: row.deployed_by as UserName };
    try {
      const r = await destroy(
        {
          dir: row.dir,
          target: row.target,
          yes: true,
          operation: "expire",
          keepServer: true,
          guard: async () => {
            const current = await store.get(row.project, row.target);
            if (!current || current.generation !== row.generation || current.pinned_by || (current.status !== "armed" && current.status !== "retrying") || env.clock.now() < current.due_ms) {
              throw new RefusedError("ttl_restarted", `${where}: the clock was restarted, extended or pinned; nothing deleted`);
            }
          },
        },
        { env: asDeployer, reporter: silentReporter },
      );
      if (r.status === "failed") throw new Error(r.apply?.failed.map((f) => `${f.action.address}: ${f.error.message}`).join("; ") || "the destroy failed");
      const at = env.clock.now();
      const latest = { ...row, status: "expired", attempts: row.attempts + 1, next_attempt_ms: null, last_error: null, finished_at: iso(at), updated_at: iso(at) };
      await store.update(row.project, row.target, row.generation, { status: latest.status, attempts: latest.attempts, next_attempt_ms: null, last_error: null, finished_at: latest.finished_at, updated_at: latest.updated_at });
      did.push(`${where}: destroyed (ttl ${row.after} ran out at ${iso(row.due_ms)}; revision ${r.revision ?? "unchanged"})`);
      await notify(stores, env, latest, "deletion_done", o, r.revision ?? null);
    } catch (e) {
      if ((e as { code?: string }).code === "ttl_restarted") {
        did.push((e as Error).message);
        continue;
      }
      // Someone else holds the target's lock (a deploy, another server's deletion): not a failed attempt; the next pass looks again.
      if ((e as { code?: string }).code === "lock_held") {
        did.push(`${where}: locked (${(e as Error).message}); tried again at the next pass`);
        continue;
      }
      const attempts = row.attempts + 1;
      const at = env.clock.now();
      const next = at + Math.min(env.reapEveryMs * 2 ** (attempts - 1), MAX_RETRY_MS);
      const error = mask((e as Error).message, secretsOf(row, env));
      const latest = { ...row, status: "retrying", attempts, next_attempt_ms: next, last_error: error, updated_at: iso(at) };
      await store.update(row.project, row.target, row.generation, { status: "retrying", attempts, next_attempt_ms: next, last_error: error, updated_at: iso(at) });
      did.push(`${where}: deletion failed (attempt ${attempts}; next at ${iso(next)}): ${error}`);
      await notify(stores, env, latest, "deletion_failed", o);
    }
  }
  return did;
}

/** Sends `event` on each channel of the row that takes it, once per channel and generation; true when this call sent any. */
async function notify(stores: Stores, env: RuntimeEnv, row: TargetTtlRow, event: TargetEvent, o: ExpireOptions, revision: number | null = null): Promise<boolean> {
  const channels = (JSON.parse(row.channels) as TargetChannel[]).map((c, i) => ({ c, i })).filter(({ c }) => !c.events || c.events.includes(event));
  if (!channels.length) return false;
  const where = `${row.project}/${row.target}`;
  const dueAt = iso(row.due_ms);
  const nextAt = row.next_attempt_ms === null ? null : iso(row.next_attempt_ms);
  const keep = `keep it: slipway ttl extend ${row.target} 12h, or slipway ttl pin ${row.target}; a deploy restarts the clock`;
  const text: Record<TargetEvent, { title: string; lines: string[] }> = {
    deletion_upcoming: { title: `${where} will be destroyed at ${dueAt} (ttl ${row.after})`, lines: [`deployed ${row.deployed_at} by ${row.deployed_by}`, keep] },
    deletion_done: { title: `${where} was destroyed: its ttl of ${row.after} ran out`, lines: [`deployed ${row.deployed_at} by ${row.deployed_by}, due ${dueAt}`, revision === null ? "nothing was deployed" : `recorded as revision ${revision} (expire)`] },
    deletion_failed: { title: `destroying ${where} failed (attempt ${row.attempts}): it is retried`, lines: [row.last_error ?? "", `next attempt at ${nextAt}`, `see: slipway ttl show -t ${row.target}`] },
  };
  const message: TargetNotificationMessage = {
    event,
    project: row.project,
    target: row.target,
    ...text[event],
    at: iso(env.clock.now()),
    ttl: { after: row.after, deployed_at: row.deployed_at, deployed_by: row.deployed_by, due_at: dueAt, attempts: row.attempts, error: row.last_error, next_attempt_at: nextAt },
  };
  const project = projectEnv(row, env);
  let sent = false;
  for (const { c, i } of channels) {
    const key = { project: row.project, target: row.target, generation: row.generation, event, channel: i };
    if (!(await stores.state.ttl().claimDelivery({ ...key, description: describeChannel(c), status: "sending", attempts: 0, error: null, at: iso(env.clock.now()) }))) continue;
    sent = true;
    try {
      const attempts = await sendNotification(c, message, `${row.project}/${row.target}/${row.generation}/${event}/${i}`, { clock: env.clock, smtpUrl: env.smtpUrl, retryDelaysMs: o.retryDelaysMs, secret: async (name) => project.vars?.[name] ?? env.processEnv[name] });
      await stores.state.ttl().settleDelivery(key, { status: "sent", attempts, error: null, at: iso(env.clock.now()) });
    } catch (e) {
      const error = mask((e as Error).message, project.secrets);
      o.log(`ttl: ${where}: ${event} to ${describeChannel(c)} failed: ${error}`);
      await stores.state.ttl().settleDelivery(key, { status: "failed", attempts: (e as { attempts?: number }).attempts ?? 1, error, at: iso(env.clock.now()) });
    }
  }
  return sent;
}

/** The target's environment (application.env, its env_files) for notification secrets, and the values never to show. */
function projectEnv(row: TargetTtlRow, env: RuntimeEnv): { vars: Record<string, string> | null; secrets: string[] } {
  try {
    const compiled = compile({ dir: row.dir, target: row.target }, { ...env, user: row.deployed_by as UserName });
    return { vars: targetEnvironment(compiled.project), secrets: compiled.secrets };
  } catch {
    // The folder no longer compiles: the process's environment only.
    return { vars: null, secrets: [] };
  }
}

function secretsOf(row: TargetTtlRow, env: RuntimeEnv): string[] {
  return projectEnv(row, env).secrets;
}

function mask(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("***");
  return out;
}
