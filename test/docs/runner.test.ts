// The docs runner itself: how blocks are read, what is normalised, how output is matched.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { docOptions, matchLines, normalize, parseBlocks, Session } from "./runner.js";

describe("docs runner", () => {
  it("opts files in with a marker line, with options", () => {
    assert.equal(docOptions("# Title\n\nno marker here\n"), undefined);
    assert.deepEqual(docOptions("<!-- docs-test -->\n"), {});
    assert.deepEqual(docOptions("x\n<!-- docs-test: cwd=. -->\n"), { cwd: "." });
    assert.deepEqual(docOptions("<!-- docs-test: init=ml -->\n"), { init: "ml" });
    assert.throws(() => docOptions("<!-- docs-test: frobnicate=1 -->\n"), /unknown docs-test option/);
  });

  it("reads ```console blocks: $ lines are commands, the rest their output; other blocks are not run", () => {
    const md = [
      "```sh",
      "npm ci",
      "```",
      "<!-- docs-test: skip needs a GPU -->",
      "```console",
      "$ nvidia-smi",
      "```",
      "```console",
      "$ echo a \\",
      "  b",
      "a b",
      "",
      "$ true",
      "",
      "```",
    ].join("\n");
    const blocks = parseBlocks(md);
    assert.equal(blocks.length, 2);
    assert.equal(blocks[0]!.skip, "needs a GPU");
    assert.deepEqual(
      blocks[1]!.steps.map((s) => [s.command, s.expected, s.line]),
      [
        ["echo a \n  b", ["a b"], 9],
        ["true", [], 13],
      ],
    );
    assert.throws(() => parseBlocks("```console\nnot a command\n```\n"), /must start with a "\$ " command line/);
  });

  it("normalises what differs between runs: times, ids, ports, pids, durations, temporary paths", () => {
    const printed = "rmx31h2qnruqzj8 at 2026-11-30T09:01:44.703Z on http://127.0.0.1:41234 (pid 1951) in 0.56s, 14 ms, /tmp/tmp.gTcfcbd6cu";
    const shown = "rmwr8vzkc3qgvsj at 2026-11-22T02:28:21.372Z on http://127.0.0.1:7878 (pid 20119) in 0.17s, 3 ms, /tmp/tmp.AAAAAA";
    assert.equal(normalize(printed), normalize(shown));
    // Meaningful values are kept: counts, names, versions.
    assert.notEqual(normalize("19 action(s) applied, revision 1"), normalize("14 action(s) applied, revision 1"));
    assert.notEqual(normalize("dqm 2.6.10"), normalize("dqm 2.6.11"));
    assert.equal(normalize("reconfiguration"), "reconfiguration", "words are not taken for ids");
    assert.equal(normalize("/work/x/home/a", [["/work/x/home/a", "/home/alice"]]), "/home/alice");
  });

  it("matches lines with ... (any lines) and … (any text in a line), spaces squashed", () => {
    assert.deepEqual(matchLines(["a", "b"], ["a", "b"]), { ok: true });
    assert.deepEqual(matchLines(["a  b"], ["a b   "]), { ok: true });
    assert.deepEqual(matchLines(["a", "...", "z"], ["a", "b", "c", "z"]), { ok: true });
    assert.deepEqual(matchLines(["a", "...", "z"], ["a", "z"]), { ok: true });
    assert.deepEqual(matchLines(["x … y"], ["x 1 2 3 y"]), { ok: true });
    assert.equal(matchLines(["a", "b"], ["a", "c"]).ok, false);
    assert.equal(matchLines(["a"], ["a", "extra"]).ok, false, "extra output is a difference");
    assert.equal(matchLines(["a", "b"], ["a"]).ok, false, "missing output is a difference");
    const r = matchLines(["one", "two", "three"], ["one", "two", "four"]);
    assert.deepEqual(r, { ok: false, expectedLine: 2, actualLine: 2 });
  });

  it("runs commands in one session: cd and export carry over; output and exit code per command", async () => {
    const dir = mkdtempSync(join(tmpdir(), "docs-runner-"));
    const session = new Session(dir, { PATH: process.env.PATH, HOME: dir });
    try {
      assert.deepEqual(await session.run("mkdir sub && cd sub && export X=42"), { output: "", code: 0 });
      assert.deepEqual(await session.run('echo "$X in $(basename "$PWD")"; echo err >&2'), { output: "42 in sub\nerr\n", code: 0 });
      assert.equal((await session.run("(exit 3)")).code, 3);
      assert.equal((await session.run("cat")).output, "", "commands never read the session's own input");
    } finally {
      session.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
