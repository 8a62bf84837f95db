import type { Command } from "commander";
import { validate } from "../../operations/deploy.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

export function registerValidate(program: Command): void {
  withCommonOptions(program.command("validate").description("check the project files for one target; exit 2 with every problem if invalid")).action((flags: CommonFlags) =>
    execute(flags, async ({ out, ctx }) => {
      const r = validate(projectOptions(flags), ctx);
      if (out.json) out.document({ ok: true, project: r.project, target: r.target, modules: r.modules, resources: r.resources, by_kind: r.byKind });
      else out.line(`${r.project}/${r.target} is valid: ${r.modules.length} module(s), ${r.resources} resource(s) (${Object.entries(r.byKind).map(([k, n]) => `${n} ${k}`).join(", ")}).`);
    }).then(setExit),
  );
}

export function setExit(code: number): void {
  process.exitCode = code;
}
