// The provider contract: one implementation per resource kind. Adding a kind is adding a file and
// registering it in providers/index.ts. Providers are idempotent: a create that finds its resource
// already there adopts it, a delete of something already gone succeeds.
import type { Clock } from "../clock.js";
import type { DesiredResource, RecordedResource, ResourceKind, ResourceRuntime } from "../resources.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import type { ComputeStore } from "../store/state/compute-store.js";
import type { TargetState } from "../store/state/state-store.js";
import type { RuntimeEnv } from "../env.js";
import type { ArchiveStores } from "../store/archives.js";
import type { ModelStore } from "../store/state/model-store.js";

export type Outputs = Record<string, unknown>;

/** What providers beyond state need: the runtime environment, the target's archives, its model registry. */
export interface ProviderServices {
  env: RuntimeEnv;
  archives: ArchiveStores;
  models: ModelStore;
}

export interface ProviderContext extends ProviderServices {
  project: string;
  target: string;
  projectDir: string;
  deploymentId: string;
  state: TargetState;
  blobs: BlobStore;
  /** SLIPWAY_HOME: local working state (compute environments live under envs/). */
  home: string;
  /** The target's artifact store (archives.artifacts). */
  artifacts: BlobStore;
  /** Compute environments of this (project, target) and what is installed in them. */
  compute: ComputeStore;
  /** Who is deploying (recorded with installs). */
  user: string;
  clock: Clock;
  /** The environment scripts start from (the process environment of the CLI). */
  processEnv: NodeJS.ProcessEnv;
  /** Aborted when the apply stops (another action failed, the lease was lost). */
  signal: AbortSignal;
  /** One line of the action's output: streamed to the terminal and kept with the deployment. */
  output(stream: "stdout" | "stderr", line: string): void;
  /** Journals the process group a provider started, so a crashed apply can stop it on recovery. */
  childStarted(pid: number | null): Promise<void>;
}

export interface Provider {
  readonly kind: ResourceKind;
  create(ctx: ProviderContext, desired: DesiredResource): Promise<Outputs>;
  update(ctx: ProviderContext, recorded: RecordedResource, desired: DesiredResource): Promise<Outputs>;
  /** `runtime` is the folder and environment scripts run with (the module's, even if it left the config). */
  delete(ctx: ProviderContext, recorded: RecordedResource, runtime?: ResourceRuntime): Promise<void>;
  /** Whether a spec change can be applied in place, or needs delete + create. */
  diff(recorded: RecordedResource, desired: DesiredResource): "update" | "replace";
}
