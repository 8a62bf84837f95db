// What a new user meets first: `init`, `doctor`, `completion`, and usage errors that say what was
// wrong (no command, an unknown command, a missing argument before a missing option) instead of
// dumping the whole help.
import { Command, type Option } from "commander";
import { InvalidInputError } from "../errors.js";
import { TEMPLATE_NAMES } from "../init/scaffold.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerInit } from "./commands/init.js";
import { execute, type CommonFlags } from "./common.js";
import { bashCompletion, zshCompletion, type CompletionHints } from "./completion.js";
import { didYouMean } from "../util/suggest.js";

const SHELLS = ["bash", "zsh"] as const;
type Shell = (typeof SHELLS)[number];

const HINTS: CompletionHints = {
  optionValues: { "--template": [...TEMPLATE_NAMES], "--project": "dirs", "--out": "files", "-o": "files", "--bundle": "files" },
  argumentValues: { completion: [...SHELLS], schema: ["project", "module", "all"], init: "dirs" },
};

export function registerFirstHour(program: Command): void {
  registerInit(program);
  registerDoctor(program);
  program
    .command("completion")
    .description("print a shell completion script: source <(slipway completion bash), or zsh")
    .argument("<shell>", SHELLS.join(" | "))
    .option("--json", "print a stable machine-readable JSON document (the script in `script`)")
    .action((shell: string, flags: Pick<CommonFlags, "json">) =>
      execute("completion", { json: flags.json }, async ({ out }) => {
        if (!(SHELLS as readonly string[]).includes(shell)) {
          throw new InvalidInputError([{ message: `unknown shell "${shell}"`, hint: didYouMean(shell, SHELLS) ?? `shells: ${SHELLS.join(", ")}` }], "invalid_usage");
        }
        // Generated from the whole command tree, so every command registered before this one runs.
        const script = shell === "bash" ? bashCompletion(program, HINTS) : zshCompletion(program, HINTS);
        const { completionView } = await import("../views/first-hour.js");
        return { fields: completionView(shell as Shell, script), text: () => out.line(script.replace(/\n$/, "")) };
      }),
    );
  explainMissingCommands(program);
  argumentsBeforeRequiredOptions(program);
}

/** A usage error like commander's own (stderr, exit 2, through main()'s handling of CommanderError). */
function usageError(cmd: Command, message: string, hint?: string): never {
  cmd.error(`error: ${message}${hint ? `\n  hint: ${hint}` : ""}`, { code: "commander.usage", exitCode: 2 });
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/**
 * `slipway --var x` (no command), `slipway frobnicate` (unknown) and `slipway tokens` (a group without
 * its subcommand) say so in one line with a hint, instead of printing the whole help. `slipway` alone
 * prints the help (exit 0). Groups that list something run their `list` without a subcommand.
 *
 * Groups get no action of their own (the contract counts commands with an action as commands with a
 * document): an unknown subcommand is commander's `command:*` event, which it emits before checking
 * options (an unknown command is the better error than an option that would belong to it), and a
 * missing one is its call of `help({ error: true })`; an unknown option of a group is `unknownOption`.
 */
function explainMissingCommands(root: Command): void {
  const visit = (cmd: Command): void => {
    const path = commandPath(cmd);
    const subs = () => cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name());
    if (cmd.commands.length && !(cmd as unknown as { _actionHandler?: unknown })._actionHandler && !(cmd as unknown as { _defaultCommandName?: string })._defaultCommandName) {
      cmd.on("command:*", (operands: string[]) => {
        const name = operands[0] ?? "";
        const suggestion = didYouMean(name, [...subs(), ...cmd.commands.flatMap((c) => c.aliases())]);
        usageError(cmd, `unknown command \`${path === root.name() ? "" : path.slice(root.name().length + 1) + " "}${name}\``, `${suggestion ? `${suggestion} ` : ""}\`${path} --help\` lists the commands`);
      });
      (cmd as unknown as { unknownOption: (flag: string) => never }).unknownOption = (flag) => usageError(cmd, `unknown option '${flag}'`, `\`${path} --help\` lists the options`);
      const help = cmd.help.bind(cmd) as (context?: unknown) => never;
      cmd.help = ((context?: unknown) => {
        if (!(typeof context === "object" && (context as { error?: boolean } | null)?.error)) return help(context);
        if (cmd === root) {
          // `slipway` alone: the help, on stdout, exit 0. Options without a command: say so.
          if (cmd.args.length === 0 && Object.values(cmd.opts()).every((v) => v === undefined)) return help();
          usageError(cmd, "no command given", `put a command first, e.g. \`${path} validate\`; \`${path} --help\` lists them all`);
        }
        usageError(cmd, `\`${path}\` needs a subcommand: ${subs().join(", ")}`, `e.g. \`${path} ${subs()[0]}\`; \`${path} --help\` says more`);
      }) as Command["help"];
    }
    const fallback = (cmd as unknown as { _defaultCommandName?: string })._defaultCommandName;
    if (fallback) {
      // `slipway models verisons` must not become `slipway models list verisons`.
      cmd.hook("preSubcommand", (self) => {
        const first = self.args[0];
        if (first === undefined || first.startsWith("-") || self.commands.some((c) => c.name() === first || c.aliases().includes(first))) return;
        const suggestion = didYouMean(first, subs());
        self.error(`error: unknown command \`${path.slice(root.name().length + 1)} ${first}\`\n  hint: ${suggestion ? `${suggestion} ` : ""}\`${path} --help\` lists the commands; \`${path}\` alone runs \`${path} ${fallback}\``, { code: "commander.unknownCommand", exitCode: 2 });
      });
    }
    for (const c of cmd.commands) visit(c);
  };
  visit(root);
}

/**
 * Commander checks required options before arguments, so `slipway endpoints query --oip` complained
 * about --data when the endpoint name was missing. Required options are checked after the arguments
 * instead (same message as commander's own).
 */
function argumentsBeforeRequiredOptions(root: Command): void {
  const visit = (cmd: Command): void => {
    const required: Option[] = cmd.options.filter((o) => o.mandatory);
    if (required.length && cmd.registeredArguments.some((a) => a.required)) {
      for (const o of required) o.mandatory = false;
      cmd.hook("preAction", (_self, action) => {
        if (action !== cmd) return;
        for (const o of required) {
          if (cmd.getOptionValue(o.attributeName()) === undefined) cmd.error(`error: required option '${o.flags}' not specified`, { code: "commander.missingMandatoryOptionValue", exitCode: 1 });
        }
      });
    }
    for (const c of cmd.commands) visit(c);
  };
  visit(root);
}
