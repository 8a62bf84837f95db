// Team backend: PostgreSQL through the same Kysely queries and migrations as SQLite.
import { createRequire } from "node:module";
import { Kysely, PostgresDialect } from "kysely";
import type { StateNotifications } from "../notifications.js";
import { StateStore } from "../state-store.js";
import type { Database as Schema } from "../tables.js";

/** How long a lost listening connection waits before it is opened again. */
const RELISTEN_MS = 1_000;

export async function openPostgresState(connectionString: string): Promise<StateStore> {
  // Loaded only for targets that use PostgreSQL (require, not import(): the CLI bundle is CommonJS).
  const pg = createRequire(import.meta.url)("pg") as typeof import("pg");
  // bigint columns (lease expiry) come back as numbers; they stay far below 2^53.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString, max: 4 });
  // An idle connection the server closed (restart, admin command) is replaced by the pool on next use;
  // without a listener, pg would raise it as an uncaught error and end the process.
  pool.on("error", () => {});
  return new StateStore(new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }), "postgres", undefined, listener(pg, connectionString));
}

/** LISTEN on a connection of its own (a pooled one goes back to the pool and stops hearing). */
function listener(pg: typeof import("pg"), connectionString: string): StateNotifications {
  return {
    async listen(channel, onChange, onError) {
      let stopped = false;
      let client: import("pg").Client | undefined;
      let retry: NodeJS.Timeout | undefined;
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ connectionString });
        c.on("notification", (n) => {
          if (n.channel === channel) onChange();
        });
        c.on("error", (e) => {
          // The connection is gone (server restart, network): listen again on a new one.
          if (stopped || client !== c) return;
          onError(e);
          client = undefined;
          c.end().catch(() => {});
          retry = setTimeout(reconnect, RELISTEN_MS);
          retry.unref();
        });
        try {
          await c.connect();
          // A channel name is an identifier: quoted, it is taken as written.
          await c.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
        } catch (e) {
          // Not listening: this connection is of no use (and must not stay open).
          await c.end().catch(() => {});
          throw e;
        }
        client = c;
      };
      const reconnect = () => {
        if (stopped) return;
        connect()
          .then(() => onChange())
          .catch((e: Error) => {
            onError(e);
            retry = setTimeout(reconnect, RELISTEN_MS);
            retry.unref();
          });
      };
      await connect();
      return async () => {
        stopped = true;
        clearTimeout(retry);
        await client?.end().catch(() => {});
      };
    },
  };
}
