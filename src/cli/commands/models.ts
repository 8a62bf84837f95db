import type { Command } from "commander";
import { execute } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

export function registerModels(program: Command): void {
  const models = program.command("models").description("the model registry: versions registered by runs, and aliases such as champion");
  withProjectOptions(models.command("list", { isDefault: true }).description("models of a target with their latest version and aliases")).action((flags: ProjectFlags) =>
    execute("models list", flags, async (rt) => {
      const { out } = rt;
      const { fields } = await onProject(rt, flags, "models list", {});
      const text = () => {
        if (fields.models.length === 0) return out.line("no models.");
        out.line(`${"MODEL".padEnd(24)}${"LATEST".padEnd(8)}${"VERSIONS".padEnd(10)}ALIASES`);
        for (const m of fields.models) out.line(`${m.model.padEnd(24)}${String(m.latest_version ?? "-").padEnd(8)}${String(m.versions).padEnd(10)}${Object.entries(m.aliases).map(([a, v]) => `${a}=${v}`).join(" ")}`);
      };
      return { fields, text };
    }),
  );
  withProjectOptions(models.command("versions").description("versions of one model, newest first"))
    .argument("<model>", "model name")
    .action((model: string, flags: ProjectFlags) =>
      execute("models versions", flags, async (rt) => {
        const { out } = rt;
        const { fields } = await onProject(rt, flags, "models versions", { model });
        const text = () => {
          if (fields.versions.length === 0) return out.line(`${model} has no versions yet.`);
          out.line(`${"VERSION".padEnd(9)}${"FLAVOR".padEnd(9)}${"ALIASES".padEnd(18)}${"CREATED".padEnd(26)}${"RUN".padEnd(18)}METRICS`);
          for (const v of fields.versions) out.line(`${String(v.version).padEnd(9)}${v.flavor.padEnd(9)}${v.aliases.join(",").padEnd(18)}${v.created_at.padEnd(26)}${(v.lineage.run ?? "-").padEnd(18)}${JSON.stringify(v.metrics)}`);
        };
        return { fields, text };
      }),
    );
  withProjectOptions(models.command("show").description("one version: NAME@VERSION or NAME@ALIAS (NAME alone: the latest)"))
    .argument("<ref>", "e.g. iris@3 or iris@champion")
    .action((ref: string, flags: ProjectFlags) =>
      execute("models show", flags, async (rt) => {
        const { out } = rt;
        const { fields: v } = await onProject(rt, flags, "models show", { ref });
        const text = () => {
          out.line(`${v.model} version ${v.version} (${v.flavor})${v.aliases.length ? `  aliases: ${v.aliases.join(", ")}` : ""}`);
          out.line(`  registered name: ${v.registered_name}`);
          out.line(`  created: ${v.created_at} by run ${v.lineage.run ?? "-"} (job ${v.lineage.job ?? "-"}, bundle ${v.lineage.bundle?.slice(0, 12) ?? "-"})`);
          out.line(`  metrics: ${JSON.stringify(v.metrics)}`);
          out.line(`  files: ${Object.keys(v.files).join(", ")}`);
        };
        return { fields: v, text };
      }),
    );
  const alias = models.command("alias").description("move aliases (champion, challenger, …)");
  withProjectOptions(alias.command("set").description("point ALIAS of MODEL at VERSION"))
    .argument("<model>", "model name")
    .argument("<alias>", "alias name, e.g. champion")
    .argument("<version>", "version number")
    .action((model: string, aliasName: string, version: string, flags: ProjectFlags) =>
      execute("models alias set", flags, async (rt) => {
        const { fields: v } = await onProject(rt, flags, "models alias set", { model, alias: aliasName, version: Number(version) });
        return { fields: v, text: () => rt.out.line(`${model}@${aliasName} -> version ${v.version}`) };
      }),
    );
}
