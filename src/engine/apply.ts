// Applies a plan: journals every action before and after it runs, runs independent actions in
// parallel (bounded), deletes before everything else, and stops starting new work at the first
// failure. What finished stays recorded, so the next deploy continues from there.
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { iso, type Clock } from "../clock.js";
import { SlipwayError } from "../errors.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import type { TargetState } from "../store/state/state-store.js";
import { runDag } from "../util/dag.js";
import type { RecordedResource } from "../resources.js";
import { Batcher } from "./batch.js";
import type { Failpoints } from "./failpoint.js";
import { childFiles, writeIntent } from "./outcomes.js";
import type { Plan, PlannedAction } from "./plan.js";
import type { ActionLog, KindLookup, ProviderContext } from "./provider.js";
import type { Reporter } from "./reporter.js";

export interface ApplyContext<Services = unknown> {
  state: TargetState;
  blobs: BlobStore;
  clock: Clock;
  deploymentId: string;
  parallelism: number;
  reporter: Reporter;
  failpoints: Failpoints;
  /** Folder where this deployment's action output is kept. */
  logDir: string;
  /** Aborts the apply from outside (lease lost). */
  signal?: AbortSignal;
  /** How to reach each kind's provider (the kinds registry). */
  kinds: KindLookup<Services>;
  /** Handed to every provider as `ctx.services`. */
  services: Services;
}

export interface ApplyResult {
  ok: boolean;
  done: PlannedAction[];
  failed: Array<{ action: PlannedAction; error: Error }>;
  skipped: PlannedAction[];
}

