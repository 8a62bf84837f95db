import { relative } from "node:path";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { RefusedError } from "../../errors.js";
import { checkProjectName, checkTemplate, initProject, projectNameFor, TEMPLATE_NAMES, TEMPLATES } from "../../init/scaffold.js";
import { execute, type CommonFlags } from "../common.js";

interface InitFlags extends CommonFlags {
  template?: string;
  name?: string;
}

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("start a project: write slipway.yaml, modules, a README and a .gitignore from a template (never overwrites)")
    .argument("[dir]", "folder to create the project in (created if missing)", ".")
    .option("--template <name>", `${TEMPLATE_NAMES.join(" | ")} (default: minimal; asked on a terminal)`)
    .option("--name <project>", "project name (default: the folder's name; asked on a terminal)")
    .option("--json", "print a stable machine-readable JSON document")
    .addHelpText(
      "after",
      `\nTemplates:\n${TEMPLATE_NAMES.map((t) => `  ${t.padEnd(8)} ${TEMPLATES[t]}`).join("\n")}\n\nOn a terminal, init asks for what --template and --name leave open; otherwise it asks nothing.`,
    )
    .action((dir: string, flags: InitFlags) =>
      execute("init", flags, async ({ out }) => {
        let template = flags.template;
        let name = flags.name;
        if (template !== undefined) checkTemplate(template);
        if (name !== undefined) checkProjectName(name);
        const interactive = !!process.stdin.isTTY && !!process.stdout.isTTY && !flags.json;
        if (interactive && (template === undefined || name === undefined)) ({ template, name } = await ask(dir, template, name));
        const r = initProject({ dir, template: template ?? "minimal", name });
        const text = () => {
          const shown = relative(process.cwd(), r.dir) || ".";
          out.line(`created project ${r.project} in ${shown} from the ${r.template} template:`);
          for (const f of r.files) out.line(`  ${f}`);
          out.line("next:");
          if (shown !== ".") out.line(`  cd ${shown}`);
          if (r.template === "ml") out.line("  slipway doctor                 # python3 is needed for training and serving");
          out.line("  slipway validate");
          out.line(r.template === "ml" ? "  slipway deploy --phase 1       # then see README.md: train, deploy phase 2, query" : "  slipway deploy");
        };
        const { initView } = await import("../../views/first-hour.js");
        return { fields: initView(r), text };
      }),
    );
}

async function ask(dir: string, template: string | undefined, name: string | undefined): Promise<{ template: string; name: string }> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // Lines are queued, so answers typed (or pasted) ahead of the questions are not lost.
  const lines = rl[Symbol.asyncIterator]();
  const question = async (text: string): Promise<string> => {
    process.stdout.write(text);
    const next = await lines.next();
    if (next.done) throw new RefusedError("cancelled", "cancelled: nothing was written", { hint: "pass --template and --name to run init without questions" });
    return String(next.value).trim();
  };
  try {
    if (template === undefined) {
      process.stdout.write(`Templates:\n${TEMPLATE_NAMES.map((t) => `  ${t.padEnd(8)} ${TEMPLATES[t]}`).join("\n")}\n`);
      for (;;) {
        const answer = (await question("Template [minimal]: ")) || "minimal";
        if ((TEMPLATE_NAMES as string[]).includes(answer)) {
          template = answer;
          break;
        }
        process.stdout.write(`  choose one of: ${TEMPLATE_NAMES.join(", ")}\n`);
      }
    }
    if (name === undefined) {
      const fallback = projectNameFor(dir);
      for (;;) {
        const answer = (await question(`Project name [${fallback}]: `)) || fallback;
        try {
          name = checkProjectName(answer);
          break;
        } catch {
          process.stdout.write("  lowercase letters, digits, _ and -, starting with a letter or digit\n");
        }
      }
    }
    return { template, name };
  } finally {
    rl.close();
  }
}
