// Drift between what deployed compute environments hold (the installs recorded in state, including
// versions installed by hand with `artifacts install`) and the libraries the config pins. A deploy
// keeps a hand-installed version (syncLibraries only acts on pins the config changed); `status` and
// `plan` show the drift, and `deploy --reconcile` plans it away: the environment's recorded spec is
// replaced by what is installed, so the plan shows an update back to the config's pins.
import type { DesiredResource, RecordedResource } from "../resources.js";
import type { InstallRow } from "../store/state/compute-store.js";
import { hashValue } from "../util/hash.js";
import { parseLibrary, type ComputeSpec } from "./environments.js";

export interface LibraryDrift {
  /** compute.<name> */
  resource: string;
  environment: string;
  artifact: string;
  /** The version installed, or null when the config pins one that is not installed. */
  installed: string | null;
  /** The version the config pins, or null when the config does not list the artifact. */
  config: string | null;
  installedBy: string | null;
  installedAt: string | null;
}

type Pins = Map<string, string>;

function pins(spec: ComputeSpec | undefined): Pins {
  return new Map((spec?.libraries ?? []).map((l) => [parseLibrary(l).artifact, parseLibrary(l).version]));
}

/**
 * Differences a deploy would leave in place: for each deployed, persistent environment the config
 * still declares, every artifact whose installed version is not the config's pin while the pin is
 * the one deployed (a pin the config changed is a pending update, which installs it anyway).
 */
export function libraryDrift(desired: readonly Pick<DesiredResource, "address" | "kind" | "name" | "spec">[], recorded: readonly RecordedResource[], installs: readonly InstallRow[]): LibraryDrift[] {
  const drift: LibraryDrift[] = [];
  const wanted = new Map(desired.filter((d) => d.kind === "compute").map((d) => [d.address, d.spec as ComputeSpec]));
  for (const r of recorded) {
    if (r.kind !== "compute") continue;
    const before = r.spec as ComputeSpec;
    const after = wanted.get(r.address);
    if (!after || before.ephemeral || after.ephemeral) continue;
    const deployedPins = pins(before);
    const configPins = pins(after);
    const installed = new Map(installs.filter((i) => i.environment === r.name && i.instance === "").map((i) => [i.artifact, i]));
    for (const artifact of [...new Set([...configPins.keys(), ...installed.keys()])].sort()) {
      const config = configPins.get(artifact) ?? null;
      const have = installed.get(artifact);
      if ((deployedPins.get(artifact) ?? null) !== config || (have?.version ?? null) === config) continue;
      drift.push({ resource: r.address, environment: r.name, artifact, installed: have?.version ?? null, config, installedBy: have?.installed_by ?? null, installedAt: have?.installed_at ?? null });
    }
  }
  return drift;
}

/**
 * The recorded resources with each drifted environment's libraries replaced by what is installed, so
 * planning the config against them updates those environments back to the config's pins.
 */
export function withInstalledLibraries(recorded: readonly RecordedResource[], drift: readonly LibraryDrift[]): RecordedResource[] {
  const byResource = new Map<string, LibraryDrift[]>();
  for (const d of drift) byResource.set(d.resource, [...(byResource.get(d.resource) ?? []), d]);
  return recorded.map((r) => {
    const drifted = byResource.get(r.address);
    if (!drifted) return r;
    const installed = new Map(drifted.map((d) => [d.artifact, d.installed]));
    const libraries: string[] = [];
    for (const lib of (r.spec as ComputeSpec).libraries ?? []) {
      const { artifact } = parseLibrary(lib);
      if (!installed.has(artifact)) libraries.push(lib);
      else if (installed.get(artifact)) libraries.push(`${artifact}@${installed.get(artifact)}`);
    }
    for (const d of drifted) if (d.config === null && d.installed) libraries.push(`${d.artifact}@${d.installed}`);
    const spec = { ...r.spec, libraries };
    return { ...r, spec, specHash: hashValue(spec) };
  });
}

/** One line per drifted library, for terminals and warnings. */
export function describeDrift(d: LibraryDrift): string {
  const by = d.installedBy ? ` (installed by ${d.installedBy}${d.installedAt ? ` at ${d.installedAt}` : ""})` : "";
  if (d.installed === null) return `${d.resource}: ${d.artifact} ${d.config} is pinned by the config but not installed`;
  if (d.config === null) return `${d.resource}: ${d.artifact} ${d.installed} is installed${by} but not in the config`;
  return `${d.resource}: ${d.artifact} ${d.installed} is installed${by}; the config pins ${d.config}`;
}
