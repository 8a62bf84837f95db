import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import { jsonSchema } from "../../kinds/module-file.js";
import { execute, withCommonOptions } from "../common.js";
import { setExit } from "./validate.js";

export function registerSchema(program: Command): void {
  // The schema is JSON whatever the flags; the common options are accepted like everywhere else.
  withCommonOptions(program.command("schema").description("print the JSON Schema of slipway.yaml and module.yaml, for editors"))
    .argument("[file]", "project | module | all", "all")
    .action((file: string) =>
      execute({}, async () => {
        if (!["project", "module", "all"].includes(file)) throw new InvalidInputError([{ message: `unknown schema "${file}"`, hint: "choose project, module or all" }], "invalid_flag");
        process.stdout.write(JSON.stringify(jsonSchema(file as "project" | "module" | "all"), null, 2) + "\n");
      }).then(setExit),
    );
}
