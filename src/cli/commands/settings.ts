import type { Command } from "commander";
import { listSettings } from "../../operations/queries.js";
import { settingsView } from "../../views/deployments.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

export function registerSettings(program: Command): void {
  const settings = program.command("settings").description("the settings table: module settings written while modules are deployed");
  withCommonOptions(settings.command("list", { isDefault: true }).description("list settings of a target"))
    .option("--module <name>", "only this module's settings")
    .action((flags: CommonFlags & { module?: string }) =>
      execute("settings list", flags, async ({ out, ctx }) => {
        const r = await listSettings({ ...projectOptions(flags), module: flags.module }, ctx);
        const text = () => {
          if (r.settings.length === 0) return out.line(`no settings in ${r.project}/${r.target}.`);
          const width = Math.max(6, ...r.settings.map((s) => s.module.length)) + 2;
          const keyWidth = Math.max(3, ...r.settings.map((s) => s.key.length)) + 2;
          out.line(`${"MODULE".padEnd(width)}${"KEY".padEnd(keyWidth)}VALUE`);
          for (const s of r.settings) out.line(`${s.module.padEnd(width)}${s.key.padEnd(keyWidth)}${s.value}`);
        };
        return { fields: settingsView(r), text };
      }),
    );
}
