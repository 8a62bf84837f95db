import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import { didYouMean } from "../../util/suggest.js";
import type { CommandName } from "../../views/documents.js";
import { execute, withCommonOptions, type CommonFlags } from "../common.js";

export function registerSchema(program: Command): void {
  // Without --json the schema itself is printed (what editors want); with --json, in the envelope.
  withCommonOptions(program.command("schema").description("print the JSON Schema of slipway.yaml and module.yaml (for editors), or with --output that of a command's --json document"))
    .argument("[file]", "project | module | all", "all")
    .option("--output <command>", 'the schema of this command\'s --json document instead, e.g. "deploy" or "models show"')
    .action((file: string, flags: CommonFlags & { output?: string }) =>
      execute("schema", flags, async ({ out }) => {
        const schema = flags.output === undefined ? await projectSchema(file) : await outputSchema(flags.output);
        const { schemaDocView } = await import("../../views/server.js");
        return { fields: schemaDocView(schema), text: () => out.document(schema) };
      }),
    );
}

async function projectSchema(file: string): Promise<Record<string, unknown>> {
  if (!["project", "module", "all"].includes(file)) throw new InvalidInputError([{ message: `unknown schema "${file}"`, hint: "choose project, module or all" }], "invalid_flag");
  const { jsonSchema } = await import("../../kinds/module-file.js");
  return jsonSchema(file as "project" | "module" | "all");
}

async function outputSchema(command: string): Promise<Record<string, unknown>> {
  // "models alias set", "models-alias-set" and "models.alias.set" all name the same command.
  const { documentJsonSchema, PUBLIC_COMMANDS } = await import("../../views/documents.js");
  const name = command.trim().split(/[\s.-]+/).join(" ");
  const found = PUBLIC_COMMANDS.find((c) => c === name);
  if (!found) {
    throw new InvalidInputError([{ message: `no command "${command}" prints a --json document`, hint: didYouMean(name, PUBLIC_COMMANDS) ?? `commands: ${PUBLIC_COMMANDS.join(", ")}` }], "invalid_flag");
  }
  return documentJsonSchema(found as CommandName);
}
