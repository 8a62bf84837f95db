import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashValue } from "../util/hash.js";
import { diffFields, planChanges, topologicalOrder } from "./plan.js";
import type { DesiredResource, RecordedResource, ResourceKind } from "../resources.js";
import type { ChangeKind } from "./provider.js";

// The plan asks each kind only "update or replace?"; here models are replaced when they change module.
const changeKind = (kind: ResourceKind): ChangeKind => (kind === "model" ? (r, d) => (r.spec.module !== d.spec.module ? "replace" : "update") : () => "update");
const plan = (d: DesiredResource[], r: RecordedResource[], scope?: Parameters<typeof planChanges>[3]) => planChanges(d, r, changeKind, scope);

function desired(address: string, spec: Record<string, unknown>, dependsOn: string[] = [], phase = 0): DesiredResource {
  const [kind, ...rest] = address.split(".");
  return { address, kind: kind as DesiredResource["kind"], name: rest.join("."), module: "m", phase, spec, specHash: hashValue(spec), dependsOn };
}
function recorded(d: DesiredResource): RecordedResource {
  return { ...d, outputs: {}, createdAt: "t", updatedAt: "t" };
}

describe("planChanges", () => {
  it("creates what is missing, in dependency order", () => {
    const a = desired("setting.m.a", { value: "1" }, ["module.m"]);
    const m = desired("module.m", { depends_on: [] });
    const result = plan([a, m], []);
    assert.deepEqual(result.actions.map((x) => [x.action, x.address]), [["create", "module.m"], ["create", "setting.m.a"]]);
    assert.deepEqual(result.summary, { create: 2, update: 0, replace: 0, delete: 0, noop: 0 });
  });

  it("is empty when every spec hash matches", () => {
    const a = desired("setting.m.a", { value: "1" });
    assert.deepEqual(plan([a], [recorded(a)]).actions, []);
    assert.equal(plan([a], [recorded(a)]).summary.noop, 1);
  });

  it("updates a changed spec and names the changed fields", () => {
    const before = desired("setting.m.a", { key: "a", value: "1" });
    const after = desired("setting.m.a", { key: "a", value: "2" });
    const [action] = plan([after], [recorded(before)]).actions;
    assert.equal(action!.action, "update");
    assert.deepEqual(action!.changes, [{ path: "value", before: "1", after: "2" }]);
  });

  it("replaces when the provider says the change cannot be made in place", () => {
    const before = desired("model.x", { module: "a" });
    const after = { ...desired("model.x", { module: "b" }), module: "b" };
    assert.equal(plan([after], [recorded(before)]).actions[0]!.action, "replace");
  });

  it("deletes what is no longer wanted, dependents first", () => {
    const m = desired("module.m", {});
    const s = desired("setting.m.a", {}, ["module.m"]);
    const result = plan([], [recorded(m), recorded(s)]);
    assert.deepEqual(result.actions.map((x) => [x.action, x.address]), [["delete", "setting.m.a"], ["delete", "module.m"]]);
  });

  it("--phase N keeps later phases out and deletes their deployed resources", () => {
    const early = desired("model.a", {}, [], 1);
    const late = desired("endpoint.b", {}, ["model.a"], 2);
    assert.deepEqual(plan([early, late], [], { phase: 1 }).actions.map((a) => a.address), ["model.a"]);
    const back = plan([early, late], [recorded(early), recorded(late)], { phase: 1 });
    assert.deepEqual(back.actions.map((a) => [a.action, a.address]), [["delete", "endpoint.b"]]);
  });

  it("--module leaves other modules alone, even their deletions", () => {
    const mine = desired("setting.m.a", { v: 1 });
    const theirs = { ...desired("setting.o.b", { v: 1 }), module: "o" };
    const result = plan([mine], [recorded(theirs)], { modules: new Set(["m"]) });
    assert.deepEqual(result.actions.map((a) => a.address), ["setting.m.a"]);
  });
});

describe("topologicalOrder", () => {
  it("keeps declaration order among independent nodes and ignores edges to unknown nodes", () => {
    const nodes = [
      { address: "c", dependsOn: ["a"] },
      { address: "b", dependsOn: ["elsewhere"] },
      { address: "a", dependsOn: [] },
    ];
    assert.deepEqual(topologicalOrder(nodes).map((n) => n.address), ["b", "a", "c"]);
  });

  it("throws on a cycle", () => {
    assert.throws(() => topologicalOrder([{ address: "a", dependsOn: ["b"] }, { address: "b", dependsOn: ["a"] }]), /dependency cycle/);
  });
});

describe("diffFields", () => {
  it("reports nested paths, additions and removals", () => {
    assert.deepEqual(diffFields({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: 1, c: 3 }, e: true }), [
      { path: "a.c", before: 2, after: 3 },
      { path: "d", before: [1], after: undefined },
      { path: "e", before: undefined, after: true },
    ]);
  });
});
