// The flow shared by deploy, destroy and rollback: take the lease, recover from a crashed apply,
// plan, confirm, apply, record a revision, release the lease.
import { join } from "node:path";
import { iso } from "../clock.js";
import { RefusedError, SlipwayError } from "../errors.js";
import { applyPlan, type ApplyResult } from "../engine/apply.js";
import { Failpoints } from "../engine/failpoint.js";
import { settleEntry, type Settled } from "../engine/outcomes.js";
import { acquireLease, type Lease } from "../engine/lock.js";
import { isEmpty, type Plan } from "../engine/plan.js";
import type { RecordedResource } from "../resources.js";
import { kindLookup } from "../kinds/index.js";
import { openArchives, type ArchiveConfig } from "../store/archives.js";
import type { Stores } from "../store/open.js";
import { readSnapshot, writeSnapshot, type Snapshot } from "../store/revisions.js";
import type { TargetState } from "../store/state/state-store.js";
import { hashValue } from "../util/hash.js";
import { newId } from "../util/ids.js";
import { killProcessGroup } from "../util/run-script.js";
import type { OperationContext } from "./context.js";
import { providerServices } from "./provider-services.js";

export type Operation = "deploy" | "destroy" | "rollback" | "expire";

export interface DeploymentRequest {
  operation: Operation;
  projectName: string;
  targetName: string;
  projectDir: string;
  /** Recorded in the deployment row (phase, modules, rollback_to …). */
  options: Record<string, unknown>;
  makePlan(recorded: RecordedResource[]): Plan | Promise<Plan>;
  /** Refuses (throws) before anything changes, e.g. dependents still deployed. */
  check?(plan: Plan, recorded: RecordedResource[]): void;
  /**
   * Runs under the lease once the deployment goes ahead (confirmed, or nothing to change), before it
   * applies: a deploy restarts its target's TTL clock here, so a TTL deletion (which takes the same
   * lease) never destroys what a deploy is bringing up.
   */
  started?(): Promise<void>;
  /** Why this plan needs a person's yes, or undefined when it does not. */
  confirmation(plan: Plan): { question: string; needsForce?: string } | undefined;
  yes?: boolean;
  force?: boolean;
  forceUnlock?: boolean;
  /** Kill a script a crashed apply left running instead of waiting for it (`--kill-orphans`). */
  killOrphans?: boolean;
  /** What a revision remembers besides the resources. */
  snapshotExtras?: Record<string, unknown>;
  /** The target's archive stores (endpoints archive inference tables there; compute environments install from its artifact store). */
  archives?: ArchiveConfig;
}

export interface DeploymentOutcome {
  deploymentId?: string;
  plan: Plan;
  revision?: number;
  status: "succeeded" | "failed" | "no-changes";
  apply?: ApplyResult;
  logFile?: string;
}

export type { Snapshot } from "../store/revisions.js";

