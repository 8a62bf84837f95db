import assert from "node:assert/strict";
import fs, { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { RuntimeEnv } from "../../env.js";
import type { CompiledProject } from "../../kinds/compile-project.js";
import { CompileCache } from "./compile-cache.js";

const root = mkdtempSync(join(tmpdir(), "slipway-compile-cache-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A file written with a modification time well in the past (not "racy"). */
function settled(file: string, text: string, secondsAgo = 60): void {
  writeFileSync(file, text);
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(file, t, t);
}

const envOf = (processEnv: NodeJS.ProcessEnv) => ({ processEnv, varOverrides: {}, user: "u", home: "/h" }) as unknown as RuntimeEnv;

describe("CompileCache", () => {
  // A stand-in compile that reads a file and one variable, as loadProject reads slipway.yaml and ${env.X}.
  let calls = 0;
  const cache = new CompileCache((options, env) => {
    calls++;
    const text = fs.readFileSync(join(options.dir, "slipway.yaml"), "utf8");
    const value = env.processEnv.WORD;
    const kept = env.processEnv;
    return { text, value, later: () => kept.WORD } as unknown as CompiledProject;
  });

  it("reuses a compile while its files and the variables it read are unchanged", () => {
    const dir = join(root, "a");
    fs.mkdirSync(dir);
    settled(join(dir, "slipway.yaml"), "one");
    const first = cache.compile({ dir }, envOf({ WORD: "x", OTHER: "1" })) as unknown as { text: string; value: string };
    assert.deepEqual([first.text, first.value, calls], ["one", "x", 1]);
    cache.compile({ dir }, envOf({ WORD: "x", OTHER: "2" }));
    assert.equal(calls, 1, "a variable it did not read changed: reused");
    const other = cache.compile({ dir }, envOf({ WORD: "y" })) as unknown as { value: string };
    assert.deepEqual([other.value, calls], ["y", 2], "a variable it read changed: compiled again");
    settled(join(dir, "slipway.yaml"), "two!", 30);
    const changed = cache.compile({ dir }, envOf({ WORD: "y" })) as unknown as { text: string };
    assert.deepEqual([changed.text, calls], ["two!", 3], "the file changed: compiled again");
    cache.compile({ dir, target: "prod" }, envOf({ WORD: "y" }));
    assert.equal(calls, 4, "other options: another entry");
  });

  it("does not keep a compile whose files changed within the last two seconds", () => {
    const dir = join(root, "b");
    fs.mkdirSync(dir);
    writeFileSync(join(dir, "slipway.yaml"), "fresh");
    const before = calls;
    cache.compile({ dir }, envOf({ WORD: "x" }));
    cache.compile({ dir }, envOf({ WORD: "x" }));
    assert.equal(calls, before + 2);
  });

  it("a compiled project cannot read the environment after its compile", () => {
    const dir = join(root, "c");
    fs.mkdirSync(dir);
    settled(join(dir, "slipway.yaml"), "c");
    const compiled = cache.compile({ dir }, envOf({ WORD: "secret" })) as unknown as { later: () => string };
    assert.throws(() => compiled.later(), TypeError, "the environment it was given is a revoked proxy");
  });
});
