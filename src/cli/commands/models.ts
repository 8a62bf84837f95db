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
          if (v.promoted_from) out.line(`  promoted from: ${v.promoted_from.target} version ${v.promoted_from.version} at ${v.promoted_from.at}`);
          out.line(`  metrics: ${JSON.stringify(v.metrics)}`);
          out.line(`  files: ${Object.keys(v.files).join(", ")}`);
        };
        return { fields: v, text };
      }),
    );
  withProjectOptions(models.command("promote").description("copy a version (files, manifest, metrics, lineage) from one target's registry to another's, so it serves the build the first validated"))
    .argument("<ref>", "e.g. flowers@champion, flowers@3 or flowers/3")
    .requiredOption("--from <target>", "the target whose registry holds the version")
    .requiredOption("--to <target>", "the target it is copied to")
    .option("--alias <name>", "point this alias at the promoted version in --to (e.g. champion)")
    .action((ref: string, flags: ProjectFlags & { from: string; to: string; alias?: string }) =>
      execute("models promote", flags, async (rt) => {
        const { out } = rt;
        const { fields: p } = await onProject(rt, flags, "models promote", { ref, from: flags.from, to: flags.to, alias: flags.alias });
        const text = () => {
          const alias = p.alias ? `; ${p.model}@${p.alias} -> version ${p.to.version} in ${p.to.target}` : "";
          if (!p.promoted) out.line(`${p.model} version ${p.from.version} of ${p.from.target} is already in ${p.to.target} as version ${p.to.version}: nothing to promote${alias}`);
          else out.line(out.style("green", `promoted ${p.model} version ${p.from.version} of ${p.from.target} to ${p.to.target} as version ${p.to.version} (${p.copied.files} file(s) copied, ${p.copied.present} already there)${alias}`));
        };
        return { fields: p, text };
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
