import type { Command } from "commander";
import { execute } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

export function registerValidate(program: Command): void {
  withProjectOptions(program.command("validate").description("check the project files for one target; exit 2 with every problem if invalid")).action((flags: ProjectFlags) =>
    execute("validate", flags, async (rt) => {
      const { fields: r } = await onProject(rt, flags, "validate", {});
      return {
        fields: r,
        text: () => rt.out.line(`${r.project}/${r.target} is valid: ${r.modules.length} module(s), ${r.resources} resource(s) (${Object.entries(r.by_kind).map(([k, n]) => `${n} ${k}`).join(", ")}).`),
      };
    }),
  );
}
