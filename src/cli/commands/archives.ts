import type { Command } from "commander";
import { execute } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

/** How many keys of one group the text shows (the JSON has them all). */
const SHOWN_PER_GROUP = 10;

export function registerArchives(program: Command): void {
  const archives = program.command("archives").description("the run archives: job source, stage logs, persisted data, artifacts, provenance, cache, misc");
  withProjectOptions(archives.command("list").description("what one archive kind holds for the target (keys, sizes, times), grouped by run, bundle and content"))
    .argument("<kind>", "job_source, stage_logs, persisted_data, artifacts, provenance, cache or misc")
    .option("--run <id>", "only what this run left there (run id or a unique prefix)")
    .action((kind: string, flags: ProjectFlags & { run?: string }) =>
      execute("archives list", flags, async (rt) => {
        const { out } = rt;
        const { fields } = await onProject(rt, flags, "archives list", { kind, run: flags.run });
        const text = () => {
          out.line(`${fields.kind} at ${fields.location}${fields.run ? `, run ${fields.run}` : ""}: ${fields.count} blob(s), ${fields.bytes} bytes`);
          for (const g of fields.groups) {
            out.line(`  ${g.name}  ${g.count} blob(s), ${g.bytes} bytes${g.modified ? `, latest ${g.modified}` : ""}`);
            for (const e of g.entries.slice(0, SHOWN_PER_GROUP)) out.line(`    ${e.key}  ${e.size ?? "?"} B${e.modified ? `  ${e.modified}` : ""}`);
            if (g.entries.length > SHOWN_PER_GROUP) out.line(`    … ${g.entries.length - SHOWN_PER_GROUP} more (--json lists them all)`);
          }
          if (fields.hidden) out.line(`  (${fields.hidden} blob(s) of other projects or targets not shown)`);
        };
        return { fields, text };
      }),
    );
}
