// Conformance suite for the state store: the same tests against real SQLite (a temp file) and a real
// PostgreSQL server (when SLIPWAY_TEST_PG_URL is set), through the public StateStore/TargetState
// methods only. Every PostgreSQL run works in databases of its own (slipway_conf_<random>) that it
// drops at the end, so reruns start clean. See test/conformance/README.md.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import type { RecordedResource } from "../../src/resources.js";
import { openPostgresState } from "../../src/store/state/postgres/postgres-state.js";
import { openSqliteState } from "../../src/store/state/sqlite/sqlite-state.js";
import type { DeploymentRow, LockRow, StateStore } from "../../src/store/state/state-store.js";

// ---------------------------------------------------------------------------------------------
// Backends

interface Backend {
  readonly name: "sqlite" | "postgres";
  /** Set when the backend cannot run here: its tests are reported as skipped with this reason. */
  readonly skip?: string;
  /** Creates a new, empty database and returns where it is (a file or a connection URL). */
  createEmpty(options?: { collation?: "natural" }): Promise<string>;
  /** Opens a store on a database made by createEmpty (not migrated). */
  open(location: string): Promise<StateStore>;
  /** Removes every database this backend created. Stores must be closed first. */
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  let dir: string | undefined;
  let n = 0;
  return {
    name: "sqlite",
    async createEmpty() {
      dir ??= mkdtempSync(join(tmpdir(), "slipway-conf-sqlite-"));
      return join(dir, `state-${++n}.db`);
    },
    async open(file) {
      return openSqliteState(file);
    },
    async cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(url: string | undefined): Backend {
  const created: string[] = [];
  const withAdmin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    name: "postgres",
    skip: url ? undefined : "SLIPWAY_TEST_PG_URL is not set (start a server with scripts/services/postgres.sh start DIR)",
    async createEmpty(options) {
      const name = `slipway_conf_${process.pid}_${randomBytes(4).toString("hex")}`;
      // "natural": a language collation like most production servers default to (en_US.UTF-8);
      // ICU ships with PostgreSQL, so this works even where the OS has no such locale installed.
      const clause = options?.collation === "natural" ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'` : "";
      await withAdmin((c) => c.query(`CREATE DATABASE ${name}${clause}`));
      created.push(name);
      const u = new URL(url!);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async open(location) {
      return openPostgresState(location);
    },
    async cleanup() {
      if (!url || created.length === 0) return;
      await withAdmin(async (c) => {
        for (const name of created.splice(0)) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
}

const backends: Backend[] = [sqliteBackend(), postgresBackend(process.env.SLIPWAY_TEST_PG_URL || undefined)];

// ---------------------------------------------------------------------------------------------
// Fixtures

let unique = 0;
/** A project name no other test uses, so tests sharing one database never see each other's rows. */
function project(label: string): string {
  return `${label}-${++unique}-${randomBytes(3).toString("hex")}`;
}

function resource(address: string, over: Partial<RecordedResource> = {}): RecordedResource {
  return {
    address,
    kind: "model",
    name: address.split(".").slice(1).join(".") || address,
    module: "core",
    phase: 2,
    spec: { image: "registry.local/model:1", replicas: 3, nested: { list: [1, "two", { three: true }], nil: null }, unicode: "héllo ✓" },
    specHash: "sha256:aaa",
    dependsOn: ["artifact.weights", "job.train"],
    outputs: { url: "http://127.0.0.1:8080", version: 7, ready: true },
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    ...over,
  };
}

function deployment(id: string, over: Partial<Omit<DeploymentRow, "project" | "target">> = {}): Omit<DeploymentRow, "project" | "target"> {
  return {
    id,
    operation: "deploy",
    status: "running",
    revision: null,
    user: "alice",
    host: "build-1",
    pid: 4242,
    started_at: "2025-01-01T00:00:00.000Z",
    finished_at: null,
    summary: JSON.stringify({ create: 1, update: 0, replace: 0, delete: 0, noop: 0 }),
    snapshot: null,
    state_hash: null,
    error: null,
    options: JSON.stringify({ phase: null }),
    ...over,
  };
}

function lock(token: string, over: Partial<Omit<LockRow, "project" | "target">> = {}): Omit<LockRow, "project" | "target"> {
  return {
    token,
    operation: "deploy",
    owner_user: "alice",
    owner_host: "build-1",
    owner_pid: 31337,
    acquired_at: "2025-01-01T00:00:00.000Z",
    heartbeat_at: "2025-01-01T00:00:00.000Z",
    // Above 2^31 on purpose: epoch milliseconds need a 64-bit column on every backend.
    expires_at: 1_735_689_630_000,
    ...over,
  };
}

/**
 * PostgreSQL would order text by the database's default collation (en_US.UTF-8, ICU en-US on most
 * production servers); key columns are declared COLLATE "C" so every backend lists in code-point
 * order, like SQLite and JS sort(). The test below proves it on an ICU database.
 */

/** Addresses and keys whose order differs between byte order and language collations. */
const ORDER_PROBES = ["model.B", "model.a", "model.a-b", "model.a.c", "model.ab", "model.a_b", "model.Z", "model.é", "model.e", "model.10", "model.9"];
/** The order the store promises: plain code-unit (byte) order, what SQLite and JS sort() give. */
const CODE_UNIT_ORDER = [...ORDER_PROBES].sort();

// ---------------------------------------------------------------------------------------------
// The suite, once per backend

for (const backend of backends) {
  const label = `state store [${backend.name}]`;
  const opts = backend.skip ? { skip: backend.skip } : {};
  let store: StateStore;
  let location: string;
  const extraStores: StateStore[] = [];

  /** Another store on the same database (its own connection or pool), like a second process. */
  const openAnother = async (): Promise<StateStore> => {
    const s = await backend.open(location);
    extraStores.push(s);
    return s;
  };

  describe(label, () => {
    before(async () => {
      if (backend.skip) return;
      location = await backend.createEmpty();
      store = await backend.open(location);
      await store.migrate();
    });

    after(async () => {
      if (backend.skip) return;
      for (const s of extraStores.splice(0)) await s.close();
      await store?.close();
      await backend.cleanup();
    });

    test(`${label}: migrate() on an empty database, twice, and again after reopening is idempotent`, opts, async () => {
      const where = await backend.createEmpty();
      const first = await backend.open(where);
      try {
        await first.migrate();
        await first.migrate();
        const t = first.forTarget("p", "t");
        await t.commitPut(resource("model.m"));
        await t.putSetting("core", "k", "v", "2025-01-01T00:00:00.000Z");
      } finally {
        await first.close();
      }
      const again = await backend.open(where);
      try {
        await again.migrate();
        const t = again.forTarget("p", "t");
        assert.deepEqual(
          (await t.listResources()).map((r) => r.address),
          ["model.m"],
          "data written before the re-migration survives it",
        );
        assert.deepEqual(await t.listSettings(), [{ module: "core", key: "k", value: "v" }]);
      } finally {
        await again.close();
      }
    });

    test(`${label}: ten stores migrating one fresh database at once all succeed (migrations are serialised)`, opts, async () => {
      // Like ten processes on a new SLIPWAY_HOME: separate connections, all migrating at the same moment.
      for (let round = 0; round < 3; round++) {
        const where = await backend.createEmpty();
        const stores = await Promise.all(Array.from({ length: 10 }, () => backend.open(where)));
        try {
          const outcomes = await Promise.allSettled(stores.map((s) => s.migrate()));
          const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected").map((o) => String(o.reason?.message ?? o.reason));
          assert.deepEqual(failed, [], `round ${round}: no migration may fail`);
          const t = stores[9]!.forTarget("p", "t");
          await t.commitPut(resource("model.m"));
          assert.deepEqual((await stores[0]!.forTarget("p", "t").listResources()).map((r) => r.address), ["model.m"]);
        } finally {
          for (const s of stores) await s.close();
        }
      }
    });

    test(`${label}: commitPut inserts, then updates keeping created_at, and round-trips values`, opts, async () => {
      const t = store.forTarget(project("put"), "prod");
      const first = resource("model.ranker");
      await t.commitPut(first);
      let rows = await t.listResources();
      assert.equal(rows.length, 1);
      assert.deepEqual(rows[0], first, "every field round-trips, spec/outputs/dependsOn as values");
      assert.equal(typeof rows[0]!.phase, "number");
      assert.equal(typeof rows[0]!.spec, "object");
      assert.equal(typeof rows[0]!.outputs, "object");
      assert.ok(Array.isArray(rows[0]!.dependsOn));

      const second = resource("model.ranker", {
        phase: 5,
        spec: { image: "registry.local/model:2" },
        specHash: "sha256:bbb",
        dependsOn: [],
        outputs: {},
        module: "serving",
        createdAt: "2025-06-01T00:00:00.000Z", // must be ignored on update
        updatedAt: "2025-06-01T12:00:00.000Z",
      });
      await t.commitPut(second);
      rows = await t.listResources();
      assert.equal(rows.length, 1, "an update does not add a row");
      assert.deepEqual(rows[0], { ...second, createdAt: first.createdAt }, "created_at is kept, everything else is updated");
      assert.equal(rows[0]!.updatedAt, "2025-06-01T12:00:00.000Z");
      assert.equal(rows[0]!.phase, 5);
    });

    test(`${label}: listResources orders by address and isolates (project, target) pairs`, opts, async () => {
      const p = project("iso");
      const q = project("iso");
      const a = store.forTarget(p, "prod");
      const b = store.forTarget(p, "staging");
      const c = store.forTarget(q, "prod");
      for (const addr of ["model.c", "endpoint.a", "model.a", "job.z", "artifact.b"]) await a.commitPut(resource(addr));
      await b.commitPut(resource("model.only-staging"));
      await c.commitPut(resource("model.only-q"));
      await c.commitPut(resource("model.a", { specHash: "sha256:other" }));

      assert.deepEqual(
        (await a.listResources()).map((r) => r.address),
        ["artifact.b", "endpoint.a", "job.z", "model.a", "model.c"],
      );
      assert.deepEqual(
        (await b.listResources()).map((r) => r.address),
        ["model.only-staging"],
      );
      assert.deepEqual(
        (await c.listResources()).map((r) => [r.address, r.specHash]),
        [
          ["model.a", "sha256:other"],
          ["model.only-q", "sha256:aaa"],
        ],
      );
      assert.equal((await a.listResources()).find((r) => r.address === "model.a")!.specHash, "sha256:aaa", "same address in another project is a different row");
      assert.deepEqual(await store.forTarget(project("iso-empty"), "prod").listResources(), []);
    });

    test(`${label}: listResources and listSettings use code-unit order (mixed case, punctuation, accents)`, opts, async () => {
      const t = store.forTarget(project("order"), "prod");
      await assertCodeUnitOrder(t);
    });

    test(`${label}: commitDelete forgets only that resource and closes its journal entry`, opts, async () => {
      const p = project("del");
      const t = store.forTarget(p, "prod");
      const other = store.forTarget(p, "staging");
      await t.commitPut(resource("model.a"));
      await t.commitPut(resource("model.b"));
      await other.commitPut(resource("model.a"));

      await t.commitDelete("model.a");
      assert.deepEqual(
        (await t.listResources()).map((r) => r.address),
        ["model.b"],
      );
      assert.deepEqual(
        (await other.listResources()).map((r) => r.address),
        ["model.a"],
        "the same address in another target stays",
      );
      await t.commitDelete("model.never-existed"); // no error

      const dep = `dep-${p}`;
      await t.journalStart({ deployment_id: dep, seq: 1, address: "model.b", action: "delete", started_at: "2025-01-01T00:00:01.000Z" });
      await t.commitDelete("model.b", { deploymentId: dep, seq: 1, at: "2025-01-01T00:00:02.000Z" });
      assert.deepEqual(await t.listResources(), []);
      const [entry] = await t.journal(dep);
      assert.equal(entry!.status, "done");
      assert.equal(entry!.finished_at, "2025-01-01T00:00:02.000Z");
      assert.equal(entry!.error, null);
    });

    test(`${label}: journal start, child pid, fail, open entries, full journal in seq order`, opts, async () => {
      const p = project("journal");
      const t = store.forTarget(p, "prod");
      const dep = `dep-${p}`;
      const otherDep = `dep-other-${p}`;
      // Inserted out of order to check journal() sorts by seq (numerically: 10 after 2).
      for (const seq of [10, 2, 1, 3]) {
        await t.journalStart({ deployment_id: dep, seq, address: `model.m${seq}`, action: "create", started_at: `2025-01-01T00:00:${String(seq).padStart(2, "0")}.000Z` });
      }
      await t.journalStart({ deployment_id: otherDep, seq: 1, address: "model.x", action: "update", started_at: "2025-01-01T00:00:00.000Z" });

      let all = await t.journal(dep);
      assert.deepEqual(
        all.map((r) => r.seq),
        [1, 2, 3, 10],
      );
      assert.deepEqual(all[0], {
        deployment_id: dep,
        seq: 1,
        address: "model.m1",
        action: "create",
        status: "started",
        started_at: "2025-01-01T00:00:01.000Z",
        finished_at: null,
        error: null,
        child_pid: null,
      });

      await t.journalChild(dep, 2, 98765);
      await t.journalFail(dep, 3, "2025-01-01T00:01:00.000Z", "script exited with 1");
      await t.commitPut(resource("model.m1"), { deploymentId: dep, seq: 1, at: "2025-01-01T00:02:00.000Z" });

      all = await t.journal(dep);
      const bySeq = new Map(all.map((r) => [r.seq, r]));
      assert.equal(bySeq.get(1)!.status, "done");
      assert.equal(bySeq.get(1)!.finished_at, "2025-01-01T00:02:00.000Z");
      assert.equal(bySeq.get(2)!.status, "started");
      assert.equal(bySeq.get(2)!.child_pid, 98765);
      assert.equal(typeof bySeq.get(2)!.child_pid, "number");
      assert.equal(bySeq.get(3)!.status, "failed");
      assert.equal(bySeq.get(3)!.error, "script exited with 1");
      assert.equal(bySeq.get(3)!.finished_at, "2025-01-01T00:01:00.000Z");

      const open = await t.openJournalEntries(dep);
      // openJournalEntries has no defined order: compare as a set.
      assert.deepEqual(
        open.map((r) => r.seq).sort((x, y) => x - y),
        [2, 10],
      );
      for (const r of open) {
        assert.equal(typeof r.seq, "number");
        assert.equal(r.status, "started");
      }
      assert.equal(open.find((r) => r.seq === 2)!.child_pid, 98765);
      assert.equal(open.find((r) => r.seq === 10)!.child_pid, null);

      await t.journalChild(dep, 2, null);
      assert.equal((await t.journal(dep)).find((r) => r.seq === 2)!.child_pid, null, "child pid can be cleared");

      assert.deepEqual(
        (await t.openJournalEntries(otherDep)).map((r) => r.address),
        ["model.x"],
        "entries of another deployment are separate",
      );
      assert.deepEqual(await t.journal(`dep-none-${p}`), []);
    });

    test(`${label}: commitPut with a journal entry records the resource and closes the entry atomically`, opts, async () => {
      const p = project("atomic");
      const t = store.forTarget(p, "prod");
      const dep = `dep-${p}`;
      await t.journalStart({ deployment_id: dep, seq: 1, address: "model.ok", action: "create", started_at: "2025-01-01T00:00:00.000Z" });
      await t.journalStart({ deployment_id: dep, seq: 2, address: "model.bad", action: "create", started_at: "2025-01-01T00:00:00.000Z" });

      await t.commitPut(resource("model.ok"), { deploymentId: dep, seq: 1, at: "2025-01-01T00:00:05.000Z" });
      let entries = await t.journal(dep);
      assert.equal(entries[0]!.status, "done");
      assert.equal(entries[0]!.finished_at, "2025-01-01T00:00:05.000Z");
      assert.equal(entries[0]!.error, null);
      assert.deepEqual(
        (await t.listResources()).map((r) => r.address),
        ["model.ok"],
      );

      // Both halves or neither: when closing the journal entry fails after the resource row was
      // written, the resource row must be rolled back. A deployment id whose serialization throws
      // makes the second statement fail on both drivers (SQLite cannot bind an object; pg calls
      // toJSON on it).
      const poison = {
        toJSON() {
          throw new Error("poisoned journal key");
        },
      } as unknown as string;
      await assert.rejects(t.commitPut(resource("model.bad"), { deploymentId: poison, seq: 2, at: "2025-01-01T00:00:06.000Z" }));
      assert.deepEqual(
        (await t.listResources()).map((r) => r.address),
        ["model.ok"],
        "the failed commitPut left no resource behind",
      );
      entries = await t.journal(dep);
      assert.equal(entries[1]!.status, "started", "and the entry is still open");

      // A failing resource write leaves the entry open too.
      await assert.rejects(t.commitPut(resource("model.bad", { name: null as unknown as string }), { deploymentId: dep, seq: 2, at: "2025-01-01T00:00:07.000Z" }));
      entries = await t.journal(dep);
      assert.equal(entries[1]!.status, "started");
      assert.equal(entries[1]!.finished_at, null);

      // The store stays usable after the rolled-back transactions.
      await t.commitPut(resource("model.bad"), { deploymentId: dep, seq: 2, at: "2025-01-01T00:00:08.000Z" });
      assert.equal((await t.journal(dep))[1]!.status, "done");
      assert.deepEqual(
        (await t.listResources()).map((r) => r.address),
        ["model.bad", "model.ok"],
      );
    });

    test(`${label}: atomically: records and settings (many, one key twice, a delete between) commit together or not at all`, opts, async () => {
      const p = project("batch");
      const t = store.forTarget(p, "prod");
      await t.putSetting("core", "gone", "old", "2025-01-01T00:00:00.000Z");
      const at = "2025-01-02T00:00:00.000Z";
      await t.atomically(async (tx) => {
        // More than one multi-row statement's worth, and one key written twice (the last value wins:
        // PostgreSQL refuses an upsert that names a row twice).
        for (let i = 0; i < 1200; i++) await tx.putSetting("core", `k${String(i).padStart(4, "0")}`, `v${i}`, at);
        await tx.putSetting("core", "k0001", "again", at);
        // A delete after deferred writes sees them: the row written in this transaction goes.
        await tx.putSetting("core", "gone", "new", at);
        await tx.deleteSetting("core", "gone");
        await tx.putSetting("core", "late", "after the delete", at);
        // Reads inside the transaction see what it wrote.
        assert.equal((await tx.listSettings("core")).length, 1201);
        await tx.putResources(Array.from({ length: 450 }, (_, i) => resource(`model.m${String(i).padStart(3, "0")}`)));
      });
      const settings = await t.listSettings("core");
      assert.equal(settings.length, 1201);
      assert.deepEqual(settings.find((s) => s.key === "k0001"), { module: "core", key: "k0001", value: "again" });
      assert.equal(settings.find((s) => s.key === "gone"), undefined);
      assert.deepEqual(settings.find((s) => s.key === "late"), { module: "core", key: "late", value: "after the delete" });
      assert.equal((await t.listResources()).length, 450);

      // A failure inside leaves nothing of it: neither the settings written before it nor the records.
      await assert.rejects(
        t.atomically(async (tx) => {
          await tx.putSetting("core", "k0000", "changed", at);
          await tx.putSetting("core", "brand-new", "x", at);
          await tx.putResources([resource("model.zzz")]);
          throw new Error("provider failed");
        }),
        /provider failed/,
      );
      const after = await t.listSettings("core");
      assert.equal(after.length, 1201);
      assert.deepEqual(after.find((s) => s.key === "k0000"), { module: "core", key: "k0000", value: "v0" });
      assert.equal((await t.listResources()).length, 450);
    });

    test(`${label}: settings upsert, list sorted with a module filter, delete`, opts, async () => {
      const p = project("settings");
      const t = store.forTarget(p, "prod");
      const other = store.forTarget(p, "dev");
      await t.putSetting("serving", "replicas", "3", "2025-01-01T00:00:00.000Z");
      await t.putSetting("core", "region", "eu", "2025-01-01T00:00:00.000Z");
      await t.putSetting("core", "bucket", "b1", "2025-01-01T00:00:00.000Z");
      await other.putSetting("core", "region", "us", "2025-01-01T00:00:00.000Z");

      assert.deepEqual(await t.listSettings(), [
        { module: "core", key: "bucket", value: "b1" },
        { module: "core", key: "region", value: "eu" },
        { module: "serving", key: "replicas", value: "3" },
      ]);
      assert.deepEqual(await t.listSettings("core"), [
        { module: "core", key: "bucket", value: "b1" },
        { module: "core", key: "region", value: "eu" },
      ]);
      assert.deepEqual(await t.listSettings("nothing-here"), []);

      await t.putSetting("core", "region", "ap", "2025-02-01T00:00:00.000Z");
      assert.deepEqual(await t.listSettings("core"), [
        { module: "core", key: "bucket", value: "b1" },
        { module: "core", key: "region", value: "ap" },
      ]);
      assert.deepEqual(await other.listSettings(), [{ module: "core", key: "region", value: "us" }], "another target keeps its own value");

      await t.deleteSetting("core", "region");
      await t.deleteSetting("core", "missing"); // no error
      assert.deepEqual(await t.listSettings(), [
        { module: "core", key: "bucket", value: "b1" },
        { module: "serving", key: "replicas", value: "3" },
      ]);
      assert.deepEqual(await other.listSettings(), [{ module: "core", key: "region", value: "us" }]);

      await t.putSetting("core", "multiline", "line 1\nline 2 'quoted' \"double\" ✓", "2025-01-01T00:00:00.000Z");
      assert.equal((await t.listSettings("core")).find((s) => s.key === "multiline")!.value, "line 1\nline 2 'quoted' \"double\" ✓");
    });

    test(`${label}: compute environments and installs: upsert, list per (project, target), delete an environment with its installs`, opts, async () => {
      const p = project("compute");
      const c = store.compute(p, "val");
      const other = store.compute(p, "prod");
      const env = { name: "etl", instance: "", path: "/h/envs/p/val/etl", python: "/usr/bin/python3", python_version: "3.11.2", ephemeral: 0, run_id: null, created_at: "2025-01-01T00:00:00.000Z" };
      await c.putEnvironment(env);
      await c.putEnvironment({ ...env, instance: "r1", ephemeral: 1, run_id: "r1", path: "/h/envs/p/val/etl-r1" });
      await other.putEnvironment(env);
      assert.deepEqual(await c.getEnvironment("etl"), { ...env, project: p, target: "val" }, "numbers stay numbers, null stays null");
      assert.equal((await c.getEnvironment("etl", "r1"))?.ephemeral, 1);
      assert.equal(await c.getEnvironment("missing"), undefined);
      assert.deepEqual((await c.listEnvironments()).map((e) => [e.name, e.instance]), [["etl", ""], ["etl", "r1"]]);

      const install = { environment: "etl", instance: "", artifact: "dqm", version: "2.6.10", sha256: "a".repeat(64), package: "dqm", filename: "dqm-2.6.10-py3-none-any.whl", installed_at: "2025-01-01T00:00:00.000Z", installed_by: "ci" };
      await c.putInstall(install);
      await c.putInstall({ ...install, artifact: "Zeta" });
      await c.putInstall({ ...install, instance: "r1" });
      await other.putInstall(install);
      await c.putInstall({ ...install, version: "2.6.11", sha256: "b".repeat(64) });
      assert.deepEqual(
        (await c.listInstalls({ environment: "etl", instance: "" })).map((i) => [i.artifact, i.version]),
        [["Zeta", "2.6.10"], ["dqm", "2.6.11"]],
        "an upsert replaces the version; code-unit order",
      );
      assert.deepEqual((await c.listInstalls({ artifact: "dqm" })).map((i) => [i.instance, i.version]), [["", "2.6.11"], ["r1", "2.6.10"]]);
      await c.deleteInstall("etl", "", "Zeta");
      await c.deleteInstall("etl", "", "missing"); // no error
      assert.deepEqual((await c.listInstalls({ instance: "" })).map((i) => i.artifact), ["dqm"]);

      await c.deleteEnvironment("etl", "r1");
      assert.deepEqual((await c.listEnvironments()).map((e) => e.instance), [""]);
      assert.deepEqual((await c.listInstalls()).map((i) => i.instance), [""], "the instance's installs went with it");
      assert.equal((await other.listInstalls()).length, 1, "another target keeps its own");
    });

    test(`${label}: deployments, revisions, status queries (numbers stay numbers, null stays null)`, opts, async () => {
      const p = project("deploy");
      const t = store.forTarget(p, "prod");
      const other = store.forTarget(p, "staging");
      const d = (n: number) => `dep-${p}-${n}`;

      assert.equal(await t.nextRevision(), 1, "first revision of an empty target");
      assert.equal(await t.latestRevision(), undefined);
      assert.equal(await t.getRevision(1), undefined);
      assert.deepEqual(await t.listDeployments(), []);

      await t.createDeployment(deployment(d(1), { started_at: "2025-01-01T00:00:01.000Z" }));
      let row = (await t.listDeployments())[0]!;
      assert.deepEqual(row, { ...deployment(d(1), { started_at: "2025-01-01T00:00:01.000Z" }), project: p, target: "prod" });
      assert.equal(row.revision, null);
      assert.equal(typeof row.pid, "number");
      assert.equal(await t.latestRevision(), undefined, "a deployment without a revision is not a revision");

      const rev1 = await t.nextRevision();
      assert.equal(rev1, 1);
      await t.updateDeployment(d(1), { status: "succeeded", finished_at: "2025-01-01T00:00:09.000Z", revision: rev1, snapshot: "snapshots/h1.json.gz", state_hash: "h1" });
      row = (await t.getRevision(1))!;
      assert.equal(row.id, d(1));
      assert.equal(row.revision, 1);
      assert.equal(typeof row.revision, "number");
      assert.equal(row.status, "succeeded");
      assert.equal(row.finished_at, "2025-01-01T00:00:09.000Z");
      assert.equal(row.error, null);
      assert.equal(row.state_hash, "h1");

      // Two deployments without revisions coexist (the unique index ignores NULLs on both backends).
      await t.createDeployment(deployment(d(2), { started_at: "2025-01-01T00:00:02.000Z" }));
      await t.createDeployment(deployment(d(3), { started_at: "2025-01-01T00:00:03.000Z" }));
      await t.updateDeployment(d(2), { status: "failed", finished_at: "2025-01-01T00:00:10.000Z", error: "boom" });

      assert.equal(await t.nextRevision(), 2);
      await t.updateDeployment(d(3), { status: "succeeded", revision: 2, state_hash: "h2" });
      await other.createDeployment(deployment(d(4), { status: "succeeded", revision: 1, started_at: "2025-01-01T00:00:04.000Z" }));
      await other.createDeployment(deployment(d(5), { status: "succeeded", revision: 7, started_at: "2025-01-01T00:00:05.000Z" }));

      // A revision number is unique per target.
      await assert.rejects(t.createDeployment(deployment(d(6), { revision: 2 })));

      assert.equal(await t.nextRevision(), 3);
      assert.equal(await other.nextRevision(), 8, "revisions are counted per target");
      const latest = (await t.latestRevision())!;
      assert.equal(latest.id, d(3));
      assert.equal(latest.revision, 2);
      assert.equal((await other.latestRevision())!.revision, 7);
      assert.equal((await t.getRevision(7)), undefined, "revision 7 belongs to another target");
      assert.equal((await other.getRevision(1))!.id, d(4));

      const listed = await t.listDeployments();
      assert.deepEqual(
        listed.map((r) => r.id),
        [d(3), d(2), d(1)],
        "newest first",
      );
      assert.deepEqual(
        listed.map((r) => r.revision),
        [2, null, 1],
      );
      for (const r of listed) assert.equal(typeof r.pid, "number");
      assert.deepEqual(
        (await t.listDeployments(2)).map((r) => r.id),
        [d(3), d(2)],
        "limit",
      );
      assert.equal((await t.listDeployments()).find((r) => r.id === d(2))!.error, "boom");

      // Same started_at: id breaks the tie, descending.
      const q = store.forTarget(project("deploy-tie"), "prod");
      for (const id of ["b", "c", "a"]) await q.createDeployment(deployment(`tie-${p}-${id}`, { started_at: "2025-01-01T00:00:00.000Z" }));
      assert.deepEqual(
        (await q.listDeployments()).map((r) => r.id),
        [`tie-${p}-c`, `tie-${p}-b`, `tie-${p}-a`],
      );

      // Revisions list by number even when a moved clock gave a newer one an earlier start time.
      const c = store.forTarget(project("deploy-clock"), "prod");
      const starts = ["2025-01-01T05:00:00.000Z", "2025-01-01T03:00:00.000Z", "2025-01-01T01:00:00.000Z", "2025-01-01T06:00:00.000Z"];
      for (const [i, at] of starts.entries()) await c.createDeployment(deployment(`clk-${p}-${i + 1}`, { status: "succeeded", revision: i + 1, started_at: at }));
      assert.deepEqual((await c.listDeployments()).map((r) => r.revision), [4, 3, 2, 1]);
      assert.deepEqual((await c.listDeployments(2)).map((r) => r.revision), [4, 3], "limit keeps the newest revisions");

      const sortIds = (rows: DeploymentRow[]) => rows.map((r) => r.id).sort();
      assert.deepEqual(sortIds(await t.deploymentsWithStatus("succeeded")), [d(1), d(3)]);
      assert.deepEqual(sortIds(await t.deploymentsWithStatus("failed")), [d(2)]);
      assert.deepEqual(await t.deploymentsWithStatus("running"), []);
      const succeeded = await t.deploymentsWithStatus("succeeded");
      assert.deepEqual(succeeded.map((r) => r.revision).sort(), [1, 2]);
      for (const r of succeeded) {
        assert.equal(typeof r.revision, "number");
        assert.equal(typeof r.pid, "number");
      }
      assert.deepEqual(sortIds(await other.deploymentsWithStatus("succeeded")), [d(4), d(5)]);
    });

    test(`${label}: a cancel request is recorded once, seen from another connection (the first request stands)`, opts, async () => {
      const runs = store.runs();
      assert.equal(await runs.cancelRequest("r-cancel"), undefined);
      await runs.requestCancel({ run_id: "r-cancel", requested_at: "2026-01-01T00:00:00.000Z", requested_by: "ann", host: "host-b", reason: "cancelled" });
      await runs.requestCancel({ run_id: "r-cancel", requested_at: "2026-01-01T00:00:01.000Z", requested_by: "bob", host: "host-c", reason: "again" });
      const other = (await openAnother()).runs();
      assert.deepEqual(await other.cancelRequest("r-cancel"), { run_id: "r-cancel", requested_at: "2026-01-01T00:00:00.000Z", requested_by: "ann", host: "host-b", reason: "cancelled" });
    });

    test(`${label}: locks: insert once, read back numbers, renew and delete only with the token`, opts, async () => {
      const p = project("lock");
      const t = store.forTarget(p, "prod");
      const other = store.forTarget(p, "staging");
      assert.equal(await t.getLock(), undefined);

      assert.equal(await t.tryInsertLock(lock("token-a")), true);
      assert.equal(await t.tryInsertLock(lock("token-b", { owner_pid: 2 })), false, "a second holder is refused");
      assert.equal(await other.tryInsertLock(lock("token-c")), true, "another target has its own lock");

      const held = (await t.getLock())!;
      assert.deepEqual(held, { ...lock("token-a"), project: p, target: "prod" });
      assert.equal(typeof held.owner_pid, "number");
      assert.equal(typeof held.expires_at, "number");
      assert.equal(held.expires_at, 1_735_689_630_000);

      assert.equal(await t.renewLock("token-b", "2025-01-01T00:00:10.000Z", 1_735_689_640_000), false, "renew with a wrong token");
      assert.equal((await t.getLock())!.expires_at, 1_735_689_630_000);
      assert.equal(await t.renewLock("token-a", "2025-01-01T00:00:10.000Z", 1_735_689_640_000), true);
      const renewed = (await t.getLock())!;
      assert.equal(renewed.heartbeat_at, "2025-01-01T00:00:10.000Z");
      assert.equal(renewed.expires_at, 1_735_689_640_000);
      assert.equal(renewed.acquired_at, "2025-01-01T00:00:00.000Z");
      assert.equal(renewed.token, "token-a");
      assert.equal(await t.renewLock("token-a", "2025-01-01T00:00:10.000Z", 1_735_689_640_000), true, "renewing with the same values still counts");
      assert.equal(await other.renewLock("token-a", "2025-01-01T00:00:10.000Z", 1), false, "a token does not reach another target's lock");

      assert.equal(await t.deleteLock("token-b"), false, "delete with a wrong token");
      assert.equal((await t.getLock())!.token, "token-a");
      assert.equal(await t.deleteLock("token-a"), true);
      assert.equal(await t.getLock(), undefined);
      assert.equal(await t.deleteLock("token-a"), false, "deleting twice");
      assert.equal(await t.renewLock("token-a", "2025-01-01T00:00:11.000Z", 1), false, "renewing a released lock");
      assert.equal((await other.getLock())!.token, "token-c", "the other target's lock is untouched");

      assert.equal(await t.tryInsertLock(lock("token-b", { expires_at: 4_102_444_800_000 })), true, "free again after delete");
      assert.equal((await t.getLock())!.expires_at, 4_102_444_800_000);
    });

    test(`${label}: locks admit exactly one holder (20 concurrent tryInsertLock calls)`, opts, async () => {
      const t = store.forTarget(project("race"), "prod");
      const tokens = Array.from({ length: 20 }, (_, i) => `race-${i}`);
      const results = await Promise.all(tokens.map((tok, i) => t.tryInsertLock(lock(tok, { owner_pid: 1000 + i }))));
      assert.equal(results.filter(Boolean).length, 1, `exactly one winner, got ${JSON.stringify(results)}`);
      const winner = tokens[results.indexOf(true)]!;
      const held = (await t.getLock())!;
      assert.equal(held.token, winner);
      assert.equal(held.owner_pid, 1000 + results.indexOf(true));
    });

    test(`${label}: locks admit exactly one holder across separate connections (20 calls over 4 stores)`, opts, async () => {
      const p = project("race-multi");
      const stores = [store, await openAnother(), await openAnother(), await openAnother()];
      const tokens = Array.from({ length: 20 }, (_, i) => `race-multi-${i}`);
      const results = await Promise.all(tokens.map((tok, i) => stores[i % stores.length]!.forTarget(p, "prod").tryInsertLock(lock(tok))));
      assert.equal(results.filter(Boolean).length, 1, `exactly one winner, got ${JSON.stringify(results)}`);
      for (const s of stores) assert.equal((await s.forTarget(p, "prod").getLock())!.token, tokens[results.indexOf(true)], "every connection sees the winner");
    });

    test(
      `${label}: ordering does not depend on the database collation`,
      backend.skip ? opts : backend.name === "sqlite" ? { skip: "SQLite always compares text with BINARY unless told otherwise" } : {},
      async () => {
        // Production PostgreSQL servers usually default to a language collation (en_US.UTF-8), not C.
        const where = await backend.createEmpty({ collation: "natural" });
        const s = await backend.open(where);
        try {
          await s.migrate();
          await assertCodeUnitOrder(s.forTarget("p", "t"));
        } finally {
          await s.close();
        }
      },
    );
  });
}

async function assertCodeUnitOrder(t: ReturnType<StateStore["forTarget"]>): Promise<void> {
  const shuffled = [...ORDER_PROBES].reverse();
  for (const addr of shuffled) await t.commitPut(resource(addr));
  for (const key of shuffled) await t.putSetting("core", key, "v", "2025-01-01T00:00:00.000Z");
  await t.putSetting("Core", "x", "v", "2025-01-01T00:00:00.000Z");
  await t.putSetting("core-extra", "x", "v", "2025-01-01T00:00:00.000Z");
  assert.deepEqual(
    (await t.listResources()).map((r) => r.address),
    CODE_UNIT_ORDER,
    "resources in code-unit order",
  );
  assert.deepEqual(
    (await t.listSettings()).map((s) => `${s.module}/${s.key}`),
    ["Core/x", ...CODE_UNIT_ORDER.map((k) => `core/${k}`), "core-extra/x"],
    "settings in code-unit order of (module, key)",
  );
}
