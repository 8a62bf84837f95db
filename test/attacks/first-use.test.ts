// Concurrent first use of a fresh SLIPWAY_HOME: many commands start at once on a home with no state
// database yet. Migrations are serialised (an exclusive transaction on SQLite, an advisory lock on
// PostgreSQL), so every process either proceeds or is refused with exit 3 — never "table already exists".
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { describe, it } from "node:test";
import pg from "pg";
import { exited, sandbox } from "../helpers/cli.js";

const project = `project: demo
include:
  - modules/*/module.yaml
targets:
  dev:
    default: true
`;
const module = `module: core
settings:
  greeting: hello
`;

async function burst(args: string[], n: number, rounds: number): Promise<Array<{ code: number | null; stderr: string }>> {
  const box = sandbox({ "slipway.yaml": project, "modules/core/module.yaml": module });
  const results: Array<{ code: number | null; stderr: string }> = [];
  try {
    for (let round = 0; round < rounds; round++) {
      rmSync(box.home, { recursive: true, force: true });
      const all = await Promise.all(Array.from({ length: n }, () => exited(box.start(args))));
      results.push(...all.map((r) => ({ code: r.code, stderr: r.stderr })));
    }
  } finally {
    box.cleanup();
  }
  return results;
}

describe("concurrent first use of a fresh SLIPWAY_HOME", () => {
  it("ten `status` at once on a new home all succeed, in every round", async () => {
    const results = await burst(["status"], 10, 3);
    for (const r of results) {
      assert.doesNotMatch(r.stderr, /migration|already exists/, r.stderr);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  it("ten `deploy --yes` at once on a new home: each proceeds or is refused with exit 3 (lock held)", async () => {
    const results = await burst(["deploy", "--yes"], 10, 1);
    for (const r of results) {
      assert.doesNotMatch(r.stderr, /migration|already exists/, r.stderr);
      assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr}`);
    }
    assert.ok(results.some((r) => r.code === 0), "at least one deploy ran");
  });

  const pgUrl = process.env.SLIPWAY_TEST_PG_URL;
  it("ten `status` at once on a fresh PostgreSQL state database all succeed", { skip: pgUrl ? false : "SLIPWAY_TEST_PG_URL is not set" }, async () => {
    const name = `slipway_first_use_${process.pid}_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(pgUrl!);
      url.pathname = `/${name}`;
      const box = sandbox({
        "slipway.yaml": project.replace("    default: true\n", "    default: true\n    state:\n      type: postgres\n      url: ${env.FIRST_USE_PG_URL}\n"),
        "modules/core/module.yaml": module,
      });
      try {
        const all = await Promise.all(Array.from({ length: 10 }, () => exited(box.start(["status"], { FIRST_USE_PG_URL: url.toString() }))));
        for (const r of all) {
          assert.doesNotMatch(r.stderr, /migration|already exists/, r.stderr);
          assert.equal(r.code, 0, r.stderr);
        }
      } finally {
        box.cleanup();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end();
    }
  });
});