export async function applyPlan<Services>(plan: Plan, ctx: ApplyContext<Services>): Promise<ApplyResult> {
  const deletes = plan.actions.filter((a) => a.action === "delete");
  const forward = plan.actions.filter((a) => a.action !== "delete");
  const result: ApplyResult = { ok: true, done: [], failed: [], skipped: [] };
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const log = new DeploymentLog(ctx.logDir);
  let seq = 0;

  const runJournaled = async (action: PlannedAction): Promise<void> => {
    const mySeq = ++seq;
    const started = ctx.clock.now();
    try {
      await ctx.state.journalStart({ deployment_id: ctx.deploymentId, seq: mySeq, address: action.address, action: action.action, started_at: iso(started) });
    } catch (e) {
      result.failed.push({ action, error: e instanceof Error ? e : new Error(String(e)) });
      result.ok = false;
      stop.abort(e);
      return;
    }
    ctx.failpoints.hit("apply.before-action");
    ctx.reporter.actionStarted?.(action);
    let children = 0;
    // While a replace deletes the old resource, a child does not settle the action.
    let replacingOld = false;
    const pctx = providerContext(ctx, action, ctx.state, stop.signal, log, {
      childStarted: (pid) => ctx.state.journalChild(ctx.deploymentId, mySeq, pid),
      settlingChild: (outputs) => {
        const child = ++children;
        const d = action.desired;
        writeIntent(ctx.logDir, {
          address: action.address,
          action: action.action,
          seq: mySeq,
          child,
          settles: !replacingOld,
          record: d && { ...desiredFields(d, outputs), createdAt: action.recorded?.createdAt },
        });
        return childFiles(ctx.logDir, mySeq, child);
      },
    });
    try {
      const outputs = await callProvider(ctx.kinds, action, pctx, (replacing) => (replacingOld = replacing));
      ctx.failpoints.hit("apply.after-action");
      const now = ctx.clock.now();
      const journal = { deploymentId: ctx.deploymentId, seq: mySeq, at: iso(now) };
      if (action.action === "delete") {
        await ctx.state.commitDelete(action.address, journal);
      } else {
        await ctx.state.commitPut(recordOf(action, outputs, iso(now)), journal);
      }
      ctx.failpoints.hit("apply.after-commit");
      result.done.push(action);
      ctx.reporter.actionFinished?.(action, { ok: true, ms: now - started });
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      // Recording the failure may fail too (the database is gone): the action is failed either way.
      await ctx.state.journalFail(ctx.deploymentId, mySeq, iso(ctx.clock.now()), error.message).catch(() => {});
      result.failed.push({ action, error });
      result.ok = false;
      stop.abort(error);
      ctx.reporter.actionFinished?.(action, { ok: false, ms: ctx.clock.now() - started, error: error.message });
    }
  };

  // State-only actions (their provider writes to the state and nothing else) that are ready together
  // are applied with their records in one transaction: no journal, since a crash leaves all of them
  // or none recorded and nothing outside the state to recover.
  const applyTogether = async (actions: PlannedAction[]): Promise<void> => {
    if (stop.signal.aborted) return void result.skipped.push(...actions);
    const started = ctx.clock.now();
    let now = started;
    try {
      await ctx.state.atomically(async (state) => {
        now = ctx.clock.now();
        // Records are written together at the end (multi-row statements), deletes as they come: no
        // provider reads resource records, so the order within the transaction does not show.
        const records: RecordedResource[] = [];
        for (const action of actions) {
          ctx.failpoints.hit("apply.before-action");
          // A state-only provider gets the transaction's state and may not start processes.
          const pctx = providerContext(ctx, action, state, stop.signal, log, { childStarted: () => Promise.reject(new Error(`${action.kind} is declared state-only and may not start processes`)) });
          const outputs = await callProvider(ctx.kinds, action, pctx, () => {});
          ctx.failpoints.hit("apply.after-action");
          if (action.action === "delete") await state.forgetResource(action.address);
          else records.push(recordOf(action, outputs, iso(now)));
        }
        await state.putResources(records);
      });
    } catch {
      // One of them failed and the transaction left nothing behind: each alone, journaled, so the
      // failure is reported as its own and the others are applied.
      for (const action of actions) {
        if (stop.signal.aborted) result.skipped.push(action);
        else await runJournaled(action);
      }
      return;
    }
    const ms = ctx.clock.now() - started;
    for (const action of actions) {
      ctx.failpoints.hit("apply.after-commit");
      result.done.push(action);
      // Reported once committed: a batch that fails is applied again action by action, which reports them.
      ctx.reporter.actionStarted?.(action);
      ctx.reporter.actionFinished?.(action, { ok: true, ms });
    }
  };
  const together = new Batcher<PlannedAction>(applyTogether);
  // SLIPWAY_PARALLELISM=1 means one action at a time, state-only ones included (and in plan order).
  const batched = (a: PlannedAction) => ctx.parallelism > 1 && isStateOnly(ctx.kinds, a);
  const runOne = (a: PlannedAction): Promise<void> => (batched(a) ? together.add(a) : runJournaled(a));

  try {
    // Deletes: in the plan's order (`after`: dependents first; a module's marker after the rest of its
    // module). A plan made without it: a resource goes only after everything that depends on it.
    const deleteSet = new Set(deletes.map((a) => a.address));
    const mustWaitFor = new Map<string, string[]>();
    for (const y of deletes) {
      for (const x of y.recorded!.dependsOn) {
        if (!deleteSet.has(x)) continue;
        const list = mustWaitFor.get(x);
        if (list) list.push(y.address);
        else mustWaitFor.set(x, [y.address]);
      }
    }
    const waitsFor = (a: PlannedAction) => (a.after ?? mustWaitFor.get(a.address) ?? []).filter((x) => deleteSet.has(x));
    await runActions(deletes, waitsFor, ctx.parallelism, stop.signal, runOne, result, batched);
    if (result.ok && !stop.signal.aborted) {
      const forwardSet = new Set(forward.map((a) => a.address));
      await runActions(forward, (a) => a.desired!.dependsOn.filter((d) => forwardSet.has(d)), ctx.parallelism, stop.signal, runOne, result, batched);
    } else {
      result.skipped.push(...forward);
    }
  } finally {
    ctx.signal?.removeEventListener("abort", onOuterAbort);
    await log.close();
  }
  // Stopped from outside (the lease was lost) with every started action done: still not a success,
  // since what was skipped never ran (and someone else may be deploying now).
  if (stop.signal.aborted) result.ok = false;
  if (!result.ok && result.failed.length === 0) {
    throw new SlipwayError("apply_aborted", `the apply was stopped: ${String(stop.signal.reason ?? "aborted")}`);
  }
  return result;
}

