// Time comes from the injected clock (src/clock.ts) and Slipway's environment is read in one place
// (src/env.ts), so tests can move time and set variables without touching the process. This check
// reads every source file under src/ and fails on a use outside the allowed places; each exception
// below says why it exists. Remove an entry once its file no longer needs it (a stale entry fails too).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "../helpers/cli.js";

interface Rule {
  name: string;
  pattern: RegExp;
  /** The files whose job this is. */
  home: string[];
}

const RULES: Rule[] = [
  { name: "Date.now()", pattern: /\bDate\.now\(\)/, home: ["src/clock.ts"] },
  { name: "new Date() (the current time)", pattern: /\bnew Date\(\)/, home: ["src/clock.ts"] },
  { name: "process.env", pattern: /\bprocess\.env\b/, home: ["src/env.ts"] },
  // The environment handed down (RuntimeEnv.processEnv) is for child processes, not for reading settings.
  // (`${env.NAME}` in a string is the project files' interpolation syntax, e.g. in a hint, not a read.)
  { name: "a SLIPWAY_ variable read from a passed-down environment", pattern: /(?<!\$\{)\b(processEnv|env)\s*(\.\s*|\[\s*["'`])SLIPWAY_[A-Z_]+\b(?!\s*=(?!=))/, home: ["src/env.ts"] },
];

/** file -> rule name -> why the exception exists. */
const ALLOWED: Record<string, Record<string, string>> = {
  "src/store/state/sqlite/sqlite-state.ts": {
    "Date.now()": "how long to retry a database another process holds locked: real time, whatever a test does to the clock (the other process does not share it)",
  },
  "src/bundles/workdir.ts": {
    "Date.now()": "the pool of materialised working folders compares ctimes the filesystem stamps with real time (and names trash folders uniquely); a moved clock would make fresh folders look stale",
  },
  "src/cli/run-handoff/compile-cache.ts": {
    "Date.now()": "the server's compile cache does not keep a compile whose files changed in the last two seconds: it compares their mtimes, which the filesystem stamps with real time, with real time",
  },
  "src/bundles/capture.ts": {
    "Date.now()": "the bundle index compares when a file was hashed with the file's mtime, which the filesystem stamps with real time; a moved clock would make every file look changed or unchanged",
  },
  "src/store/blobs/memory-blob-store.ts": {
    "new Date() (the current time)": "a blob's write time, as the filesystem stamps a file's mtime and S3 its LastModified with real time (listed by `archives list`), not the operation's clock",
  },
  "src/bundles/scan.ts": {
    "Date.now()": "the same capture index as capture.ts (scanning a project to upload it): hashing times are compared with filesystem mtimes, which are real time",
  },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [full] : [];
  });
}

/** The code without comments (a comment may mention Date.now() in passing). */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, " "))
    .split("\n")
    .map((line) => (line.trimStart().startsWith("//") ? "" : line))
    .join("\n");
}

describe("time and environment come from one place", () => {
  const files = sourceFiles(join(REPO, "src")).map((f) => ({ path: relative(REPO, f), lines: code(readFileSync(f, "utf8")).split("\n") }));
  const used = new Set<string>();

  for (const rule of RULES) {
    it(`${rule.name} is used only in ${rule.home.join(", ")} and the allowed exceptions`, () => {
      const offending: string[] = [];
      for (const file of files) {
        if (rule.home.includes(file.path)) continue;
        file.lines.forEach((line, i) => {
          if (!rule.pattern.test(line)) return;
          if (ALLOWED[file.path]?.[rule.name]) used.add(`${file.path} ${rule.name}`);
          else offending.push(`${file.path}:${i + 1}: ${line.trim()}`);
        });
      }
      assert.deepEqual(offending, [], `use the injected clock (RuntimeEnv.clock, ProviderContext.clock) or read the variable in src/env.ts, or add an exception with its reason in test/checks/time-and-environment.test.ts`);
    });
  }

  it("every exception is still needed", () => {
    const stale = Object.entries(ALLOWED).flatMap(([file, rules]) => Object.keys(rules).filter((r) => !used.has(`${file} ${r}`)).map((r) => `${file}: ${r}`));
    assert.deepEqual(stale, [], "remove these entries from ALLOWED");
  });
});
