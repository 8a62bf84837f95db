// The --json documents of the control plane's commands (embedded: the local user administers the local
// home), `login` and `whoami` against a real server, and `audit verify` finding a tampered entry.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import Database from "better-sqlite3";
import { exited, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { contractProject } from "./projects.js";
import { finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

describe("--json contract: tokens, users, groups, permissions, audit, whoami, login", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox(contractProject());
    n = new Normaliser(box);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["tokens list", "tokens revoke", "users create", "users list", "groups add", "groups remove", "groups list", "permissions grant", "permissions revoke", "permissions list", "audit", "audit verify", "whoami", "login"]);
  });

  it("users, groups, tokens", () => {
    jsonCase(box, n, "users create", "user", ["users", "create", "alice"]);
    jsonCase(box, n, "users create", "service_principal", ["users", "create", "ci-bot", "--service-principal"]);
    assert.equal(jsonCase(box, n, "users create", "principal_exists", ["users", "create", "alice"]).code, 3);
    jsonCase(box, n, "groups add", "added", ["groups", "add", "ml", "alice"]);
    jsonCase(box, n, "groups add", "already", ["groups", "add", "ml", "alice"]);
    jsonCase(box, n, "groups list", "one_group", ["groups", "list"]);
    jsonCase(box, n, "users list", "two", ["users", "list"]);
    const t = box.json(["tokens", "create", "--user", "alice", "--description", "ci", "--expires-in", "30d"]);
    assert.equal(t.code, 0, t.stderr);
    jsonCase(box, n, "tokens list", "one_token", ["tokens", "list"]);
    jsonCase(box, n, "tokens revoke", "revoked", ["tokens", "revoke", t.doc.id]);
    assert.equal(jsonCase(box, n, "tokens revoke", "unknown_token", ["tokens", "revoke", "abcdef"]).code, 2);
    jsonCase(box, n, "groups remove", "removed", ["groups", "remove", "ml", "alice"]);
    assert.equal(jsonCase(box, n, "groups add", "unknown_user", ["groups", "add", "ml", "nobody"]).code, 2);
  });

  it("permissions", () => {
    jsonCase(box, n, "permissions grant", "target", ["permissions", "grant", "CAN_VIEW", "contract/dev", "--group", "ml"]);
    jsonCase(box, n, "permissions grant", "resource", ["permissions", "grant", "CAN_QUERY", "contract/dev/endpoint.ep-ghost", "--service-principal", "ci-bot"]);
    assert.equal(jsonCase(box, n, "permissions grant", "invalid_flag", ["permissions", "grant", "CAN_VIEW", "contract/dev"]).code, 2);
    jsonCase(box, n, "permissions list", "two", ["permissions", "list", "contract/dev"]);
    jsonCase(box, n, "permissions revoke", "revoked", ["permissions", "revoke", "CAN_VIEW", "contract/dev", "--group", "ml"]);
    jsonCase(box, n, "whoami", "local", ["whoami"]);
  });

  it("audit, audit verify (intact, then tampered)", () => {
    jsonCase(box, n, "audit", "changes", ["audit", "--user", "tester"]);
    jsonCase(box, n, "audit verify", "intact", ["audit", "verify"]);
    const db = new Database(join(box.home, "state.db"));
    db.prepare("update audit_log set outcome = 'ok' where seq = 3").run();
    db.close();
    const broken = jsonCase(box, n, "audit verify", "tampered", ["audit", "verify"]);
    assert.equal(broken.code, 1);
    assert.equal(broken.doc.broken_at, 3);
  });

  it("login and whoami against a real server (bootstrap token from SLIPWAY_BOOTSTRAP_TOKEN)", async () => {
    const token = "swt_bootstrap-token-for-the-contract-test";
    const child = box.start(["server", "--json", "--port", "0"], { SLIPWAY_BOOTSTRAP_TOKEN: token });
    const done = exited(child);
    let stdout = "";
    child.stdout!.on("data", (d) => (stdout += d));
    let doc: any;
    await waitFor(() => {
      try {
        doc = JSON.parse(stdout);
        return true;
      } catch {
        return false;
      }
    }, 20_000, "the server's document");
    assert.deepEqual(doc.bootstrap_admin, { user: "admin", token: null }, "a token from the environment is never printed");
    jsonCase(box, n, "login", "logged_in", ["login", doc.url, "--token", token]);
    jsonCase(box, n, "whoami", "remote_admin", ["whoami"]);
    assert.equal(jsonCase(box, n, "login", "unauthenticated", ["login", doc.url, "--token", "swt_wrong"]).code, 3);
    assert.equal((await exited(box.start(["server", "stop"]))).code, 0);
    assert.equal((await done).code, 0);
  });
});
