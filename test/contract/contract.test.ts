// The contract around the documents: every command has a schema and snapshots, no document uses the
// envelope's keys, `slipway schema --output` prints the schemas, the error-code table in docs/cli.md
// is the registry's, exit codes come only from the registry, unregistered codes fail typecheck.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Command } from "commander";
import { z } from "zod";
import { buildProgram } from "../../src/cli/main.js";
import { ERROR_CODES } from "../../src/error-codes.js";
import { DOCUMENTS, documentJsonSchema, PUBLIC_COMMANDS, type CommandName } from "../../src/views/documents.js";
import { REPO, sandbox, type Sandbox } from "../helpers/cli.js";
import { finishSnapshots, jsonCase, Normaliser, snapshotFile, SNAPSHOTS, UPDATE } from "./snapshot.js";

/** The program's commands that do something (have an action), as "models alias set". */
function leafCommands(cmd: Command, prefix: string[] = []): Array<{ name: string; hidden: boolean }> {
  return cmd.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    const internals = c as unknown as { _hidden?: boolean; _actionHandler?: unknown };
    return [...(internals._actionHandler ? [{ name: path.join(" "), hidden: !!internals._hidden }] : []), ...leafCommands(c, path)];
  });
}

describe("--json contract: the registry of documents", () => {
  it("every command of the program has a document schema and a snapshot file, and nothing else does", () => {
    const leaves = leafCommands(buildProgram());
    assert.deepEqual(leaves.map((l) => l.name).sort(), (Object.keys(DOCUMENTS) as string[]).sort(), "src/views/documents.ts lists exactly the program's commands");
    assert.deepEqual(leaves.filter((l) => !l.hidden).map((l) => l.name).sort(), [...PUBLIC_COMMANDS].sort(), "hidden commands are the only ones outside the public contract");
    for (const command of PUBLIC_COMMANDS) assert.ok(existsSync(snapshotFile(command)), `no snapshot of ${command}: add a case to a test in test/contract`);
    const files = readdirSync(SNAPSHOTS).map((f) => f.replace(/\.json$/, ""));
    assert.deepEqual(files.sort(), PUBLIC_COMMANDS.map((c) => c.replaceAll(" ", "-")).sort(), "one snapshot file per command");
    for (const command of PUBLIC_COMMANDS) {
      const cases = Object.values(JSON.parse(readFileSync(snapshotFile(command), "utf8")) as Record<string, { ok: boolean }>);
      assert.ok(cases.some((c) => c.ok === true), `${command}: no successful document in its snapshots`);
    }
  });

  it("no document uses the envelope's keys `ok` and `error` for its own fields", () => {
    for (const command of Object.keys(DOCUMENTS) as CommandName[]) {
      const fields = DOCUMENTS[command].fields() as z.ZodObject | z.ZodUnion<readonly z.ZodObject[]>;
      const objects = fields instanceof z.ZodUnion ? fields.options : [fields];
      for (const o of objects) for (const key of ["ok", "error"]) assert.ok(!(key in o.shape), `${command} has its own "${key}" field`);
    }
  });

  it("every command's document has a JSON Schema", () => {
    for (const command of PUBLIC_COMMANDS) {
      const schema = documentJsonSchema(command);
      assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
      assert.ok(Array.isArray(schema.anyOf) && schema.anyOf.length >= 2, `${command}: success and error variants`);
    }
  });
});

describe("--json contract: slipway schema --output", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox({ "slipway.yaml": "project: p\ntargets:\n  dev: { default: true }\n" });
    n = new Normaliser(box);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["schema"]);
  });

  it("prints a command's schema (bare, or in the envelope with --json), and refuses unknown names", () => {
    const bare = box.run(["schema", "--output", "models-alias-set"]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.deepEqual(JSON.parse(bare.stdout), documentJsonSchema("models alias set"));
    jsonCase(box, n, "schema", "output_validate", ["schema", "--output", "validate"]);
    assert.equal(jsonCase(box, n, "schema", "unknown_output", ["schema", "--output", "deplyo"]).code, 2);
    assert.equal(jsonCase(box, n, "schema", "unknown_file", ["schema", "nope"]).code, 2);
  });
});

describe("error codes", () => {
  const DOC = join(REPO, "docs", "cli.md");
  const BEGIN = "<!-- error-codes:begin -->";
  const END = "<!-- error-codes:end -->";

  it("docs/cli.md carries the registry's table (UPDATE_SNAPSHOTS=1 rewrites it)", () => {
    const rows = Object.entries(ERROR_CODES).map(([code, info]) => `| \`${code}\` | ${info.exit} | ${info.http} | ${info.description} |`);
    const table = ["| Code | Exit | HTTP | When |", "|------|------|------|------|", ...rows].join("\n");
    const text = readFileSync(DOC, "utf8");
    const start = text.indexOf(BEGIN);
    const end = text.indexOf(END);
    assert.ok(start >= 0 && end > start, `docs/cli.md has no ${BEGIN} … ${END} section`);
    const current = text.slice(start + BEGIN.length, end).trim();
    if (UPDATE && current !== table) writeFileSync(DOC, `${text.slice(0, start + BEGIN.length)}\n${table}\n${text.slice(end)}`);
    else assert.equal(current, table, "the error-code table in docs/cli.md differs from src/error-codes.ts (UPDATE_SNAPSHOTS=1 rewrites it)");
  });

  it("every registered code is used in the source", () => {
    const sources = (readdirSync(join(REPO, "src"), { recursive: true }) as string[])
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      .map((f) => readFileSync(join(REPO, "src", f), "utf8"))
      .join("\n");
    const unused = Object.keys(ERROR_CODES).filter((code) => !sources.includes(`"${code}"`));
    assert.deepEqual(unused, [], "registered codes nothing uses");
  });

  it("commands never choose exit codes: only the execute path sets them, from the registry", () => {
    const dir = join(REPO, "src", "cli", "commands");
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), "utf8");
      assert.doesNotMatch(text, /process\.exit|setExit|exitCode/, `${f} sets an exit code itself`);
    }
  });

  it("an unregistered code, or an exit code that disagrees with the registry, fails typecheck", () => {
    // tsc fails on an unused @ts-expect-error, so this passes only if every probe is a type error.
    execFileSync(process.execPath, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", join(REPO, "test", "contract", "typecheck", "tsconfig.json")], { cwd: REPO, encoding: "utf8" });
  });
});
