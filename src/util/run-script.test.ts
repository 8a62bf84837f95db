import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

  // (Only `$-` differs: it has a `c` held, the shell having been started with -c.)
  it("a held script sees what `bash script args` gives it: $0, arguments, no -u, messages naming its file and line, exit code", async () => {
    mkdirSync(join(dir, "tasks"), { recursive: true });
    writeFileSync(join(dir, "tasks", "t.sh"), 'echo "0=$0 n=$# 1=${1-} 2=${2-} src=${BASH_SOURCE[0]} u=${UNSET_VAR-unset}"\nno_such_command_here\nexit 7\n');
    writeFileSync(join(dir, "bare.sh"), 'echo "0=$0"\n');
    const run = async (script: string, args: string[], held: boolean) => {
      const lines: string[] = [];
      const code = await runScript({ ...base, script, args, onLine: (s, l) => lines.push(`${s}: ${l}`), ...(held ? { onStart: () => {} } : {}) });
      return { code, lines };
    };
    const plain = await run(join("tasks", "t.sh"), ["a b", ""], false);
    assert.equal(plain.code, 7);
    assert.deepEqual(plain.lines, ["stdout: 0=tasks/t.sh n=2 1=a b 2= src=tasks/t.sh u=unset", "stderr: tasks/t.sh: line 2: no_such_command_here: command not found"]);
    assert.deepEqual(await run(join("tasks", "t.sh"), ["a b", ""], true), plain);
    // A bare file name is the file in the folder, not one found on PATH.
    assert.deepEqual((await run("bare.sh", [], true)).lines, ["stdout: 0=./bare.sh"]);
  });

  it("a durable held program too", async () => {
    const durable = { stdout: join(dir, "out"), stderr: join(dir, "err"), status: join(dir, "status") };
    const code = await runScript({ ...base, durable, onLine: () => {}, onStart: () => {} });
    assert.equal(code, 0);
    assert.equal(readFileSync(durable.stdout, "utf8"), "bashrc=no stdin=/dev/null\n");
  });
});
