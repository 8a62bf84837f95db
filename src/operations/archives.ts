// `slipway archives list KIND [--run RUN]`: what one archive kind holds for the project's target, with
// sizes and times, grouped the way the kinds lay out their keys:
//
//   runs/<run>          a run's stage logs, outputs.json, provenance (runs/<run>.json), artifacts
//   bundles, trees      job-source bundle records and tree nodes (content-addressed)
//   files               file contents by sha256 (job source, persisted data, cache)
//   tasks               task-cache entries (the cache archive)
//   <project>/<name>    a published artifact's versions and contents (the artifacts archive)
//   inference/<project>/<target>/<endpoint>   archived inference-table rows (the misc archive)
//
// An archive may be shared by several projects and targets (the embedded default is one folder for all
// of them; a cache archive is meant to be shared between machines). What is keyed by run shows only for
// runs of this project's target, a published artifact only for this project, inference tables only for
// the target's endpoints; content-addressed blobs
// (named by their sha256 only) show for everyone who may view the target. The rest is counted, not shown.
import { InvalidInputError } from "../errors.js";
import { ARCHIVE_KINDS, openArchives, type ArchiveKind } from "../store/archives.js";
import { listEntries, type BlobEntry, type BlobStore } from "../store/blobs/blob-store.js";
import { cacheEntryKey } from "../runs/task-cache.js";
import { didYouMean } from "../util/suggest.js";
import { authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";
import { findRun } from "./runs.js";

export interface ArchiveGroup {
  /** runs/<run>, bundles, trees, files, tasks, <project>/<artifact>, or the key's first segment. */
  name: string;
  count: number;
  /** Total of the sizes the store reported. */
  bytes: number;
  /** The latest time among its blobs (null when the store does not say). */
  modified: string | null;
  entries: BlobEntry[];
}

export interface ArchiveListing {
  kind: ArchiveKind;
  /** Where the archive is (a folder, or s3://bucket/prefix). */
  location: string;
  /** The run the listing is limited to (its full id), or null. */
  run: string | null;
  count: number;
  bytes: number;
  groups: ArchiveGroup[];
  /** Blobs of other projects or targets in the same archive, counted but not listed. */
  hidden: number;
}

/** Groups of content-addressed blobs: named by hash only, shared by everyone who uses the archive. */
const CONTENT_GROUPS = new Set(["files", "trees", "bundles", "tasks", "sha256"]);

export function parseArchiveKind(kind: string): ArchiveKind {
  if ((ARCHIVE_KINDS as readonly string[]).includes(kind)) return kind as ArchiveKind;
  throw new InvalidInputError([{ message: `no archive kind "${kind}"`, hint: didYouMean(kind, [...ARCHIVE_KINDS]) ?? `archive kinds: ${ARCHIVE_KINDS.join(", ")}` }], "unknown_archive_kind");
}

/** The group a key belongs to. */
export function groupOf(key: string): string {
  const parts = key.split("/");
  if (parts[0] === "runs" && parts.length >= 2) return `runs/${parts.length === 2 ? parts[1]!.replace(/\.json$/, "") : parts[1]}`;
  // the misc archive's inference tables: inference/<project>/<target>/<endpoint>/<file>
  if (parts[0] === "inference" && parts.length >= 5) return parts.slice(0, 4).join("/");
  if (CONTENT_GROUPS.has(parts[0]!) || parts.length === 1) return parts[0]!;
  return `${parts[0]}/${parts[1]}`;
}

export async function listArchive(options: ProjectOptions & { kind: string; run?: string }, ctx: OperationContext): Promise<ArchiveListing> {
  const kind = parseArchiveKind(options.kind);
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "archives list");
  const { project } = compiled;
  const store = openArchives(ctx.env.home, project.dir, project.archives)[kind];
  return withStores(compiled, ctx.env, async (stores) => {
    const runs = stores.state.runs();
    let entries: BlobEntry[];
    let hidden = 0;
    let runId: string | null = null;
    if (options.run !== undefined) {
      const row = await findRun(stores, options.run);
      // Another project's or target's run is not this listing's to show.
      if (row.project !== project.name || row.target !== project.target.name) {
        throw new InvalidInputError([{ message: `no run "${options.run}" in ${project.name}/${project.target.name}`, hint: "see `slipway runs` for run ids" }], "unknown_run");
      }
      runId = row.id;
      entries = await runEntries(store, kind, row.id, row.bundle);
    } else {
      const own = new Set((await runs.list({ project: project.name, target: project.target.name, limit: Number.MAX_SAFE_INTEGER })).map((r) => r.id));
      entries = [];
      for (const e of await listEntries(store, "")) {
        const group = groupOf(e.key);
        const visible = group.startsWith("runs/")
          ? own.has(group.slice("runs/".length))
          : CONTENT_GROUPS.has(group) || (kind === "artifacts" && e.key.startsWith(`${project.name}/`)) || e.key.startsWith(`inference/${project.name}/${project.target.name}/`);
        if (visible) entries.push(e);
        else hidden++;
      }
    }
    const groups = new Map<string, ArchiveGroup>();
    for (const e of entries) {
      const name = groupOf(e.key);
      let g = groups.get(name);
      if (!g) groups.set(name, (g = { name, count: 0, bytes: 0, modified: null, entries: [] }));
      g.count++;
      g.bytes += e.size ?? 0;
      if (e.modified && (!g.modified || e.modified > g.modified)) g.modified = e.modified;
      g.entries.push(e);
    }
    const sorted = [...groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { kind, location: store.location, run: runId, count: entries.length, bytes: entries.reduce((n, e) => n + (e.size ?? 0), 0), groups: sorted, hidden };
  });
}

/** What one run left in an archive kind. */
async function runEntries(store: BlobStore, kind: ArchiveKind, runId: string, bundle: string): Promise<BlobEntry[]> {
  if (kind === "job_source") return listEntries(store, `bundles/${bundle}.json`);
  if (kind === "cache") {
    // The entries the run wrote (each names its run); their files are shared with other entries.
    const out: BlobEntry[] = [];
    for (const e of await listEntries(store, "tasks/")) {
      const data = await store.get(e.key).catch(() => undefined);
      try {
        const entry = JSON.parse(data?.toString("utf8") ?? "null") as { run_id?: unknown; cache_key?: unknown } | null;
        if (entry?.run_id === runId && typeof entry.cache_key === "string" && cacheEntryKey(entry.cache_key) === e.key) out.push(e);
      } catch {
        /* not an entry: not this run's */
      }
    }
    return out;
  }
  // runs/<id>/… and runs/<id>.json, not runs/<id>X… of a longer id
  return (await listEntries(store, `runs/${runId}`)).filter((e) => e.key.startsWith(`runs/${runId}/`) || e.key === `runs/${runId}.json`);
}
