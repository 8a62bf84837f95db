// The --json documents of the apps commands.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { finishSnapshots, jsonCase, Normaliser } from "./snapshot.js";

const SERVER = `require("node:http").createServer((req, res) => res.end("ok")).listen(Number(process.env.PORT), "127.0.0.1", () => console.log("app ready"));\n`;

describe("--json contract: apps", () => {
  let box: Sandbox;
  let n: Normaliser;
  before(() => {
    box = sandbox({
      "slipway.yaml": "project: appcontract\ninclude:\n  - modules/*/module.yaml\ntargets:\n  dev:\n    default: true\n",
      "modules/core/module.yaml": "module: core\nresources:\n  apps:\n    ui:\n      source: app\n      command: node server.js\n      permissions:\n        - { level: CAN_USE, group: users }\n",
      "modules/core/app/server.js": SERVER,
    });
    n = new Normaliser(box);
  });
  after(() => {
    box.run(["server", "stop"]);
    box.cleanup();
    finishSnapshots(["apps list", "apps logs"]);
  });

  it("apps list and apps logs: none, running, unknown", () => {
    jsonCase(box, n, "apps list", "none", ["apps", "list"]);
    const deployed = box.run(["deploy"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const listed = jsonCase(box, n, "apps list", "running", ["apps", "list"]);
    assert.equal(listed.doc.apps[0].state, "running");
    const logs = jsonCase(box, n, "apps logs", "started", ["apps", "logs", "ui"]);
    assert.ok(logs.doc.lines.some((l: string) => l.endsWith("app ready")));
    assert.equal(jsonCase(box, n, "apps logs", "unknown_app", ["apps", "logs", "nope"]).code, 2);
    assert.equal(box.run(["destroy", "--yes"]).code, 0);
  });
});
