// The endpoint sync against a real SQLite state: which records it follows, and that it never undoes
// what a deploy or destroy through this server did. The server's endpoint table is a recording stand-in
// (the real one starts model processes; what is tested is which calls the sync makes).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { RecordedResource } from "../resources.js";
import { openSqliteState } from "../store/state/sqlite/sqlite-state.js";
import type { StateStore } from "../store/state/state-store.js";
import { modelDirOf } from "./control.js";
import { EndpointSync } from "./endpoint-sync.js";
import type { EndpointConfig, Endpoints } from "./endpoints.js";

describe("endpoint sync", () => {
  let dir: string;
  let state: StateStore;
  let live: Map<string, EndpointConfig>;
  let calls: string[];
  let sync: EndpointSync;

  const config = (name: string, configVersion = 1): EndpointConfig => ({
    project: "p",
    target: "dev",
    name,
    configVersion,
    served: [{ model: "m", version: 1, percent: 100, dir: modelDirOf(dir, { project: "p", target: "dev", model: "m", version: 1 }) } as EndpointConfig["served"][number]],
    grants: [],
    inference: { sample: 1, maxBodyBytes: 1024 },
    replicas: { min: 1, max: 1 },
  });
  const record = (c: EndpointConfig, deployedAt: string): Promise<void> => {
    const at = "2026-12-01T00:00:00.000Z";
    const resource: RecordedResource = { address: `endpoint.${c.name}`, kind: "endpoint", name: c.name, module: "root", phase: 1, spec: {}, specHash: "h", dependsOn: [], outputs: { config: c, deployed_at: deployedAt }, createdAt: at, updatedAt: deployedAt };
    return state.forTarget(c.project, c.target).putResources([resource]);
  };
  const forget = (name: string) => state.forTarget("p", "dev").forgetResource(`endpoint.${name}`);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "slipway-sync-"));
    state = openSqliteState(join(dir, "state.db"));
    await state.migrate();
    live = new Map();
    calls = [];
    const endpoints = {
      get: (name: string) => (live.has(name) ? { config: live.get(name)! } : undefined),
      apply: async (c: EndpointConfig) => {
        calls.push(`apply ${c.name}@${c.configVersion}`);
        live.set(c.name, c);
      },
      remove: async (name: string) => {
        calls.push(`remove ${name}`);
        live.delete(name);
      },
    } as unknown as Endpoints;
    sync = new EndpointSync({ home: dir, state, endpoints, log: () => {} });
  });
  afterEach(async () => {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("serves a record another server made, and stops serving it when the record goes", async () => {
    await record(config("a"), "2026-12-01T00:00:01.000Z");
    assert.deepEqual(await sync.pass(), { applied: ["a"], removed: [] });
    assert.deepEqual(await sync.pass(), { applied: [], removed: [] }, "an unchanged record is left alone");
    await forget("a");
    assert.deepEqual(await sync.pass(), { applied: [], removed: ["a"] });
    assert.deepEqual(calls, ["apply a@1", "remove a"]);
  });

  test("a destroy through this server is not undone by a look that had not seen the record yet", async () => {
    // Deployed through this server, destroyed through it before the sync ever looked; the record stays
    // while the destroy archives the endpoint's inference table.
    let seen = sync.told("a");
    live.set("a", config("a"));
    await record(config("a"), "2026-12-01T00:00:01.000Z");
    await seen();
    seen = sync.told("a");
    live.delete("a");
    await seen();
    assert.deepEqual(await sync.pass(), { applied: [], removed: [] });
    await forget("a");
    assert.deepEqual(await sync.pass(), { applied: [], removed: [] });
    assert.deepEqual(calls, [], "the sync served nothing and removed nothing");
    // A later deploy by another server (a new record) is followed again.
    await record(config("a", 2), "2026-12-01T00:00:05.000Z");
    assert.deepEqual(await sync.pass(), { applied: ["a"], removed: [] });
  });

  test("a look under way when this server is told about the endpoint leaves it alone", async () => {
    await record(config("a", 1), "2026-12-01T00:00:01.000Z");
    const look = sync.pass(); // reading the records now
    // Meanwhile a deploy through this server serves configuration 2 (recorded by the deploy afterwards).
    const seen = sync.told("a");
    live.set("a", config("a", 2));
    await seen();
    assert.deepEqual(await look, { applied: [], removed: [] });
    assert.equal(live.get("a")?.configVersion, 2, "the older record did not replace what the deploy serves");
    await record(config("a", 2), "2026-12-01T00:00:02.000Z");
    assert.deepEqual(await sync.pass(), { applied: [], removed: [] }, "the deploy's record matches what is served");
    assert.deepEqual(calls, []);
  });
});
