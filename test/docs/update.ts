// Rewrites, in a markdown file, the shown output of every console step that no longer matches what
// the step prints now; steps that still match (with their `...` and `…`) are left as they are:
//
//   node --import tsx test/docs/update.ts docs/getting-started.md [more.md …]
//
// A rewritten step keeps the shown lines that still match (so `…` inside them stays) and its `...`
// elisions: printed lines that fall where the page had `...` stay left out, unless they look like a
// shown line that changed (the same text with other numbers, such as a count). Review the diff. Paths are written as the docs show them
// (/home/alice/…); for template READMEs (init=…) the project name goes back to `{{project}}`.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { REPO } from "../helpers/cli.js";
import { docOptions, lineMatches, makeSandbox, matchLines, normalize, parseBlocks, Session } from "./runner.js";

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
        const printed = text.split("\n");
        while (printed.length && !printed.at(-1)!.trim()) printed.pop();
        const own = fileBlocks[b]?.steps[s] ?? step;
        const lines = rewrite(own.expected, expected, printed, actual);
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

function ELLIPSIS(line: string): boolean {
  return line.trim() === "...";
}
/** Lines alike but for their numbers ("19 to create" and "20 to create"): a changed line, not a new one. */
function shape(line: string): string {
  return line.replace(/\d+/g, "#").replace(/[ \t]+/g, " ").trim();
}

/**
 * The new shown output of a step: shown lines that still match printed ones are kept as written; between
 * them, where the page had `...`, printed lines stay left out (one `...`) except those shaped like a
 * shown line there that no longer matches; elsewhere every printed line is shown.
 */
function rewrite(shown: string[], shownNorm: string[], printed: string[], printedNorm: string[]): string[] {
  const anchors = shownNorm.map((l, i) => ({ i, l })).filter((x) => !ELLIPSIS(x.l));
  const n = anchors.length;
  const m = printedNorm.length;
  const lcs = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let a = n - 1; a >= 0; a--) {
    for (let p = m - 1; p >= 0; p--) lcs[a]![p] = lineMatches(anchors[a]!.l, printedNorm[p]!) ? lcs[a + 1]![p + 1]! + 1 : Math.max(lcs[a + 1]![p]!, lcs[a]![p + 1]!);
  }
  const pairs: Array<[shownIndex: number, printedIndex: number]> = [];
  for (let a = 0, p = 0; a < n && p < m; ) {
    if (lineMatches(anchors[a]!.l, printedNorm[p]!) && lcs[a]![p] === lcs[a + 1]![p + 1]! + 1) pairs.push([anchors[a++]!.i, p++]);
    else if (lcs[a + 1]![p]! >= lcs[a]![p + 1]!) a++;
    else p++;
  }
  const out: string[] = [];
  let lastShown = -1;
  let lastPrinted = -1;
  const gap = (shownEnd: number, printedEnd: number) => {
    const shownGap = shown.slice(lastShown + 1, shownEnd);
    const printedGap = printed.slice(lastPrinted + 1, printedEnd);
    if (!shownGap.some(ELLIPSIS)) return void out.push(...printedGap);
    const changed = new Set(shownGap.filter((l) => !ELLIPSIS(l)).map(shape));
    let elided = false;
    for (const line of printedGap) {
      if (changed.has(shape(line))) {
        out.push(line);
        elided = false;
      } else if (!elided) {
        out.push("...");
        elided = true;
      }
    }
  };
  for (const [si, pi] of pairs) {
    gap(si, pi);
    out.push(shown[si]!);
    lastShown = si;
    lastPrinted = pi;
  }
  gap(shown.length, printed.length);
  return out;
}
