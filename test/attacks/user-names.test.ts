// User names follow one rule wherever they enter — SLIPWAY_USER (which names the CLI's token file
// under credentials/), `tokens create --user/--group`, and permissions in project files — so a name
// can never be a path, hold control characters, or run to any length.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sandbox } from "../helpers/cli.js";
import { assertNoCrash, ROOT } from "./helpers.js";

const HOSTILE = ["../../outside/esc", "a/b", "..", ".hidden", "-rf", "tab\there", "new\nline", "x".repeat(129), "", "josé", "a b", "$(id)"];

describe("user names", () => {
  it("a bad SLIPWAY_USER is a clear error (exit 2) on every command, before anything is written", () => {
    const box = sandbox({ "slipway.yaml": ROOT, "modules/core/module.yaml": "module: core\nsettings:\n  owner: ${user}\n" });
    try {
      // Every hostile name on one command, and one hostile name on every kind of command.
      const cases: Array<readonly [string, string[]]> = [
        ...HOSTILE.map((user) => [user, ["validate"]] as [string, string[]]),
        ...[["status"], ["deploy", "--yes"], ["endpoints", "query", "x", "--data", "{}"], ["server", "stop"], ["status", "--json"]].map((args) => [HOSTILE[0]!, args] as const),
      ];
      for (const [user, args] of cases) {
        const r = box.run(args, { SLIPWAY_USER: user });
        assertNoCrash(r);
        assert.equal(r.code, 2, `SLIPWAY_USER=${JSON.stringify(user)} ${args.join(" ")}: exit ${r.code}\n${r.stdout}${r.stderr}`);
        if (args.includes("--json")) {
          const doc = JSON.parse(r.stdout);
          assert.equal(doc.error.code, "invalid_user");
        } else {
          assert.match(r.stderr, /SLIPWAY_USER ".*" (is empty|is \d+ characters long|is not a valid user name)/);
          assert.match(r.stderr, /hint: set SLIPWAY_USER to a user name/);
        }
      }
      assert.equal(existsSync(box.home), false, "nothing was written to SLIPWAY_HOME");
      assert.deepEqual(readdirSync(join(box.dir, "..")).sort(), ["project"], "nothing was written next to it");
    } finally {
      box.cleanup();
    }
  });

  it("ordinary names work: logins, e-mail addresses, service accounts", () => {
    const box = sandbox({ "slipway.yaml": ROOT, "modules/core/module.yaml": "module: core\nsettings:\n  owner: ${user}\n" });
    try {
      for (const user of ["alice", "alice@example.com", "svc_ml-bot.1", "A+B", "_ci"]) {
        const r = box.run(["validate"], { SLIPWAY_USER: user });
        assert.equal(r.code, 0, `${user}: ${r.stderr}`);
      }
    } finally {
      box.cleanup();
    }
  });

  it("tokens create checks --user and --group with the same rule", () => {
    const box = sandbox({ "slipway.yaml": ROOT, "modules/core/module.yaml": "module: core\n" });
    try {
      for (const args of [["--user", "../x"], ["--user", "ok", "--group", "a/b"], ["--user", "y".repeat(300)]]) {
        const r = box.run(["tokens", "create", ...args]);
        assertNoCrash(r);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /--(user|group) ".*" (is not a valid user name|is \d+ characters long)/);
      }
      const ok = box.run(["tokens", "create", "--user", "alice@example.com", "--group", "ml-leads"]);
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      box.cleanup();
    }
  });

  it("permissions in project files use the same rule, reported at file:line:column", () => {
    const box = sandbox({
      "slipway.yaml": `${ROOT}permissions:\n  - { level: CAN_VIEW, user: "../../etc" }\n  - { level: CAN_VIEW, group: "a b" }\n  - { level: CAN_MANAGE, user: alice@example.com }\n`,
      "modules/core/module.yaml": "module: core\n",
    });
    try {
      const r = box.run(["validate"]);
      assertNoCrash(r);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /slipway\.yaml:8:\d+: error: permissions\[0\]\.user: user names are 1 to 128 letters/);
      assert.match(r.stderr, /slipway\.yaml:9:\d+: error: permissions\[1\]\.group: group names are/);
      assert.equal((r.stderr.match(/error:/g) ?? []).length, 2, r.stderr);
    } finally {
      box.cleanup();
    }
  });
});
