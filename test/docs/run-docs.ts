// Registers one test per ```console block of each markdown file that opts in (see test/docs/README.md).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO } from "../helpers/cli.js";
import { docOptions, makeSandbox, matchLines, normalize, parseBlocks, Session, type Sandbox } from "./runner.js";

/** Markdown files under these folders (and README.md) that carry the `<!-- docs-test -->` line. */
export function docsToTest(globs: Array<"docs" | "examples" | "templates" | "readme">): string[] {
  const found: string[] = [];
  const add = (file: string) => {
    if (docOptions(readFileSync(file, "utf8"))) found.push(file);
  };
  for (const g of globs) {
    if (g === "readme") add(join(REPO, "README.md"));
    if (g === "docs") for (const f of readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).sort()) add(join(REPO, "docs", f));
    if (g === "examples" || g === "templates") {
      for (const d of readdirSync(join(REPO, g), { withFileTypes: true }).filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
        try {
          add(join(REPO, g, d.name, "README.md"));
        } catch {
          /* no README */
        }
      }
    }
  }
  return found;
}

export function testDocs(files: string[]): void {
  for (const file of files) {
    const name = relative(REPO, file);
    describe(name, () => {
      const options = docOptions(readFileSync(file, "utf8"))!;
      let sandbox: Sandbox | undefined;
      let session: Session | undefined;
      let broken: string | undefined;
      // The blocks are parsed from the file as the session will see it (for init=…, the new project's README).
      const blocks = parseBlocks(readFileSync(file, "utf8"));
      before(async () => {
        sandbox = await makeSandbox(REPO, file, options);
        session = new Session(sandbox.cwd, sandbox.env);
      });
      after(() => {
        session?.close();
        sandbox?.cleanup();
      });
      blocks.forEach((block, index) => {
        const title = `block ${index + 1} (${name}:${block.line}): ${block.steps.map((s) => s.command.split("\n")[0]).join("; ").slice(0, 100)}`;
        it(title, { skip: block.skip }, async () => {
          if (broken) throw new Error(`not run: an earlier block failed (${broken})`);
          const own = sandbox!.markdown === readFileSync(file, "utf8") ? block : parseBlocks(sandbox!.markdown)[index];
          if (!own) throw new Error(`the generated README has no block ${index + 1}`);
          for (const step of own.steps) {
            const where = `${name}:${step.line}`;
            const { output, code } = await session!.run(step.command);
            const actual = normalize(output.replace(/\n$/, ""), sandbox!.paths).split("\n");
            while (actual.length && !actual.at(-1)!.trim()) actual.pop();
            const expected = normalize(step.expected.join("\n"), sandbox!.paths).split("\n").filter((_, i, all) => all.length > 1 || all[0] !== "");
            const match = matchLines(expected, actual);
            if (code !== 0 || !match.ok) {
              broken = where;
              const lines = [
                `${where}: $ ${step.command}`,
                code !== 0 ? `exited with code ${code} (a command in a docs block must exit 0; show a failure with \`…; echo "exit code $?"\`)` : "",
                !match.ok ? `the output differs from the one shown, from shown line ${match.expectedLine + 1} (printed line ${match.actualLine + 1}):` : "",
                "--- shown (normalised) ---",
                ...expected,
                "--- printed (normalised) ---",
                ...actual,
                "--- end ---",
              ];
              throw new Error(lines.filter((l) => l !== "").join("\n"));
            }
          }
        });
      });
    });
  }
}
