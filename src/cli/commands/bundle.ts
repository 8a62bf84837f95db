import type { Command } from "commander";
import { exportBundle } from "../../operations/runs.js";
import { bundleView } from "../../views/runs.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

export function registerBundle(program: Command): void {
  withCommonOptions(program.command("bundle").description("write a job's bundle (source, resolved config, runner) as a .tar.gz"))
    .argument("<job>", "job name")
    .requiredOption("-o, --out <file>", "where to write the archive")
    .action((job: string, flags: CommonFlags & { out: string }) =>
      execute("bundle", flags, async ({ out, ctx }) => {
        const r = await exportBundle({ ...projectOptions(flags), job, out: flags.out }, ctx);
        return { fields: bundleView(r), text: () => out.line(`wrote ${r.out}: bundle ${r.hash.slice(0, 12)}, ${r.files} file(s), ${r.bytes} bytes`) };
      }),
    );
}
