// Compute environments and the artifact versions installed in them, per (project, target).
import type { Kysely } from "kysely";
import type { ComputeEnvironmentsTable, ComputeInstallsTable, Database } from "./tables.js";

export type EnvironmentRow = ComputeEnvironmentsTable;
export type InstallRow = ComputeInstallsTable;

export class ComputeStore {
  constructor(
    private readonly db: Kysely<Database>,
    readonly project: string,
    readonly target: string,
  ) {}

  async putEnvironment(row: Omit<EnvironmentRow, "project" | "target">): Promise<void> {
    const full = { ...row, project: this.project, target: this.target };
    const { project, target, name, instance, ...rest } = full;
    await this.db
      .insertInto("compute_environments")
      .values(full)
      .onConflict((oc) => oc.columns(["project", "target", "name", "instance"]).doUpdateSet(rest))
      .execute();
  }

  async getEnvironment(name: string, instance = ""): Promise<EnvironmentRow | undefined> {
    const row = await this.db
      .selectFrom("compute_environments")
      .selectAll()
      .where("project", "=", this.project)
      .where("target", "=", this.target)
      .where("name", "=", name)
      .where("instance", "=", instance)
      .executeTakeFirst();
    return row && normalizeEnvironment(row);
  }

  async listEnvironments(): Promise<EnvironmentRow[]> {
    const rows = await this.db.selectFrom("compute_environments").selectAll().where("project", "=", this.project).where("target", "=", this.target).orderBy("name").orderBy("instance").execute();
    return rows.map(normalizeEnvironment);
  }

  /** Forgets an environment and everything recorded as installed in it, in one transaction. */
  async deleteEnvironment(name: string, instance = ""): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom("compute_installs").where("project", "=", this.project).where("target", "=", this.target).where("environment", "=", name).where("instance", "=", instance).execute();
      await tx.deleteFrom("compute_environments").where("project", "=", this.project).where("target", "=", this.target).where("name", "=", name).where("instance", "=", instance).execute();
    });
  }

  async putInstall(row: Omit<InstallRow, "project" | "target">): Promise<void> {
    const full = { ...row, project: this.project, target: this.target };
    const { project, target, environment, instance, artifact, ...rest } = full;
    await this.db
      .insertInto("compute_installs")
      .values(full)
      .onConflict((oc) => oc.columns(["project", "target", "environment", "instance", "artifact"]).doUpdateSet(rest))
      .execute();
  }

  async deleteInstall(environment: string, instance: string, artifact: string): Promise<void> {
    await this.db
      .deleteFrom("compute_installs")
      .where("project", "=", this.project)
      .where("target", "=", this.target)
      .where("environment", "=", environment)
      .where("instance", "=", instance)
      .where("artifact", "=", artifact)
      .execute();
  }

  async listInstalls(filter: { environment?: string; instance?: string; artifact?: string } = {}): Promise<InstallRow[]> {
    let q = this.db.selectFrom("compute_installs").selectAll().where("project", "=", this.project).where("target", "=", this.target);
    if (filter.environment !== undefined) q = q.where("environment", "=", filter.environment);
    if (filter.instance !== undefined) q = q.where("instance", "=", filter.instance);
    if (filter.artifact !== undefined) q = q.where("artifact", "=", filter.artifact);
    return q.orderBy("environment").orderBy("instance").orderBy("artifact").execute();
  }
}

function normalizeEnvironment(row: EnvironmentRow): EnvironmentRow {
  return { ...row, ephemeral: Number(row.ephemeral) };
}
