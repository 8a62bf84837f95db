// Public JSON of `archives list`.
import { z } from "zod";
import type { ArchiveListing } from "../operations/archives.js";
import { lazy } from "./lazy.js";

type Infer<S extends () => z.ZodType> = z.infer<ReturnType<S>>;

export const archiveListSchema = lazy(() => {
  const entry = z.strictObject({ key: z.string(), size: z.number().int().nullable(), modified: z.string().nullable() });
  return z.strictObject({
    /** job_source, stage_logs, persisted_data, artifacts, provenance, cache or misc. */
    kind: z.string(),
    /** A folder, or s3://BUCKET/PREFIX. */
    location: z.string(),
    /** The run the listing is limited to (`--run`, its full id), else null. */
    run: z.string().nullable(),
    count: z.number().int(),
    bytes: z.number().int(),
    /** runs/<run>, bundles, trees, files, tasks, <project>/<artifact>, …; sorted by name, keys sorted within. */
    groups: z.array(z.strictObject({ name: z.string(), count: z.number().int(), bytes: z.number().int(), modified: z.string().nullable(), entries: z.array(entry) })),
    /** Blobs of other projects or targets sharing the archive: counted, not listed. */
    hidden: z.number().int(),
  });
});

export function archiveListView(l: ArchiveListing): Infer<typeof archiveListSchema> {
  return {
    kind: l.kind,
    location: l.location,
    run: l.run,
    count: l.count,
    bytes: l.bytes,
    groups: l.groups.map((g) => ({ name: g.name, count: g.count, bytes: g.bytes, modified: g.modified, entries: g.entries.map((e) => ({ key: e.key, size: e.size, modified: e.modified })) })),
    hidden: l.hidden,
  };
}
