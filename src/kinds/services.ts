// The kind-specific services a provider receives in `ctx.services`, each an interface: what a hook
// may start, where models are registered, how serving is controlled. Operations build the real ones
// (src/operations/provider-services.ts); unit tests hand in their own.
import type { ArtifactStore } from "../artifacts/store.js";
import type { EnvironmentContext } from "../compute/environments.js";
import type { ProcessIO } from "../compute/venv.js";
import type { AppControl, ServingControl } from "../serving/control.js";
import type { EndpointCluster } from "../serving/kubernetes/cluster.js";
import type { ArchiveStores } from "../store/archives.js";
import type { BlobStore } from "../store/blobs/blob-store.js";
import type { ModelStore } from "../store/state/model-store.js";

export interface TargetServices {
  /** What scripts start from: the process environment of the command and the project folder. */
  scripts: { env: NodeJS.ProcessEnv; projectDir: string };
  /** Who is deploying (recorded with installs). */
  user: string;
  /** The target's model registry. */
  models: ModelStore;
  /** The target's run archives (model files live in persisted_data; inference tables go to misc). */
  archives: ArchiveStores;
  /** An archive store recorded by location at deploy time (a destroy archives where the deploy said). */
  archiveAt(location: string): BlobStore;
  /** The target's artifact store. */
  artifacts: ArtifactStore;
  /** Compute environments of this (project, target), with the given process I/O. */
  environments(io: ProcessIO): EnvironmentContext;
  /** The server that serves this target's endpoints. */
  serving: ServingControl;
  /** Kubernetes, for a target whose endpoints are served there (`serving: { type: kubernetes }`). */
  cluster: EndpointCluster;
  /** The server that runs this target's apps. */
  apps: AppControl;
}
