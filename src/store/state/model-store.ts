// The model registry's rows: immutable versions and movable aliases, per (project, target, model).
import type { Kysely } from "kysely";
import type { AccessTokensTable, Database, ModelAliasesTable, ModelVersionsTable } from "./tables.js";

export type ModelVersionRow = ModelVersionsTable;
export type ModelAliasRow = ModelAliasesTable;
export type AccessTokenRow = AccessTokensTable;

export class ModelStore {
  constructor(
    private readonly db: Kysely<Database>,
    readonly project: string,
    readonly target: string,
  ) {}

  private versionsOf(model?: string) {
    let q = this.db.selectFrom("model_versions").selectAll().where("project", "=", this.project).where("target", "=", this.target);
    if (model) q = q.where("model", "=", model);
    return q;
  }

  /** Adds a version numbered one above the latest, in one transaction; returns the number. */
  async addVersion(input: Omit<ModelVersionRow, "project" | "target" | "version" | "promoted_from"> & { promoted_from?: string | null }): Promise<number> {
    const row = { ...input, promoted_from: input.promoted_from ?? null };
    return this.db.transaction().execute(async (tx) => {
      const latest = await tx
        .selectFrom("model_versions")
        .select((eb) => eb.fn.max("version").as("max"))
        .where("project", "=", this.project)
        .where("target", "=", this.target)
        .where("model", "=", row.model)
        .executeTakeFirst();
      const version = Number(latest?.max ?? 0) + 1;
      await tx.insertInto("model_versions").values({ ...row, project: this.project, target: this.target, version }).execute();
      return version;
    });
  }

  /** The version promoted here from `from` (target and version there), if one was. */
  async promotedFrom(model: string, from: { target: string; version: number }): Promise<ModelVersionRow | undefined> {
    for (const v of await this.versions(model)) {
      const p = v.promoted_from ? (JSON.parse(v.promoted_from) as { target: string; version: number }) : undefined;
      if (p && p.target === from.target && p.version === from.version) return v;
    }
    return undefined;
  }

  async versions(model: string): Promise<ModelVersionRow[]> {
    return (await this.versionsOf(model).orderBy("version", "desc").execute()).map(normalize);
  }

  async version(model: string, version: number): Promise<ModelVersionRow | undefined> {
    const row = await this.versionsOf(model).where("version", "=", version).executeTakeFirst();
    return row && normalize(row);
  }

  /** One row per model: its latest version. */
  async models(): Promise<Array<{ model: string; latest: number; count: number }>> {
    const rows = await this.db
      .selectFrom("model_versions")
      .select(["model", (eb) => eb.fn.max("version").as("latest"), (eb) => eb.fn.countAll().as("count")])
      .where("project", "=", this.project)
      .where("target", "=", this.target)
      .groupBy("model")
      .orderBy("model")
      .execute();
    return rows.map((r) => ({ model: r.model, latest: Number(r.latest), count: Number(r.count) }));
  }

  async aliases(model?: string): Promise<ModelAliasRow[]> {
    let q = this.db.selectFrom("model_aliases").selectAll().where("project", "=", this.project).where("target", "=", this.target);
    if (model) q = q.where("model", "=", model);
    return (await q.orderBy("model").orderBy("alias").execute()).map((a) => ({ ...a, version: Number(a.version) }));
  }

  async setAlias(model: string, alias: string, version: number, at: string): Promise<void> {
    const row = { project: this.project, target: this.target, model, alias, version, updated_at: at };
    await this.db
      .insertInto("model_aliases")
      .values(row)
      .onConflict((oc) => oc.columns(["project", "target", "model", "alias"]).doUpdateSet({ version, updated_at: at }))
      .execute();
  }
}

export class TokenStore {
  constructor(private readonly db: Kysely<Database>) {}

  async add(row: Omit<AccessTokenRow, "expires_at" | "revoked_at"> & Partial<Pick<AccessTokenRow, "expires_at" | "revoked_at">>): Promise<void> {
    await this.db.insertInto("access_tokens").values({ expires_at: null, revoked_at: null, ...row }).execute();
  }

  async find(tokenHash: string): Promise<AccessTokenRow | undefined> {
    return this.db.selectFrom("access_tokens").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
  }

  /**
   * The token's user and groups if it may be used at `at` (not revoked, not expired): the groups it was
   * created with plus the groups its user is a member of.
   */
  async active(tokenHash: string, at: string): Promise<{ user: string; groups: string[] } | undefined> {
    const row = await this.find(tokenHash);
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= at)) return undefined;
    const members = await this.db.selectFrom("group_members").select("group_name").where("member", "=", row.user).orderBy("group_name").execute();
    const groups = [...new Set([...(JSON.parse(row.groups) as string[]), ...members.map((m) => m.group_name)])];
    return { user: row.user, groups };
  }

  /** Every token (newest first), or one user's. */
  async list(user?: string): Promise<AccessTokenRow[]> {
    let q = this.db.selectFrom("access_tokens").selectAll();
    if (user !== undefined) q = q.where("user", "=", user);
    return q.orderBy("created_at", "desc").orderBy("token_hash").execute();
  }

  /** Revokes one token (by its hash); revoking a revoked token keeps its first revocation time. */
  async revoke(tokenHash: string, at: string): Promise<void> {
    await this.db.updateTable("access_tokens").set({ revoked_at: at }).where("token_hash", "=", tokenHash).where("revoked_at", "is", null).execute();
  }
}

function normalize(r: ModelVersionRow): ModelVersionRow {
  return { ...r, version: Number(r.version) };
}
