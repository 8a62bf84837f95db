import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runScript } from "./run-script.js";

describe("runScript", () => {
  const dir = mkdtempSync(join(tmpdir(), "slipway-run-script-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // A home whose ~/.bashrc would change the program's environment if bash sourced it, and no SHLVL:
  // how a service or a Slurm job starts Slipway. bash sources ~/.bashrc when it thinks a remote shell
  // daemon started it (a socket on stdin, SHLVL below 2).
  writeFileSync(join(dir, ".bashrc"), "export FROM_BASHRC=sourced\n");
  writeFileSync(join(dir, "show.sh"), 'echo "bashrc=${FROM_BASHRC:-no} stdin=$(readlink /proc/self/fd/0)"\n');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "SHLVL" && k !== "BASH_ENV" && k !== "FROM_BASHRC"));
  const base = { script: join(dir, "show.sh"), cwd: dir, env: { ...env, HOME: dir } };

  it("a held program (onStart) gets /dev/null on stdin and no ~/.bashrc, whatever SHLVL says", async () => {
    for (let i = 0; i < 5; i++) {
      const lines: string[] = [];
      let started = 0;
      const code = await runScript({ ...base, onLine: (_s, l) => lines.push(l), onStart: (pid) => void (started = pid) });
      assert.equal(code, 0);
      assert.ok(started > 0);
      assert.deepEqual(lines, ["bashrc=no stdin=/dev/null"]);
    }
  });

  it("a durable held program too", async () => {
    const durable = { stdout: join(dir, "out"), stderr: join(dir, "err"), status: join(dir, "status") };
    const code = await runScript({ ...base, durable, onLine: () => {}, onStart: () => {} });
    assert.equal(code, 0);
    assert.equal(readFileSync(durable.stdout, "utf8"), "bashrc=no stdin=/dev/null\n");
  });
});
