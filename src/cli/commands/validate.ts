import type { Command } from "commander";
import { validate } from "../../operations/deploy.js";
import { validateView } from "../../views/deployments.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

export function registerValidate(program: Command): void {
  withCommonOptions(program.command("validate").description("check the project files for one target; exit 2 with every problem if invalid")).action((flags: CommonFlags) =>
    execute("validate", flags, async ({ out, ctx }) => {
      const r = validate(projectOptions(flags), ctx);
      return {
        fields: validateView(r),
        text: () => out.line(`${r.project}/${r.target} is valid: ${r.modules.length} module(s), ${r.resources} resource(s) (${Object.entries(r.byKind).map(([k, n]) => `${n} ${k}`).join(", ")}).`),
      };
    }),
  );
}
