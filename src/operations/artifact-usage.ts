// Where each artifact version is in use in a target: installed in a compute environment (state),
// named by a deployed compute environment's `libraries` (and so used by the jobs that run in it), or
// named in a revision's snapshot (a rollback to that revision would install it again).
// `artifacts list` shows these; `artifacts gc` never deletes a version that has any.
import type { RecordedResource } from "../resources.js";
import type { EnvironmentRow, InstallRow } from "../store/state/compute-store.js";
import { LIBRARY } from "../config/schema.js";
import { specOf } from "../kinds/index.js";

export interface UseSite {
  /** compute.NAME, job.NAME, run ID or revision N */
  by: string;
  reason: string;
}

export interface UsageInputs {
  installs: InstallRow[];
  recorded: RecordedResource[];
  revisions: Array<{ revision: number; resources: RecordedResource[] }>;
}

/** artifact -> version -> where it is used */
export type Usage = Map<string, Map<string, UseSite[]>>;

export function computeUsage(inputs: UsageInputs): Usage {
  const usage: Usage = new Map();
  const add = (artifact: string, version: string, site: UseSite) => {
    let versions = usage.get(artifact);
    if (!versions) usage.set(artifact, (versions = new Map()));
    const sites = versions.get(version) ?? [];
    if (!sites.some((s) => s.by === site.by && s.reason === site.reason)) sites.push(site);
    versions.set(version, sites);
  };
  for (const i of inputs.installs) {
    if (i.instance === "") add(i.artifact, i.version, { by: `compute.${i.environment}`, reason: "installed" });
    else add(i.artifact, i.version, { by: `run ${i.instance}`, reason: `installed in ephemeral compute.${i.environment}` });
  }
  const fromResources = (resources: RecordedResource[], site: (compute: RecordedResource) => UseSite[]) => {
    for (const r of resources) {
      if (r.kind !== "compute") continue;
      for (const lib of specOf(r, "compute").libraries ?? []) {
        const m = LIBRARY.exec(lib);
        if (m) for (const s of site(r)) add(m[1]!, m[2]!, s);
      }
    }
  };
  const jobsIn = (resources: RecordedResource[], env: string) =>
    resources.filter((r) => r.kind === "job" && specOf(r, "job").compute?.environment === env).map((j) => j.name);
  fromResources(inputs.recorded, (c) => [
    { by: `compute.${c.name}`, reason: specOf(c, "compute").ephemeral ? "deployed, ephemeral" : "deployed" },
    ...jobsIn(inputs.recorded, c.name).map((job) => ({ by: `job.${job}`, reason: `via compute.${c.name}` })),
  ]);
  for (const rev of inputs.revisions) fromResources(rev.resources, (c) => [{ by: `revision ${rev.revision}`, reason: `compute.${c.name}` }]);
  return usage;
}

/** Ephemeral environment instances whose run has finished: left behind by a runner that was killed. */
export function strandedInstances(environments: EnvironmentRow[], finishedRuns: ReadonlySet<string>): EnvironmentRow[] {
  return environments.filter((e) => e.ephemeral === 1 && e.instance !== "" && finishedRuns.has(e.instance));
}
