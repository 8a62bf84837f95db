// Several servers on one state database (PostgreSQL) serve the same endpoints, each with its own model
// processes. A deploy hands an endpoint to one server (the server it runs in, or this home's); the
// others learn of it from the state: every server looks at the recorded endpoints every few seconds
// (SLIPWAY_ENDPOINT_SYNC_MS) and follows what changed there since it last looked — a new or changed
// record is applied (its model files fetched into this home's model folders from the archive the
// deploy recorded), a record gone is removed.
//
// Only changes of the *record* are followed, never the difference between the record and what is
// served: the server that runs a deploy serves the new configuration before the deploy records it,
// serves nothing any more while a destroy is still archiving, and serves a rollout's intermediate
// split under the same record. Reacting to those differences would undo them. So a server told
// directly to serve or stop an endpoint (`told`) takes the record of that moment as seen, and a look
// that was under way meanwhile leaves that endpoint alone: else a destroy's removal could be undone by
// a look that had not seen the record yet, and a deploy's new configuration by one that read the old.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { blobStoreAt } from "../store/blobs/open-blob-store.js";
import type { StateStore } from "../store/state/state-store.js";
import { localModelDir, modelDirOf } from "./control.js";
import type { EndpointConfig, Endpoints } from "./endpoints.js";

/** An endpoint as the state records it: its configuration, when it was deployed, where its model files are archived. */
export interface RecordedEndpoint {
  config: EndpointConfig;
  deployedAt?: string;
  modelsRoot?: string;
}

export async function recordedEndpoints(state: StateStore): Promise<RecordedEndpoint[]> {
  return (await state.resourcesOfKind("endpoint")).flatMap((r) => {
    const config = r.outputs.config as EndpointConfig | undefined;
    if (!config) return [];
    return [{ config, deployedAt: typeof r.outputs.deployed_at === "string" ? r.outputs.deployed_at : undefined, modelsRoot: typeof r.outputs.models_root === "string" ? r.outputs.models_root : undefined }];
  });
}

/** What identifies one deploy's record of an endpoint (a redeploy changes it, a destroy and create too). */
const stampOf = (r: RecordedEndpoint) => `${r.config.project}/${r.config.target}#${r.config.configVersion}@${r.deployedAt ?? ""}`;

export interface EndpointSyncOptions {
  home: string;
  state: StateStore;
  endpoints: Endpoints;
  log(line: string): void;
  /** After an endpoint was removed (the server flushes its inference log). */
  onRemoved?(): Promise<void>;
}

export class EndpointSync {
  /** The record of each endpoint as last seen, by name. */
  private seen = new Map<string, string>();
  /** How many times this server was told directly about each endpoint (a look compares before and after). */
  private told_ = new Map<string, number>();

  constructor(private readonly o: EndpointSyncOptions) {}

  /** The records being restored at start count as seen: only later changes are followed. */
  remember(records: readonly RecordedEndpoint[]): void {
    this.seen = new Map(records.map((r) => [r.config.name, stampOf(r)]));
  }

  /**
   * A deploy or destroy through this server is serving or stopping `name` itself: call before it does
   * (a look under way leaves the endpoint alone), and await after (the record as it is now counts as
   * seen, so only a later change of it is followed).
   */
  told(name: string): () => Promise<void> {
    this.told_.set(name, (this.told_.get(name) ?? 0) + 1);
    return async () => {
      const record = (await recordedEndpoints(this.o.state)).find((r) => r.config.name === name);
      if (record) this.seen.set(name, stampOf(record));
      else this.seen.delete(name);
    };
  }

  /**
   * The configuration as this server serves it: each version's files in this home's model folder.
   * A record made by another home's server names that home's folder; the files come from the archive
   * the deploy recorded (`models_root`), once. Records without one (made before it was recorded) are
   * served from the folder they name.
   */
  async localize(r: RecordedEndpoint): Promise<EndpointConfig> {
    const { config } = r;
    const served = await Promise.all(
      config.served.map(async (s) => {
        const where = { project: config.project, target: config.target, model: s.model, version: s.version };
        const local = modelDirOf(this.o.home, where);
        if (s.dir === local || !r.modelsRoot) return s;
        if (existsSync(join(local, ".complete"))) return { ...s, dir: local };
        const version = await this.o.state.models(config.project, config.target).version(s.model, s.version);
        if (!version) throw new Error(`model version ${s.model}@${s.version} of ${config.project}/${config.target} is not in the state`);
        return { ...s, dir: await localModelDir(this.o.home, where, JSON.parse(version.files) as Record<string, string>, blobStoreAt(r.modelsRoot)) };
      }),
    );
    return { ...config, served };
  }

  /** One look at the state: applies new or changed records, removes the endpoints whose record is gone. */
  async pass(): Promise<{ applied: string[]; removed: string[] }> {
    const toldBefore = new Map(this.told_);
    const records = await recordedEndpoints(this.o.state);
    const out = { applied: [] as string[], removed: [] as string[] };
    const now = new Map(records.map((r) => [r.config.name, stampOf(r)]));
    for (const r of records) {
      const { name } = r.config;
      const stamp = now.get(name)!;
      if (this.seen.get(name) === stamp) continue;
      const live = this.o.endpoints.get(name);
      // The server that ran the deploy serves this configuration already.
      const current = live && live.config.project === r.config.project && live.config.target === r.config.target && live.config.configVersion === r.config.configVersion;
      if (!current) {
        try {
          const config = await this.localize(r);
          // Fetching model files takes a while: the record may have changed or gone meanwhile.
          const still = (await recordedEndpoints(this.o.state)).find((x) => x.config.name === name);
          if (!still || stampOf(still) !== stamp) continue;
          // A deploy or destroy through this server dealt with it meanwhile (and took the record as seen).
          if (this.told_.get(name) !== toldBefore.get(name)) continue;
          await this.o.endpoints.apply(config);
          out.applied.push(name);
          this.o.log(`endpoint sync: serving ${name} of ${r.config.project}/${r.config.target} (config ${r.config.configVersion}) as recorded in the state`);
        } catch (e) {
          this.o.log(`endpoint sync: could not serve ${name} of ${r.config.project}/${r.config.target}: ${(e as Error).message}`);
        }
      }
      this.seen.set(name, stamp);
    }
    for (const [name] of this.seen) {
      if (now.has(name)) continue;
      this.seen.delete(name);
      if (!this.o.endpoints.get(name)) continue;
      await this.o.endpoints.remove(name);
      out.removed.push(name);
      this.o.log(`endpoint sync: stopped serving ${name}: its record is gone from the state`);
    }
    if (out.removed.length) await this.o.onRemoved?.();
    return out;
  }
}