export async function runDeployment(stores: Stores, request: DeploymentRequest, ctx: OperationContext): Promise<DeploymentOutcome> {
  const { env, reporter } = ctx;
  const state = stores.state.forTarget(request.projectName, request.targetName);
  const lease = await takeLease(state, ctx, request.operation, request.forceUnlock);
  try {
    await recoverInterrupted(state, ctx, { home: stores.home, killOrphans: !!request.killOrphans });
    const recorded = await state.listResources();
    const plan = await request.makePlan(recorded);
    request.check?.(plan, recorded);
    reporter.plan?.(plan, `${request.projectName}/${request.targetName}`);

    if (isEmpty(plan)) {
      await request.started?.();
      const revision = await recordRevisionIfChanged(stores, state, request, ctx, undefined, recorded);
      return { plan, status: "no-changes", revision: revision?.revision, deploymentId: revision?.deploymentId };
    }
    const confirmation = request.confirmation(plan);
    if (confirmation) {
      if (confirmation.needsForce && !request.force) {
        throw new RefusedError("protected", confirmation.needsForce, { hint: "add --force (and --yes, or confirm at the prompt) if you really mean it" });
      }
      if (!request.yes) {
        if (!ctx.confirm) throw new RefusedError("confirmation_required", `${confirmation.question} Not confirmed: there is no terminal to ask.`, { hint: "re-run with --yes to confirm" });
        if (!(await ctx.confirm(confirmation.question))) throw new RefusedError("not_confirmed", "cancelled: nothing was changed");
      }
    }

    await request.started?.();
    const deploymentId = newId("d", env.clock.now());
    const started = env.clock.now();
    await state.createDeployment({
      id: deploymentId,
      operation: request.operation,
      status: "running",
      revision: null,
      user: env.user,
      host: env.host,
      pid: env.pid,
      started_at: iso(started),
      finished_at: null,
      summary: JSON.stringify(plan.summary),
      snapshot: null,
      state_hash: null,
      error: null,
      options: JSON.stringify(request.options),
    });
    const failpoints = new Failpoints(env.failpoint);
    const logDir = deploymentLogDir(stores.home, request.projectName, request.targetName, deploymentId);
    const archives = openArchives(stores.home, request.projectDir, request.archives);
    let apply: ApplyResult;
    try {
      apply = await applyPlan(plan, {
        state,
        blobs: stores.blobs,
        clock: env.clock,
        deploymentId,
        parallelism: env.parallelism,
        reporter,
        failpoints,
        logDir,
        signal: lease.signal,
        kinds: kindLookup,
        services: providerServices(env, stores, request.projectName, request.targetName, request.projectDir, archives),
      });
    } catch (e) {
      // The apply itself broke (lease lost, database gone): the deployment did not finish.
      await state.updateDeployment(deploymentId, { status: "failed", finished_at: iso(env.clock.now()), error: (e as Error).message }).catch(() => {});
      throw e;
    }
    if (!apply.ok) {
      const error = apply.failed.map((f) => `${f.action.address}: ${f.error.message}`).join("; ");
      await state.updateDeployment(deploymentId, { status: "failed", finished_at: iso(env.clock.now()), error });
      return { deploymentId, plan, status: "failed", apply, logFile: join(logDir, "output.log") };
    }
    failpoints.hit("deploy.before-revision");
    const revision = await recordRevisionIfChanged(stores, state, request, ctx, deploymentId);
    return { deploymentId, plan, status: "succeeded", apply, revision: revision?.revision, logFile: join(logDir, "output.log") };
  } finally {
    await lease.release();
  }
}

/** Takes the target's lease for this process, saying so when it takes over a stale one. */
export function takeLease(state: TargetState, ctx: OperationContext, operation: string, forceUnlock?: boolean): Promise<Lease> {
  const { env, reporter } = ctx;
  return acquireLease(state, {
    operation,
    owner: { user: env.user, host: env.host, pid: env.pid },
    ttlMs: env.lockTtlMs,
    clock: env.clock,
    force: forceUnlock,
    onTakeover: (previous, reason) => reporter.warn(`took over the lock of ${previous.owner_user}@${previous.owner_host} (pid ${previous.owner_pid}): ${reason}`),
  });
}

/** Where a deployment's output, and the intents and exit statuses of its scripts, are kept. */
export function deploymentLogDir(home: string, project: string, target: string, deploymentId: string): string {
  return join(home, "logs", project, target, deploymentId);
}

/**
 * A deployment row still "running" while we hold the lease belongs to a process that died. Each of
 * its actions still `started` whose script was run durably (hooks) is settled from the script's exit
 * status: a success is committed as the apply would have, a failure recorded; a script still running
 * is waited for (or killed with `killOrphans`). Other scripts left running (installs) are killed.
 */
