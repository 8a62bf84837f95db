import type { Command } from "commander";
import { listModels, modelVersions, setModelAlias, showModelVersion } from "../../operations/models.js";
import { modelsView, modelVersionsView, modelVersionView } from "../../views/models.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

export function registerModels(program: Command): void {
  const models = program.command("models").description("the model registry: versions registered by runs, and aliases such as champion");
  withCommonOptions(models.command("list", { isDefault: true }).description("models of a target with their latest version and aliases")).action((flags: CommonFlags) =>
    execute("models list", flags, async ({ out, ctx }) => {
      const list = await listModels(projectOptions(flags), ctx);
      const text = () => {
        if (list.length === 0) return out.line("no models.");
        out.line(`${"MODEL".padEnd(24)}${"LATEST".padEnd(8)}${"VERSIONS".padEnd(10)}ALIASES`);
        for (const m of list) out.line(`${m.model.padEnd(24)}${String(m.latestVersion ?? "-").padEnd(8)}${String(m.versions).padEnd(10)}${Object.entries(m.aliases).map(([a, v]) => `${a}=${v}`).join(" ")}`);
      };
      return { fields: modelsView(list), text };
    }),
  );
  withCommonOptions(models.command("versions").description("versions of one model, newest first"))
    .argument("<model>", "model name")
    .action((model: string, flags: CommonFlags) =>
      execute("models versions", flags, async ({ out, ctx }) => {
        const versions = await modelVersions({ ...projectOptions(flags), model }, ctx);
        const text = () => {
          if (versions.length === 0) return out.line(`${model} has no versions yet.`);
          out.line(`${"VERSION".padEnd(9)}${"FLAVOR".padEnd(9)}${"ALIASES".padEnd(18)}${"CREATED".padEnd(26)}${"RUN".padEnd(18)}METRICS`);
          for (const v of versions) out.line(`${String(v.version).padEnd(9)}${v.flavor.padEnd(9)}${v.aliases.join(",").padEnd(18)}${v.createdAt.padEnd(26)}${(v.lineage.run ?? "-").padEnd(18)}${JSON.stringify(v.metrics)}`);
        };
        return { fields: modelVersionsView(model, versions), text };
      }),
    );
  withCommonOptions(models.command("show").description("one version: NAME@VERSION or NAME@ALIAS (NAME alone: the latest)"))
    .argument("<ref>", "e.g. iris@3 or iris@champion")
    .action((ref: string, flags: CommonFlags) =>
      execute("models show", flags, async ({ out, ctx }) => {
        const v = await showModelVersion({ ...projectOptions(flags), ref }, ctx);
        const text = () => {
          out.line(`${v.model} version ${v.version} (${v.flavor})${v.aliases.length ? `  aliases: ${v.aliases.join(", ")}` : ""}`);
          out.line(`  registered name: ${v.registeredName}`);
          out.line(`  created: ${v.createdAt} by run ${v.lineage.run ?? "-"} (job ${v.lineage.job ?? "-"}, bundle ${v.lineage.bundle?.slice(0, 12) ?? "-"})`);
          out.line(`  metrics: ${JSON.stringify(v.metrics)}`);
          out.line(`  files: ${Object.keys(v.files).join(", ")}`);
        };
        return { fields: modelVersionView(v), text };
      }),
    );
  const alias = models.command("alias").description("move aliases (champion, challenger, …)");
  withCommonOptions(alias.command("set").description("point ALIAS of MODEL at VERSION"))
    .argument("<model>", "model name")
    .argument("<alias>", "alias name, e.g. champion")
    .argument("<version>", "version number")
    .action((model: string, aliasName: string, version: string, flags: CommonFlags) =>
      execute("models alias set", flags, async ({ out, ctx }) => {
        const v = await setModelAlias({ ...projectOptions(flags), model, alias: aliasName, version: Number(version) }, ctx);
        return { fields: modelVersionView(v), text: () => out.line(`${model}@${aliasName} -> version ${v.version}`) };
      }),
    );
}
