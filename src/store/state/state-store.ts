// The state database behind one query layer (Kysely), the same for SQLite and PostgreSQL.
import { Kysely, Migrator, sql, type Transaction } from "kysely";
import type { RecordedResource, ResourceKind } from "../../resources.js";
import { migrationProvider } from "./migrations/index.js";
import { ComputeStore } from "./compute-store.js";
import { RunStore } from "./run-store.js";
import { ModelStore, TokenStore } from "./model-store.js";
import { BackgroundStore } from "./background-store.js";
import { PipelineStore } from "./pipeline-store.js";
import { TtlStore } from "./ttl-store.js";
import type { StateNotifications } from "./notifications.js";
import type { Database, DeploymentsTable, JournalTable, LocksTable, ResourcesTable, SettingsTable } from "./tables.js";

export type DeploymentRow = DeploymentsTable;
export type JournalRow = JournalTable;
export type LockRow = LocksTable;
export interface SettingRow {
  module: string;
  key: string;
  value: string;
}

/**
 * Runs `fn` holding the database's migration lock. SQLite passes one (an exclusive write transaction,
 * see sqlite-state.ts); PostgreSQL needs none here, Kysely's migrator takes an advisory lock there.
 */
export type MigrationLock = <T>(fn: () => Promise<T>) => Promise<T>;