/** Runs actions as their prerequisites finish (at most `limit` at a time); what never started is skipped. */
async function runActions(
  actions: PlannedAction[],
  prerequisites: (a: PlannedAction) => string[],
  limit: number,
  signal: AbortSignal,
  run: (a: PlannedAction) => Promise<void>,
  result: ApplyResult,
  free: (a: PlannedAction) => boolean,
): Promise<void> {
  // runOne records its own failures and aborts `signal`, which stops new work. Batched actions take no
  // slot of the bound: they run no process, they wait for their batch.
  const { notStarted } = await runDag({ nodes: actions, key: (a) => a.address, prerequisites, limit, free, signal, run: (a) => run(a).then(() => !signal.aborted) });
  result.skipped.push(...notStarted);
}

/** Runs the provider for one action (a replace: the old resource's delete, then the create); its outputs. */
async function callProvider<S>(kinds: KindLookup<S>, action: PlannedAction, pctx: ProviderContext<S>, replacing: (old: boolean) => void): Promise<Record<string, unknown>> {
  const provider = kinds.provider(action.kind);
  if (action.action === "delete") {
    await provider.delete(pctx, action.recorded!, action.runtime);
    return {};
  }
  if (action.action === "create") return provider.create(pctx, action.desired!);
  if (action.action === "update") return provider.update(pctx, action.recorded!, action.desired!);
  replacing(true);
  await kinds.provider(action.recorded!.kind).delete(pctx, action.recorded!, action.desired!.runtime);
  replacing(false);
  return provider.create(pctx, action.desired!);
}

/** Whether every provider the action calls is state-only (Provider.stateOnly). */
function isStateOnly<S>(kinds: KindLookup<S>, action: PlannedAction): boolean {
  if (kinds.provider(action.kind).stateOnly !== true) return false;
  return action.action !== "replace" || kinds.provider(action.recorded!.kind).stateOnly === true;
}

/**
 * A provider's context for one action: output goes to the deployment's log and the reporter; `children`
 * says what happens to processes the provider starts (journaled, or refused for state-only kinds).
 */
function providerContext<S>(ctx: ApplyContext<S>, action: PlannedAction, state: TargetState, signal: AbortSignal, log: DeploymentLog, children: Pick<ActionLog, "childStarted" | "settlingChild">): ProviderContext<S> {
  return {
    project: ctx.state.project,
    target: ctx.state.target,
    deploymentId: ctx.deploymentId,
    state,
    blobs: ctx.blobs,
    clock: ctx.clock,
    signal,
    log: {
      output: (stream, line) => {
        log.write(action.address, line);
        ctx.reporter.output?.(action.address, stream, line);
      },
      ...children,
    },
    services: ctx.services,
  };
}

/** What a successful create, update or replace records. */
function recordOf(action: PlannedAction, outputs: Record<string, unknown>, now: string): RecordedResource {
  return { ...desiredFields(action.desired!, outputs), createdAt: action.recorded?.createdAt ?? now, updatedAt: now };
}

/** The desired resource's fields a record keeps, with its outputs (the record and a child's intent share them). */
function desiredFields(d: NonNullable<PlannedAction["desired"]>, outputs: Record<string, unknown>) {
  return { address: d.address, kind: d.kind, name: d.name, module: d.module, phase: d.phase, spec: d.spec, specHash: d.specHash, dependsOn: d.dependsOn, outputs };
}

/** Keeps every action's output with the deployment: one file per deployment, lines prefixed by address. */
class DeploymentLog {
  private stream?: WriteStream;
  constructor(private readonly dir: string) {}

  write(address: string, line: string): void {
    if (!this.stream) {
      mkdirSync(this.dir, { recursive: true });
      this.stream = createWriteStream(join(this.dir, "output.log"), { flags: "a" });
    }
    this.stream.write(`[${address}] ${line}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.stream ? this.stream.end(resolve) : resolve()));
  }
}
