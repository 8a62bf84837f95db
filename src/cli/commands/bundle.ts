import type { Command } from "commander";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { localOnly } from "../project.js";
import { withServerOption, type ServerFlags } from "../remote.js";

export function registerBundle(program: Command): void {
  withServerOption(withCommonOptions(program.command("bundle").description("write a job's bundle (source, resolved config, runner) as a .tar.gz (on this machine: no --server)")))
    .argument("<job>", "job name")
    .requiredOption("-o, --out <file>", "where to write the archive")
    .action((job: string, flags: CommonFlags & ServerFlags & { out: string }) =>
      execute("bundle", flags, async ({ out, ctx }) => {
        localOnly(flags, "bundle", "the archive is written on this machine, from the local project folder");
        const [{ exportBundle }, { bundleView }] = await Promise.all([import("../../operations/runs.js"), import("../../views/runs.js")]);
        const r = await exportBundle({ ...projectOptions(flags), job, out: flags.out }, ctx);
        return { fields: bundleView(r), text: () => out.line(`wrote ${r.out}: bundle ${r.hash.slice(0, 12)}, ${r.files} file(s), ${r.bytes} bytes`) };
      }),
    );
}