export class StateStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: "sqlite" | "postgres",
    private readonly migrationLock?: MigrationLock,
    private readonly notifications?: StateNotifications,
  ) {}

  /** Calls `onChange` when a change on `channel` (notifications.ts) is committed; undefined when this database announces none (SQLite). */
  listen(channel: string, onChange: () => void, onError: (e: Error) => void): Promise<() => Promise<void>> | undefined {
    return this.notifications?.listen(channel, onChange, onError);
  }

  /**
   * Brings the schema up to date. Safe when many processes open a fresh database at once: migrations
   * run under a lock (on SQLite an exclusive transaction that also holds Kysely's bookkeeping), and a
   * process that waited finds them applied. Up to date already: one read, no lock.
   */
  async migrate(): Promise<void> {
    const provider = migrationProvider(this.dialect);
    if (await this.upToDate(Object.keys(await provider.getMigrations()))) return;
    const run = async () => {
      // Inside the SQLite lock the whole run is already one transaction; Kysely must not open another.
      // Unordered: migrations made on parallel branches (0005, 0006) apply in any order they arrive in.
      const migrator = new Migrator({ db: this.db, provider, disableTransactions: this.migrationLock !== undefined, allowUnorderedMigrations: true });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === "Error");
        throw new Error(`state migration ${failed?.migrationName ?? ""} failed: ${(error as Error).message ?? error}`);
      }
    };
    await (this.migrationLock ? this.migrationLock(run) : run());
  }

  private async upToDate(names: string[]): Promise<boolean> {
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(this.db);
      const done = new Set(rows.map((r) => r.name));
      return names.every((n) => done.has(n));
    } catch {
      return false; // no bookkeeping table yet: a fresh database
    }
  }

  /** Runs of jobs, across targets (a run id is unique). */
  runs(): RunStore {
    return new RunStore(this.db);
  }

  /** Every recorded resource of one kind, across projects and targets (the server loads endpoints). */
  async resourcesOfKind(kind: string): Promise<Array<RecordedResource & { project: string; target: string }>> {
    const rows = await this.db.selectFrom("resources").selectAll().where("kind", "=", kind).orderBy("project").orderBy("target").orderBy("address").execute();
    return rows.map((r) => ({ ...toRecorded(r), project: r.project, target: r.target }));
  }

  /** How many resources of a kind are recorded and the latest change among them: unchanged means the same set (a cheap check before reloading them). */
  async kindFingerprint(kind: string): Promise<string> {
    const row = await this.db
      .selectFrom("resources")
      .select((eb) => [eb.fn.countAll().as("n"), eb.fn.max("updated_at").as("latest")])
      .where("kind", "=", kind)
      .executeTakeFirst();
    return `${Number(row?.n ?? 0)}|${row?.latest ?? ""}`;
  }

  /** The model registry of one (project, target). */
  models(project: string, target: string): ModelStore {
    return new ModelStore(this.db, project, target);
  }

  /** Access tokens for endpoints (shared by every project in this state store). */
  tokens(): TokenStore {
    return new TokenStore(this.db);
  }

  /** Compute environments of one (project, target) and what is installed in them. */
  compute(project: string, target: string): ComputeStore {
    return new ComputeStore(this.db, project, target);
  }

  /** Schedules' fire times and pauses, leases on background work, each loop's last and next run. */
  background(): BackgroundStore {
    return new BackgroundStore(this.db);
  }

  /** Release pipelines' runs, stages, approvals, notifications, slots and git heads. */
  pipelines(): PipelineStore {
    return new PipelineStore(this.db);
  }

  /** Target-wide TTLs: each target's clock, pins, deletion attempts and notifications. */
  ttl(): TtlStore {
    return new TtlStore(this.db);
  }

  forTarget(project: string, target: string): TargetState {
    return new TargetState(this.db, project, target);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** State of one (project, target). */
export class TargetState {
  /**
   * Inside `atomically` (deferSettings): settings written and not sent yet, by module and key (the
   * last value wins). They go out as multi-row upserts before any other settings statement and at
   * the end of the transaction, so nothing in it sees the difference: a first deploy of 10,000
   * settings makes 50 statements instead of 10,000.
   */
  private pendingSettings?: Map<string, SettingsTable>;

  constructor(
    private readonly db: Kysely<Database>,
    readonly project: string,
    readonly target: string,
    deferSettings = false,
  ) {
    if (deferSettings) this.pendingSettings = new Map();
  }

  private scoped<T extends "resources" | "settings" | "deployments" | "locks">(table: T) {
    return this.db.selectFrom(table as "resources").where("project", "=", this.project).where("target", "=", this.target);
  }

  // Resources

  async listResources(): Promise<RecordedResource[]> {
    const rows = await this.scoped("resources").selectAll().orderBy("address").execute();
    return rows.map(toRecorded);
  }

  /** Rewrites a recorded resource's outputs (e.g. an endpoint's last-deploy time on a redeploy). */
  async setOutputs(addressToUpdate: string, outputs: Record<string, unknown>): Promise<void> {
    await this.db.updateTable("resources").set({ outputs: JSON.stringify(outputs) }).where("project", "=", this.project).where("target", "=", this.target).where("address", "=", addressToUpdate).execute();
  }

  /** Records a resource and closes its journal entry in one transaction. */
  async commitPut(resource: RecordedResource, journal?: { deploymentId: string; seq: number; at: string }): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await upsertResource(tx, this.project, this.target, resource);
      if (journal) await closeJournal(tx, journal.deploymentId, journal.seq, "done", journal.at, null);
    });
  }

  /**
   * Runs `fn` on this target's state inside one transaction: everything it writes is committed
   * together, or nothing is (the engine applies state-only actions this way, see engine/apply.ts).
   * Inside, `putResources` and `forgetResource` record without a journal: the transaction is the unit.
   */
  async atomically<T>(fn: (state: TargetState) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (tx) => {
      const state = new TargetState(tx, this.project, this.target, true);
      const result = await fn(state);
      await state.flushSettings();
      return result;
    });
  }

  /** Records many resources with multi-row statements (no journal; see `atomically`). */
  async putResources(resources: readonly RecordedResource[]): Promise<void> {
    // 13 columns a row: 200 rows stay far below SQLite's and PostgreSQL's limits on bound parameters.
    for (let i = 0; i < resources.length; i += 200) {
      const rows = resources.slice(i, i + 200).map((r) => resourceRow(this.project, this.target, r));
      await this.db
        .insertInto("resources")
        .values(rows)
        .onConflict((oc) =>
          oc.columns(["project", "target", "address"]).doUpdateSet((eb) => ({
            kind: eb.ref("excluded.kind"),
            name: eb.ref("excluded.name"),
            module: eb.ref("excluded.module"),
            phase: eb.ref("excluded.phase"),
            spec_hash: eb.ref("excluded.spec_hash"),
            spec: eb.ref("excluded.spec"),
            depends_on: eb.ref("excluded.depends_on"),
            outputs: eb.ref("excluded.outputs"),
            updated_at: eb.ref("excluded.updated_at"),
          })),
        )
        .execute();
    }
  }

  /** Forgets a resource (no journal; see `atomically`). */
  async forgetResource(addressToDelete: string): Promise<void> {
    await this.db.deleteFrom("resources").where("project", "=", this.project).where("target", "=", this.target).where("address", "=", addressToDelete).execute();
  }

  /** Forgets a resource and closes its journal entry in one transaction. */
  async commitDelete(addressToDelete: string, journal?: { deploymentId: string; seq: number; at: string }): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom("resources").where("project", "=", this.project).where("target", "=", this.target).where("address", "=", addressToDelete).execute();
      if (journal) await closeJournal(tx, journal.deploymentId, journal.seq, "done", journal.at, null);
    });
  }

  // Settings

  async putSetting(module: string, key: string, value: string, at: string): Promise<void> {
    const row = { project: this.project, target: this.target, module, key, value, updated_at: at };
    if (this.pendingSettings) {
      // JSON of the pair: module and key may hold any character, a separator could collide.
      this.pendingSettings.set(JSON.stringify([module, key]), row);
      return;
    }
    await this.db
      .insertInto("settings")
      .values(row)
      .onConflict((oc) => oc.columns(["project", "target", "module", "key"]).doUpdateSet({ value, updated_at: at }))
      .execute();
  }

  /** Sends the settings `putSetting` deferred (see pendingSettings); a no-op outside `atomically`. */
  async flushSettings(): Promise<void> {
    if (!this.pendingSettings?.size) return;
    const rows = [...this.pendingSettings.values()];
    this.pendingSettings.clear();
    // 6 columns a row; one row per (module, key) in a statement, which PostgreSQL's upsert requires.
    for (let i = 0; i < rows.length; i += 500) {
      await this.db
        .insertInto("settings")
        .values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.columns(["project", "target", "module", "key"]).doUpdateSet((eb) => ({ value: eb.ref("excluded.value"), updated_at: eb.ref("excluded.updated_at") })))
        .execute();
    }
  }

  async deleteSetting(module: string, key: string): Promise<void> {
    await this.flushSettings();
    await this.db.deleteFrom("settings").where("project", "=", this.project).where("target", "=", this.target).where("module", "=", module).where("key", "=", key).execute();
  }

  async listSettings(module?: string): Promise<SettingRow[]> {
    await this.flushSettings();
    let q = this.db.selectFrom("settings").select(["module", "key", "value"]).where("project", "=", this.project).where("target", "=", this.target);
    if (module) q = q.where("module", "=", module);
    return q.orderBy("module").orderBy("key").execute();
  }

  // Deployments and revisions

  async createDeployment(row: Omit<DeploymentRow, "project" | "target">): Promise<void> {
    await this.db.insertInto("deployments").values({ ...row, project: this.project, target: this.target }).execute();
  }

  async updateDeployment(id: string, fields: Partial<Omit<DeploymentRow, "id" | "project" | "target">>): Promise<void> {
    await this.db.updateTable("deployments").set(fields).where("id", "=", id).execute();
  }

  async nextRevision(): Promise<number> {
    const row = await this.db
      .selectFrom("deployments")
      .select((eb) => eb.fn.max("revision").as("max"))
      .where("project", "=", this.project)
      .where("target", "=", this.target)
      .executeTakeFirst();
    return Number(row?.max ?? 0) + 1;
  }

  /**
   * The newest deployments first. Revisions are listed by number, never by start time (clocks move:
   * a revision started "earlier" by a stepped clock is still newer). Deployments that recorded no
   * revision (failed, interrupted, running) are placed among them by start time.
   */
  async listDeployments(limit = 100): Promise<DeploymentRow[]> {
    const base = () => this.db.selectFrom("deployments").selectAll().where("project", "=", this.project).where("target", "=", this.target);
    const [revisions, others] = await Promise.all([
      base().where("revision", "is not", null).orderBy("revision", "desc").limit(limit).execute(),
      base().where("revision", "is", null).orderBy("started_at", "desc").orderBy("id", "desc").limit(limit).execute(),
    ]);
    const merged: typeof revisions = [];
    let i = 0;
    let j = 0;
    while (merged.length < limit && (i < revisions.length || j < others.length)) {
      const r = revisions[i];
      const o = others[j];
      if (r && (!o || r.started_at >= o.started_at)) {
        merged.push(r);
        i++;
      } else {
        merged.push(o!);
        j++;
      }
    }
    return merged.map(normalizeDeployment);
  }

  /** The user of the target's first deployment (the target's owner when no server recorded one), or null. */
  async firstDeployer(): Promise<string | null> {
    const row = await this.db.selectFrom("deployments").select("user").where("project", "=", this.project).where("target", "=", this.target).orderBy("started_at").orderBy("id").limit(1).executeTakeFirst();
    return row?.user ?? null;
  }

  async deploymentsWithStatus(status: string): Promise<DeploymentRow[]> {
    const rows = await this.db.selectFrom("deployments").selectAll().where("project", "=", this.project).where("target", "=", this.target).where("status", "=", status).execute();
    return rows.map(normalizeDeployment);
  }

  async getRevision(revision: number): Promise<DeploymentRow | undefined> {
    const row = await this.db.selectFrom("deployments").selectAll().where("project", "=", this.project).where("target", "=", this.target).where("revision", "=", revision).executeTakeFirst();
    return row && normalizeDeployment(row);
  }

  async latestRevision(): Promise<DeploymentRow | undefined> {
    const row = await this.db
      .selectFrom("deployments")
      .selectAll()
      .where("project", "=", this.project)
      .where("target", "=", this.target)
      .where("revision", "is not", null)
      .orderBy("revision", "desc")
      .limit(1)
      .executeTakeFirst();
    return row && normalizeDeployment(row);
  }

  // Journal

  async journalStart(row: Omit<JournalRow, "status" | "finished_at" | "error" | "child_pid">): Promise<void> {
    await this.db.insertInto("journal").values({ ...row, status: "started", finished_at: null, error: null, child_pid: null }).execute();
  }

  async journalChild(deploymentId: string, seq: number, pid: number | null): Promise<void> {
    await this.db.updateTable("journal").set({ child_pid: pid }).where("deployment_id", "=", deploymentId).where("seq", "=", seq).execute();
  }

  async journalFail(deploymentId: string, seq: number, at: string, error: string): Promise<void> {
    await closeJournal(this.db, deploymentId, seq, "failed", at, error);
  }

  async openJournalEntries(deploymentId: string): Promise<JournalRow[]> {
    const rows = await this.db.selectFrom("journal").selectAll().where("deployment_id", "=", deploymentId).where("status", "=", "started").execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), child_pid: r.child_pid === null ? null : Number(r.child_pid) }));
  }

  async journal(deploymentId: string): Promise<JournalRow[]> {
    const rows = await this.db.selectFrom("journal").selectAll().where("deployment_id", "=", deploymentId).orderBy("seq").execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), child_pid: r.child_pid === null ? null : Number(r.child_pid) }));
  }

  // Locks (leases). Each statement is atomic on its own, so no dialect-specific locking is needed.

  async tryInsertLock(row: Omit<LockRow, "project" | "target">): Promise<boolean> {
    const result = await this.db
      .insertInto("locks")
      .values({ ...row, project: this.project, target: this.target })
      .onConflict((oc) => oc.columns(["project", "target"]).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async getLock(): Promise<LockRow | undefined> {
    const row = await this.db.selectFrom("locks").selectAll().where("project", "=", this.project).where("target", "=", this.target).executeTakeFirst();
    return row && { ...row, owner_pid: Number(row.owner_pid), expires_at: Number(row.expires_at) };
  }

  /** Deletes the lock only if it is still the one identified by `token`. */
  async deleteLock(token: string): Promise<boolean> {
    const r = await this.db.deleteFrom("locks").where("project", "=", this.project).where("target", "=", this.target).where("token", "=", token).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async renewLock(token: string, heartbeatAt: string, expiresAt: number): Promise<boolean> {
    const r = await this.db.updateTable("locks").set({ heartbeat_at: heartbeatAt, expires_at: expiresAt }).where("project", "=", this.project).where("target", "=", this.target).where("token", "=", token).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}

function resourceRow(project: string, target: string, resource: RecordedResource) {
  return {
    project,
    target,
    address: resource.address,
    kind: resource.kind,
    name: resource.name,
    module: resource.module,
    phase: resource.phase,
    spec_hash: resource.specHash,
    spec: JSON.stringify(resource.spec),
    depends_on: JSON.stringify(resource.dependsOn),
    outputs: JSON.stringify(resource.outputs),
    created_at: resource.createdAt,
    updated_at: resource.updatedAt,
  };
}

async function upsertResource(db: Kysely<Database> | Transaction<Database>, project: string, target: string, resource: RecordedResource): Promise<void> {
  const row = resourceRow(project, target, resource);
  await db
    .insertInto("resources")
    .values(row)
    .onConflict((oc) => oc.columns(["project", "target", "address"]).doUpdateSet({ ...row, created_at: (eb) => eb.ref("resources.created_at") }))
    .execute();
}

async function closeJournal(db: Kysely<Database> | Transaction<Database>, deploymentId: string, seq: number, status: string, at: string, error: string | null): Promise<void> {
  await db.updateTable("journal").set({ status, finished_at: at, error }).where("deployment_id", "=", deploymentId).where("seq", "=", seq).execute();
}

function toRecorded(r: ResourcesTable): RecordedResource {
  return {
    address: r.address,
    kind: r.kind as ResourceKind,
    name: r.name,
    module: r.module,
    phase: Number(r.phase),
    spec: JSON.parse(r.spec),
    specHash: r.spec_hash,
    dependsOn: JSON.parse(r.depends_on),
    outputs: JSON.parse(r.outputs),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function normalizeDeployment(row: DeploymentRow): DeploymentRow {
  return { ...row, revision: row.revision === null ? null : Number(row.revision), pid: Number(row.pid) };
}
