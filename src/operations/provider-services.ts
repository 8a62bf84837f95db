// Builds the services a deployment hands to providers (src/kinds/services.ts) from what the operation
// holds: the runtime environment, the target's stores and archives, and this home's serving control.
import { ArtifactStore } from "../artifacts/store.js";
import type { EnvironmentContext } from "../compute/environments.js";
import type { RuntimeEnv } from "../env.js";
import type { TargetServices } from "../kinds/services.js";
import { localAppControl, localServingControl } from "../serving/control.js";
import { kubernetesEndpointCluster } from "../serving/kubernetes/cluster.js";
import type { ArchiveStores } from "../store/archives.js";
import { blobStoreAt, type Stores } from "../store/open.js";

export function providerServices(env: RuntimeEnv, stores: Stores, project: string, target: string, projectDir: string, archives: ArchiveStores): TargetServices {
  const artifacts = new ArtifactStore(archives.artifacts, project, target);
  const compute = stores.state.compute(project, target);
  return {
    scripts: { env: env.processEnv, projectDir },
    user: env.user,
    models: stores.state.models(project, target),
    archives,
    archiveAt: blobStoreAt,
    artifacts,
    environments: (io): EnvironmentContext => ({ home: env.home, project, target, compute, artifacts, user: env.user, clock: env.clock, io }),
    serving: localServingControl(env, project, target),
    // Loads the client library only when an endpoint served on Kubernetes is applied.
    cluster: kubernetesEndpointCluster(),
    apps: localAppControl(env, project, target),
  };
}
