// Apply behaviour seen from outside: independent actions run in parallel, destructive plans ask on a
// terminal, common options work before or after the command.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { BIN, exited, sandbox, waitFor } from "../helpers/cli.js";
import { threeModules } from "../helpers/projects.js";

// Each hook waits (up to 20 s) for the other one to have started: this only finishes quickly when the
// two independent modules' hooks run at the same time.
const rendezvous = (me: string, other: string) => `#!/usr/bin/env bash
d="$SLIPWAY_HOME/.."
touch "$d/started-${me}"
for _ in $(seq 400); do [ -e "$d/started-${other}" ] && { echo "${me} saw ${other}"; exit 0; }; sleep 0.05; done
echo "${other} never started while ${me} ran" >&2
exit 1
`;

describe("apply", () => {
  it("runs independent modules' hooks in parallel", () => {
    const box = sandbox({
      "slipway.yaml": "project: par\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
      "modules/a/module.yaml": "module: a\nhooks:\n  - { name: h, deploy: h.sh }\n",
      "modules/a/h.sh": rendezvous("a", "b"),
      "modules/b/module.yaml": "module: b\nhooks:\n  - { name: h, deploy: h.sh }\n",
      "modules/b/h.sh": rendezvous("b", "a"),
    });
    try {
      const r = box.run(["deploy"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /a saw b/);
      assert.match(r.stdout, /b saw a/);
    } finally {
      box.cleanup();
    }
  });

  it("asks for confirmation on a terminal: 'no' changes nothing (exit 3), 'yes' destroys", async () => {
    const box = sandbox(threeModules());
    try {
      assert.equal(box.run(["deploy", "--phase", "0"]).code, 0);
      const onTerminal = async (answer: string) => {
        // `script` gives the CLI a pseudo-terminal, as a person's shell would.
        const child = spawn("script", ["-qec", `${process.execPath} ${BIN} destroy`, "/dev/null"], { cwd: box.dir, env: box.env, stdio: ["pipe", "pipe", "pipe"] });
        let seen = "";
        child.stdout.on("data", (d) => (seen += d));
        const done = exited(child);
        await waitFor(() => seen.includes('Type "yes" to continue'), 15_000, "the prompt");
        assert.match(seen, /This will destroy \d+ resource\(s\) of module\(s\) features, core in demo\/dev/);
        child.stdin.write(`${answer}\n`);
        const result = await done;
        return { code: result.code, output: seen + result.stdout };
      };
      const declined = await onTerminal("no");
      assert.equal(declined.code, 3);
      assert.match(declined.output, /cancelled: nothing was changed/);
      assert.equal(box.json(["status"]).doc.modules.filter((m: any) => m.deployed).length, 2);
      const accepted = await onTerminal("yes");
      assert.equal(accepted.code, 0, accepted.output);
      assert.equal(box.json(["status"]).doc.modules.filter((m: any) => m.deployed).length, 0);
    } finally {
      box.cleanup();
    }
  });

  it("takes -t, --var and --json before or after the command", () => {
    const box = sandbox(threeModules());
    try {
      const before = box.run(["-t", "prod", "--var", "catalog=x", "--json", "plan"]);
      const after = box.run(["plan", "-t", "prod", "--var", "catalog=x", "--json"]);
      assert.equal(before.code, 0, before.stderr);
      assert.equal(before.stdout, after.stdout);
      assert.equal(JSON.parse(before.stdout).target, "prod");
      assert.equal(box.run(["-t", "prod", "--var", "catalog=x", "deploy", "--phase", "0"]).code, 0);
      assert.deepEqual(box.json(["settings", "list"], { SLIPWAY_VAR_catalog: "ignored" }).doc.settings, []); // dev: nothing deployed
      assert.equal(box.json(["--target", "prod", "settings", "list"]).doc.settings.find((s: any) => s.key === "catalog").value, "x");
    } finally {
      box.cleanup();
    }
  });
});
