// Target-wide TTLs in the state database: each target's clock and the state of its deletion, and the
// notifications sent for it. Changes that race (a deploy restarting the clock while a server deletes,
// two servers sending one notification) are single guarded statements: an UPDATE that names the
// generation it expects, an INSERT … ON CONFLICT DO NOTHING as the claim of a delivery.
import type { Kysely } from "kysely";
import type { Database, TargetTtlDeliveriesTable, TargetTtlsTable } from "./tables.js";

export type TargetTtlRow = TargetTtlsTable;
export type TtlDeliveryRow = TargetTtlDeliveriesTable;

export class TtlStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(project: string, target: string): Promise<TargetTtlRow | undefined> {
    const row = await this.db.selectFrom("target_ttls").selectAll().where("project", "=", project).where("target", "=", target).executeTakeFirst();
    return row && normalize(row);
  }

  /** Targets whose TTL still counts down or retries its deletion, every project. */
  async open(): Promise<TargetTtlRow[]> {
    const rows = await this.db.selectFrom("target_ttls").selectAll().where("status", "in", ["armed", "retrying"]).orderBy("project").orderBy("target").execute();
    return rows.map(normalize);
  }

  /**
   * A deploy restarts the clock: the row gets the new deploy's time, settings and a new generation (a
   * deletion planned for the previous one no longer applies); pins stay, extensions are dropped.
   */
  async restart(row: Omit<TargetTtlRow, "generation" | "extended_ms" | "pinned_by" | "pinned_at" | "status" | "attempts" | "next_attempt_ms" | "last_error" | "finished_at">): Promise<TargetTtlRow> {
    const previous = await this.get(row.project, row.target);
    const fresh: TargetTtlRow = {
      ...row,
      generation: (previous?.generation ?? 0) + 1,
      extended_ms: 0,
      pinned_by: previous?.pinned_by ?? null,
      pinned_at: previous?.pinned_at ?? null,
      status: "armed",
      attempts: 0,
      next_attempt_ms: null,
      last_error: null,
      finished_at: null,
    };
    const { project, target, ...rest } = fresh;
    await this.db.insertInto("target_ttls").values(fresh).onConflict((oc) => oc.columns(["project", "target"]).doUpdateSet(rest)).execute();
    return fresh;
  }

  async remove(project: string, target: string): Promise<void> {
    await this.db.deleteFrom("target_ttls").where("project", "=", project).where("target", "=", target).execute();
  }

  /** Changes the row only while it is still this generation; tells whether it did. */
  async update(project: string, target: string, generation: number, fields: Partial<Omit<TargetTtlRow, "project" | "target">>): Promise<boolean> {
    const r = await this.db.updateTable("target_ttls").set(fields).where("project", "=", project).where("target", "=", target).where("generation", "=", generation).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Claims one delivery (event, channel) of a generation: true when this call inserted it (the caller sends). */
  async claimDelivery(row: TtlDeliveryRow): Promise<boolean> {
    const r = await this.db.insertInto("target_ttl_deliveries").values(row).onConflict((oc) => oc.columns(["project", "target", "generation", "event", "channel"]).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async settleDelivery(key: Pick<TtlDeliveryRow, "project" | "target" | "generation" | "event" | "channel">, fields: Pick<TtlDeliveryRow, "status" | "attempts" | "error" | "at">): Promise<void> {
    await this.db
      .updateTable("target_ttl_deliveries")
      .set(fields)
      .where("project", "=", key.project)
      .where("target", "=", key.target)
      .where("generation", "=", key.generation)
      .where("event", "=", key.event)
      .where("channel", "=", key.channel)
      .execute();
  }

  /** The deliveries of a target's generation, in the order they were claimed. */
  async deliveries(project: string, target: string, generation: number): Promise<TtlDeliveryRow[]> {
    const rows = await this.db.selectFrom("target_ttl_deliveries").selectAll().where("project", "=", project).where("target", "=", target).where("generation", "=", generation).orderBy("at").orderBy("event").orderBy("channel").execute();
    return rows.map((r) => ({ ...r, generation: Number(r.generation), channel: Number(r.channel), attempts: Number(r.attempts) }));
  }
}

function normalize(r: TargetTtlRow): TargetTtlRow {
  return {
    ...r,
    generation: Number(r.generation),
    due_ms: Number(r.due_ms),
    extended_ms: Number(r.extended_ms),
    attempts: Number(r.attempts),
    next_attempt_ms: r.next_attempt_ms === null ? null : Number(r.next_attempt_ms),
  };
}
