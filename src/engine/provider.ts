// The provider contract: one implementation per resource kind (src/kinds/<kind>/provider.ts). The engine
// applies plans through it and knows nothing else about a kind. Providers are idempotent: a create
// that finds its resource already there adopts it, a delete of something already gone succeeds.
import type { Clock } from "../clock.js";
import type { DesiredResource, RecordedResource, ResourceKind, ResourceRuntime } from "../resources.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import type { TargetState } from "../store/state/state-store.js";
import type { DurableFiles } from "../util/run-script.js";

export type Outputs = Record<string, unknown>;

/** Where an action's output goes: streamed to the terminal and kept with the deployment. */
export interface ActionLog {
  /** One line of output. */
  output(stream: "stdout" | "stderr", line: string): void;
  /** Journals the process group a provider started (null once it ended), so recovery can find it after a crash. */
  childStarted(pid: number | null): Promise<void>;
  /**
   * For a child whose exit settles the action (a hook's script; nothing may follow it but returning
   * `outputs`): the files its wrapper writes its output and exit status to (runProcess's `durable`).
   * Before returning, the apply records what a success commits, so if this process dies, recovery
   * adopts the child's outcome instead of running it again. Call it once per child, just before
   * starting it. Absent where outcomes are not kept (then run the child plainly).
   */
  settlingChild?(outputs: Outputs): DurableFiles;
}

/**
 * What a provider may touch: the target's state and blob store (through their contracts only), the
 * clock, a log, an abort signal, and the kind-specific services the kinds layer hands over (`services`,
 * interfaces such as serving control; see src/kinds/services.ts). Nothing else: no process
 * environment, no SLIPWAY_HOME, no concrete store classes.
 */
export interface ProviderContext<Services = unknown> {
  project: string;
  target: string;
  deploymentId: string;
  state: TargetState;
  blobs: BlobStore;
  clock: Clock;
  /** Aborted when the apply stops (another action failed, the lease was lost). */
  signal: AbortSignal;
  log: ActionLog;
  services: Services;
}

export interface Provider<Spec = Record<string, unknown>, Services = unknown> {
  /**
   * Its effects are writes through `ctx.state` and nothing else (no process, file, blob or service
   * call). The engine may then apply it, with its record and other such actions, in one transaction
   * and without journaling it (see engine/apply.ts).
   */
  stateOnly?: boolean;
  create(ctx: ProviderContext<Services>, desired: DesiredResource<Spec>): Promise<Outputs>;
  update(ctx: ProviderContext<Services>, recorded: RecordedResource<Spec>, desired: DesiredResource<Spec>): Promise<Outputs>;
  /** `runtime` is the folder and environment scripts run with (the module's, even if it left the config). */
  delete(ctx: ProviderContext<Services>, recorded: RecordedResource<Spec>, runtime?: ResourceRuntime): Promise<void>;
}

/** Whether a spec change can be applied in place, or needs delete + create. The plan asks this, and only this. */
export type ChangeKind = (recorded: RecordedResource, desired: DesiredResource) => "update" | "replace";

/**
 * Deletes only: which of the resources being deleted this one must outlast, although it depends on
 * them (a module's "deployed" marker is removed after everything else of its module). The plan asks
 * this, and only this, besides ChangeKind.
 */
export type RemovedAfter = (resource: RecordedResource, deleting: readonly RecordedResource[]) => string[];

/** How the engine reaches kinds without importing them: the kinds registry implements this. */
export interface KindLookup<Services = unknown> {
  provider(kind: ResourceKind): Provider<any, Services>;
  changeKind(kind: ResourceKind): ChangeKind;
  /** See RemovedAfter; kinds without the rule answer []. */
  removedAfter?: RemovedAfter;
}
