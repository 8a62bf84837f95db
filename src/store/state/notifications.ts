// Changes a state database announces to the processes listening on it (PostgreSQL's LISTEN/NOTIFY).
// SQLite announces nothing: its readers look again on a timer.

/** An endpoint's record was inserted, changed or deleted (payload "project/target"); see migration 0012. */
export const ENDPOINT_CHANGES = "slipway_endpoints";

export interface StateNotifications {
  /**
   * Calls `onChange` whenever a change on `channel` is committed. Resolves once listening, with a
   * function that stops. A lost connection is opened again; `onChange` is then called once, since
   * changes made meanwhile were not heard.
   */
  listen(channel: string, onChange: () => void, onError: (e: Error) => void): Promise<() => Promise<void>>;
}
