// Prints what the console blocks of a markdown file print now, in the file's own format, so that a
// doc can be updated after the program's output changed:
//
//   node --import tsx test/docs/capture.ts docs/getting-started.md
//
// Paths are shown as the docs show them (/home/alice/…); ids, times and ports as printed.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { REPO } from "../helpers/cli.js";
import { docOptions, makeSandbox, parseBlocks, Session } from "./runner.js";

const file = resolve(process.argv[2] ?? "");
const options = docOptions(readFileSync(file, "utf8"));
if (!options) {
  console.error(`${file} has no <!-- docs-test --> line`);
  process.exit(2);
}
const sandbox = await makeSandbox(REPO, file, options);
const session = new Session(sandbox.cwd, sandbox.env);
try {
  for (const block of parseBlocks(sandbox.markdown)) {
    console.log(`--- block at line ${block.line}${block.skip ? ` (skipped: ${block.skip})` : ""}`);
    if (block.skip) continue;
    console.log("```console");
    for (const step of block.steps) {
      const { output, code } = await session.run(step.command);
      let text = output.replace(/\n$/, "");
      for (const [from, to] of sandbox.paths) text = text.split(from).join(to);
      console.log(`$ ${step.command}`);
      if (text.trim()) console.log(text);
      if (code !== 0) console.log(`[exit code ${code}]`);
    }
    console.log("```");
  }
} finally {
  session.close();
  sandbox.cleanup();
}
