// The order of deletes: dependents first; a module's marker after the rest of its module, settings
// after its hooks; another module's resources still before this module's hooks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RecordedResource, ResourceKind } from "../resources.js";
import { deleteOrder } from "./plan.js";
import type { RemovedAfter } from "./provider.js";

const r = (address: string, module: string, dependsOn: string[] = []): RecordedResource => ({
  address,
  kind: address.split(".")[0] as ResourceKind,
  name: address.split(".").slice(1).join("."),
  module,
  phase: 0,
  spec: {},
  specHash: "h",
  dependsOn,
  outputs: {},
  createdAt: "",
  updatedAt: "",
});

// The rule the module and setting kinds declare (src/kinds/module, src/kinds/setting).
const removedAfter: RemovedAfter = (x, deleting) =>
  x.kind === "module"
    ? deleting.filter((d) => d.module === x.module && d.address !== x.address).map((d) => d.address)
    : x.kind === "setting"
      ? deleting.filter((d) => d.kind === "hook" && d.module === x.module).map((d) => d.address)
      : [];

// core <- app, each with a job, two hooks and a setting, compiled the way compile-project.ts does.
const doomed = [
  r("job.etl", "core"),
  r("hook.core.one", "core", ["job.etl"]),
  r("hook.core.two", "core", ["job.etl", "hook.core.one"]),
  r("setting.core.k", "core", ["hook.core.two"]),
  r("module.core", "core", ["job.etl", "hook.core.one", "hook.core.two", "setting.core.k"]),
  r("job.score", "app", ["module.core"]),
  r("hook.app.one", "app", ["job.score", "module.core"]),
  r("setting.app.k", "app", ["hook.app.one", "module.core"]),
  r("module.app", "app", ["module.core", "job.score", "hook.app.one", "setting.app.k"]),
];

describe("deleteOrder", () => {
  it("removes hooks (in reverse), then settings, then the module's marker; dependent modules entirely first", () => {
    const order = deleteOrder(doomed, removedAfter).map((x) => x.resource.address);
    const at = (a: string) => order.indexOf(a);
    for (const m of ["core", "app"]) {
      const mine = doomed.filter((d) => d.module === m && d.kind !== "module").map((d) => d.address);
      for (const a of mine) assert.ok(at(a) < at(`module.${m}`), `${a} before module.${m}: ${order.join(", ")}`);
    }
    assert.ok(at("hook.core.two") < at("hook.core.one"));
    assert.ok(at("hook.core.two") < at("setting.core.k"));
    assert.ok(at("hook.app.one") < at("setting.app.k"));
    assert.ok(at("hook.core.one") < at("job.etl"));
    // Everything of app goes before anything of core.
    const lastApp = Math.max(...doomed.filter((d) => d.module === "app").map((d) => at(d.address)));
    const firstCore = Math.min(...doomed.filter((d) => d.module === "core").map((d) => at(d.address)));
    assert.ok(lastApp < firstCore, order.join(", "));
    assert.equal(order.at(-1), "module.core");
  });

  it("without the rule: dependents first, as the dependencies say", () => {
    const order = deleteOrder(doomed).map((x) => x.resource.address);
    assert.ok(order.indexOf("module.core") < order.indexOf("hook.core.two"));
    assert.ok(order.indexOf("setting.core.k") < order.indexOf("hook.core.two"));
  });

  it("a module's resources of a later phase (they depend on its marker) go before the marker, in no cycle", () => {
    // Module m (phase 0) with a job, a hook, and two endpoints and a grant of phase 1, which depend on m's marker.
    const later = [
      r("job.train", "m"),
      r("hook.m.setup", "m", ["job.train"]),
      r("module.m", "m", ["job.train", "hook.m.setup"]),
      r("endpoint.solo", "m", ["module.m"]),
      r("endpoint.pair", "m", ["module.m"]),
      r("permission.endpoint.pair", "m", ["endpoint.pair", "module.m"]),
    ];
    const order = deleteOrder(later, removedAfter).map((x) => x.resource.address);
    const at = (a: string) => order.indexOf(a);
    assert.equal(order.at(-1), "module.m");
    assert.ok(at("permission.endpoint.pair") < at("endpoint.pair"));
    // What was deployed in the later phase goes first (the reverse of deploying), then the hooks, then the rest.
    for (const e of ["endpoint.solo", "endpoint.pair", "permission.endpoint.pair"]) assert.ok(at(e) < at("hook.m.setup"), order.join(", "));
    assert.ok(at("hook.m.setup") < at("job.train"));
  });

  it("each delete names what it waits for, and every one of those comes earlier", () => {
    const order = deleteOrder(doomed, removedAfter);
    const seen = new Set<string>();
    for (const { resource, after } of order) {
      for (const a of after) assert.ok(seen.has(a), `${resource.address} waits for ${a}, which comes later`);
      seen.add(resource.address);
    }
  });
});