async function recoverInterrupted(state: TargetState, ctx: OperationContext, options: { home: string; killOrphans: boolean }): Promise<void> {
  for (const d of await state.deploymentsWithStatus("running")) {
    const open = await state.openJournalEntries(d.id);
    const sameHost = d.host === ctx.env.host;
    const settled: Settled[] = [];
    for (const entry of open) {
      if (sameHost) {
        const outcome = await settleEntry(entry, {
          state,
          clock: ctx.env.clock,
          deploymentId: d.id,
          logDir: deploymentLogDir(options.home, state.project, state.target, d.id),
          killOrphans: options.killOrphans,
          warn: (m) => ctx.reporter.warn(m),
          output: ctx.reporter.output && ((address, stream, line) => ctx.reporter.output!(address, stream, line)),
        });
        if (outcome) {
          settled.push(outcome);
          ctx.reporter.warn(describeSettled(d.operation, outcome));
          continue;
        }
      }
      if (entry.child_pid && sameHost && killProcessGroup(entry.child_pid)) {
        ctx.reporter.warn(`stopped a script left running by the interrupted ${d.operation} (${entry.address}, process group ${entry.child_pid})`);
      }
    }
    const inFlight = open.map((e) => e.address);
    const notes = settled.map((s) => `${s.address} ${s.outcome === "committed" ? "finished afterwards and was recorded" : s.outcome === "failed" ? `failed afterwards (exit ${s.exitCode})` : `did not finish (${s.reason})`}`);
    await state.updateDeployment(d.id, {
      status: "interrupted",
      finished_at: iso(ctx.env.clock.now()),
      error: `the process (pid ${d.pid} on ${d.host}) stopped before finishing${inFlight.length ? `; in flight: ${inFlight.join(", ")}` : ""}${notes.length ? `; ${notes.join("; ")}` : ""}`,
    });
    ctx.reporter.warn(`the previous ${d.operation} (${d.id}) was interrupted${inFlight.length ? ` during ${inFlight.join(", ")}` : ""}; this run continues from what it recorded`);
  }
}

function describeSettled(operation: string, s: Settled): string {
  if (s.outcome === "committed") return `${s.address}, started by the interrupted ${operation}, finished on its own (exit 0): recorded as done; it does not run again`;
  if (s.outcome === "failed") return `${s.address}, started by the interrupted ${operation}, failed on its own (exit ${s.exitCode}): recorded as failed; it runs again when next planned`;
  return `${s.address}, started by the interrupted ${operation}, did not finish (${s.reason}): not recorded; it runs again when next planned`;
}

/** Records a revision when the recorded state differs from the latest revision's. */
async function recordRevisionIfChanged(
  stores: Stores,
  state: TargetState,
  request: DeploymentRequest,
  ctx: OperationContext,
  deploymentId: string | undefined,
  known?: RecordedResource[],
): Promise<{ revision: number; deploymentId: string } | undefined> {
  const resources = known ?? (await state.listResources());
  const stateHash = stateHashOf(resources);
  const latest = await state.latestRevision();
  const now = iso(ctx.env.clock.now());
  if (latest?.state_hash === stateHash || (!latest && resources.length === 0)) {
    if (deploymentId) await state.updateDeployment(deploymentId, { status: "succeeded", finished_at: now, state_hash: stateHash });
    return undefined;
  }
  // Format 2: unchanged resources are shared with earlier revisions (src/store/revisions.ts).
  const key = await writeSnapshot(stores.blobs, stateHash, { project: request.projectName, target: request.targetName, resources, ...request.snapshotExtras }, { previous: latest?.snapshot ?? undefined });
  const id = deploymentId ?? newId("d", ctx.env.clock.now());
  if (!deploymentId) {
    await state.createDeployment({
      id,
      operation: request.operation,
      status: "running",
      revision: null,
      user: ctx.env.user,
      host: ctx.env.host,
      pid: ctx.env.pid,
      started_at: now,
      finished_at: null,
      summary: JSON.stringify({ create: 0, update: 0, replace: 0, delete: 0, noop: resources.length }),
      snapshot: null,
      state_hash: null,
      error: null,
      options: JSON.stringify({ ...request.options, note: "recorded the state an interrupted deployment had applied" }),
    });
  }
  const revision = await state.nextRevision();
  await state.updateDeployment(id, { status: "succeeded", finished_at: now, revision, snapshot: key, state_hash: stateHash });
  return { revision, deploymentId: id };
}

export function stateHashOf(resources: readonly RecordedResource[]): string {
  return hashValue(resources.map((r) => [r.address, r.specHash, r.phase, r.dependsOn]));
}

export function loadSnapshot(stores: Stores, key: string): Promise<Snapshot> {
  return readSnapshot(stores.blobs, key);
}


