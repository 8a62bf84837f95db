// The --json documents of `ttl show`, `ttl extend`, `ttl pin` and `ttl unpin`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

describe("--json contract: ttl", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox({
      "slipway.yaml": "project: lim\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true, ttl: { after: 24h, notify_before: 1h } }\n  qa: { ttl: 2h }\n  prod: {}\n",
      "modules/m/module.yaml": "module: m\nsettings:\n  colour: blue\n",
    });
    n = new Normaliser(box);
  });
  after(() => {
    box.run(["server", "stop"]);
    box.cleanup();
    finishSnapshots(["ttl show", "ttl extend", "ttl pin", "ttl unpin"]);
  });

  it("before a deploy, counting down, extended, pinned, unpinned; per endpoint; none; refused", () => {
    jsonCase(box, n, "ttl show", "not_started", ["ttl", "show"]);
    assert.equal(box.run(["deploy"], { SLIPWAY_SERVER_IDLE_MS: "1" }).code, 0);
    jsonCase(box, n, "ttl show", "armed", ["ttl", "show", "dev"]);
    jsonCase(box, n, "ttl extend", "extended", ["ttl", "extend", "dev", "12h"]);
    jsonCase(box, n, "ttl pin", "pinned", ["ttl", "pin", "dev"]);
    jsonCase(box, n, "ttl unpin", "unpinned", ["ttl", "unpin", "dev"]);
    jsonCase(box, n, "ttl show", "per_endpoint", ["ttl", "show", "-t", "qa"]);
    jsonCase(box, n, "ttl show", "none", ["ttl", "show", "prod"]);
    assert.equal(jsonCase(box, n, "ttl extend", "not_running", ["ttl", "extend", "prod", "1h"]).code, 3);
    assert.equal(jsonCase(box, n, "ttl pin", "not_running", ["ttl", "pin", "qa"]).code, 3);
    assert.equal(jsonCase(box, n, "ttl unpin", "not_running", ["ttl", "unpin", "prod"]).code, 3);
    assert.equal(jsonCase(box, n, "ttl extend", "bad_duration", ["ttl", "extend", "dev", "soon"]).code, 2);
  });
});
