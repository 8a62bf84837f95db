// Rewrites, in a markdown file, the shown output of every console step that no longer matches what
// the step prints now; steps that still match (with their `...` and `…`) are left as they are:
//
//   node --import tsx test/docs/update.ts docs/getting-started.md [more.md …]
//
// Review the diff afterwards: a rewritten step shows its whole output, so put back `...` where the
// output is long or differs between machines. Paths are written as the docs show them
// (/home/alice/…); for template READMEs (init=…) the project name goes back to `{{project}}`.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { REPO } from "../helpers/cli.js";
import { docOptions, makeSandbox, matchLines, normalize, parseBlocks, Session } from "./runner.js";

const INIT_PROJECT = "demo";

for (const arg of process.argv.slice(2)) {
  const file = resolve(arg);
  const source = readFileSync(file, "utf8");
  const options = docOptions(source);
  if (!options) {
    console.error(`${arg}: no <!-- docs-test --> line; nothing to update`);
    process.exitCode = 2;
    continue;
  }
  const sandbox = await makeSandbox(REPO, file, options);
  const session = new Session(sandbox.cwd, sandbox.env);
  // Replacements by 0-based line range of the file; the session runs the sandbox's markdown (for
  // init=…, the generated README), whose blocks sit on the same lines as the file's.
  const replacements: Array<{ from: number; count: number; lines: string[] }> = [];
  try {
    const fileBlocks = parseBlocks(source);
    const runBlocks = parseBlocks(sandbox.markdown);
    for (const [b, block] of runBlocks.entries()) {
      if (block.skip) continue;
      for (const [s, step] of block.steps.entries()) {
        const { output, code } = await session.run(step.command);
        const actual = normalize(output.replace(/\n$/, ""), sandbox.paths).split("\n");
        while (actual.length && !actual.at(-1)!.trim()) actual.pop();
        const expected = normalize(step.expected.join("\n"), sandbox.paths).split("\n").filter((_, i, all) => all.length > 1 || all[0] !== "");
        if (code !== 0) console.error(`${arg}:${step.line}: exited with code ${code}; show a failure with \`…; echo "exit code $?"\``);
        if (matchLines(expected, actual).ok) continue;
        let text = output.replace(/\n$/, "");
        for (const [from, to] of sandbox.paths) text = text.split(from).join(to);
        if (options.init) text = text.replace(new RegExp(`\\b${INIT_PROJECT}\\b`, "g"), "{{project}}");
        const lines = text.split("\n");
        while (lines.length && !lines.at(-1)!.trim()) lines.pop();
        const own = fileBlocks[b]?.steps[s] ?? step;
        // The step's `$ ` line (continued commands take several lines) is followed by its output.
        const commandLines = own.command.split("\n").length;
        replacements.push({ from: own.line - 1 + commandLines, count: own.expected.length, lines });
        console.error(`${arg}:${own.line}: rewrote the output of $ ${own.command.split("\n")[0].slice(0, 80)}`);
      }
    }
  } finally {
    session.close();
    sandbox.cleanup();
  }
  const lines = source.split("\n");
  for (const r of replacements.sort((a, b) => b.from - a.from)) lines.splice(r.from, r.count, ...r.lines);
  writeFileSync(file, lines.join("\n"));
}
