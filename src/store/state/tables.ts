// Row types of the state database, shared by every dialect (Kysely's `DB` type).

export interface ResourcesTable {
  project: string;
  target: string;
  address: string;
  kind: string;
  name: string;
  module: string;
  phase: number;
  spec_hash: string;
  spec: string; // JSON
  depends_on: string; // JSON array of addresses
  outputs: string; // JSON
  created_at: string;
  updated_at: string;
}

export interface DeploymentsTable {
  id: string;
  project: string;
  target: string;
  /** deploy | destroy | rollback */
  operation: string;
  /** running | succeeded | failed | interrupted */
  status: string;
  /** Set when the deployment succeeded and changed the recorded state. */
  revision: number | null;
  user: string;
  host: string;
  pid: number;
  started_at: string;
  finished_at: string | null;
  /** JSON: counts per action. */
  summary: string;
  /** Blob key of the state snapshot after a successful deployment. */
  snapshot: string | null;
  /** Hash of the recorded state after the deployment (addresses + spec hashes). */
  state_hash: string | null;
  error: string | null;
  /** JSON: options the deployment ran with (phase, modules, rollback_to). */
  options: string;
}

export interface JournalTable {
  deployment_id: string;
  seq: number;
  address: string;
  action: string;
  /** started | done | failed */
  status: string;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  /** Process group of a script the action started, so a crashed apply can stop its orphans. */
  child_pid: number | null;
}

export interface SettingsTable {
  project: string;
  target: string;
  module: string;
  key: string;
  value: string;
  updated_at: string;
}

export interface LocksTable {
  project: string;
  target: string;
  token: string;
  operation: string;
  owner_user: string;
  owner_host: string;
  owner_pid: number;
  acquired_at: string;
  heartbeat_at: string;
  /** Epoch milliseconds, compared in code so both dialects behave the same. */
  expires_at: number;
}

export interface Database {
  resources: ResourcesTable;
  deployments: DeploymentsTable;
  journal: JournalTable;
  settings: SettingsTable;
  locks: LocksTable;
}
