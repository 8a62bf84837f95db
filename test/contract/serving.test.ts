// The --json documents of the models, endpoints and tokens commands, `server` and `server stop`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { exited, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { servingContractProject } from "./projects.js";
import { expectDocument, finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

describe("--json contract: models, endpoints, server", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox(servingContractProject());
    n = new Normaliser(box);
    assert.equal(box.run(["deploy", "--phase", "0"]).code, 0);
  });
  after(() => {
    box.cleanup();
    finishSnapshots(["models list", "models versions", "models show", "models alias set", "models promote", "endpoints list", "endpoints query", "endpoints logs", "endpoints reap", "tokens create", "server", "server stop", "server status"]);
  });

  it("models: declared, registered, shown, aliased", () => {
    jsonCase(box, n, "models list", "declared", ["models", "list"]);
    assert.equal(jsonCase(box, n, "models versions", "unknown_model", ["models", "versions", "nope"]).code, 2);
    const trained = box.run(["run", "train_echo", "--wait"]);
    assert.equal(trained.code, 0, trained.stderr);
    jsonCase(box, n, "models versions", "one_version", ["models", "versions", "echo"]);
    jsonCase(box, n, "models show", "by_alias", ["models", "show", "echo@champion"]);
    assert.equal(jsonCase(box, n, "models show", "unknown_model_version", ["models", "show", "echo@nope"]).code, 2);
    jsonCase(box, n, "models alias set", "challenger", ["models", "alias", "set", "echo", "challenger", "1"]);
    assert.equal(jsonCase(box, n, "models alias set", "invalid_alias", ["models", "alias", "set", "echo", "9lives", "1"]).code, 2);
    jsonCase(box, n, "models list", "registered", ["models", "list"]);
    jsonCase(box, n, "models promote", "promoted", ["models", "promote", "echo@champion", "--from", "dev", "--to", "qa", "--alias", "champion"]);
    jsonCase(box, n, "models promote", "already_there", ["models", "promote", "echo/1", "--from", "dev", "--to", "qa"]);
    assert.equal(jsonCase(box, n, "models promote", "unknown_target", ["models", "promote", "echo@1", "--from", "dev", "--to", "prod"]).code, 2);
  });

  it("endpoints: list, query (answered, rejected, unauthorized), logs, tokens", () => {
    const deployed = box.run(["deploy"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    jsonCase(box, n, "endpoints list", "serving", ["endpoints", "list"]);
    jsonCase(box, n, "tokens create", "with_group", ["tokens", "create", "--user", "ann", "--group", "analysts"]);
    jsonCase(box, n, "endpoints query", "answered", ["endpoints", "query", "ep-cmd", "--data", '{"inputs": [[1, 2], [3, 4]]}']);
    assert.equal(jsonCase(box, n, "endpoints query", "query_rejected", ["endpoints", "query", "ep-cmd", "--oip", "--data", '{"inputs": []}']).code, 2);
    assert.equal(jsonCase(box, n, "endpoints query", "query_unauthorized", ["endpoints", "query", "ep-cmd", "--data", '{"inputs": [[1]]}', "--token", "swt_not-a-token"]).code, 3);
    assert.equal(jsonCase(box, n, "endpoints query", "invalid_flag", ["endpoints", "query", "ep-cmd", "--data", "{"]).code, 2);
    jsonCase(box, n, "endpoints logs", "two_requests", ["endpoints", "logs", "ep-cmd"]);
    assert.equal(jsonCase(box, n, "endpoints logs", "unknown_endpoint", ["endpoints", "logs", "nope"]).code, 2);
  });

  it("endpoints reap: nothing yet, then the expired endpoint", () => {
    jsonCase(box, n, "endpoints reap", "nothing_expired", ["endpoints", "reap"]);
    jsonCase(box, n, "endpoints reap", "expired", ["endpoints", "reap"], { SLIPWAY_CLOCK_OFFSET_MS: String(2 * 3600_000) });
    jsonCase(box, n, "endpoints list", "none", ["endpoints", "list"]);
  });

  it("server status, server stop, server, server while one runs", async () => {
    // The background units run once at start: their status is settled before the snapshot.
    await waitFor(() => {
      const units = box.json(["server", "status"]).doc.background as Array<{ unit: string; last_outcome: string }>;
      return ["lost-runs", "ttl"].every((u) => units.some((b) => b.unit === u && b.last_outcome === "ok"));
    }, 20_000, "the background units' first runs");
    jsonCase(box, n, "server status", "running", ["server", "status"]);
    jsonCase(box, n, "server stop", "stopped", ["server", "stop"]);
    jsonCase(box, n, "server stop", "not_running", ["server", "stop"]);
    jsonCase(box, n, "server status", "not_running", ["server", "status"]);
    const child = box.start(["server", "--json", "--port", "0"]);
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
    expectDocument("server", "listening", doc, n);
    assert.equal(doc.ok, true);
    assert.equal(jsonCase(box, n, "server", "server_running", ["server", "--port", "0"]).code, 3);
    // Not spawnSync: this process must stay free to reap its child server, or `stop` sees a zombie alive.
    assert.equal((await exited(box.start(["server", "stop"]))).code, 0);
    const end = await done;
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stderr, /Slipway server listening on http:\/\/127\.0\.0\.1:\d+/, "log lines go to stderr with --json");
  });
});
