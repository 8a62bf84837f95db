import type { Command } from "commander";
import { execute } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

export function registerSettings(program: Command): void {
  const settings = program.command("settings").description("the settings table: module settings written while modules are deployed");
  withProjectOptions(settings.command("list", { isDefault: true }).description("list settings of a target"))
    .option("--module <name>", "only this module's settings")
    .action((flags: ProjectFlags & { module?: string }) =>
      execute("settings list", flags, async (rt) => {
        const { out } = rt;
        const { fields: r } = await onProject(rt, flags, "settings list", { module: flags.module });
        const text = () => {
          if (r.settings.length === 0) return out.line(`no settings in ${r.project}/${r.target}.`);
          const width = Math.max(6, ...r.settings.map((s) => s.module.length)) + 2;
          const keyWidth = Math.max(3, ...r.settings.map((s) => s.key.length)) + 2;
          out.line(`${"MODULE".padEnd(width)}${"KEY".padEnd(keyWidth)}VALUE`);
          for (const s of r.settings) out.line(`${s.module.padEnd(width)}${s.key.padEnd(keyWidth)}${s.value}`);
        };
        return { fields: r, text };
      }),
    );
}
