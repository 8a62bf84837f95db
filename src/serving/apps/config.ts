// What the server needs to run one app (built by the app kind at deploy, recorded in the app's state
// outputs, handed to the server's admin route, and read back from state when a server starts).
import type { Permission } from "../../config/schema.js";

export interface AppConfig {
  project: string;
  target: string;
  name: string;
  /** Grows by one with each deploy that changes the app. */
  configVersion: number;
  /** The local folder holding the app's bundle (SLIPWAY_HOME/apps/<project>/<target>/<name>/<bundle>). */
  dir: string;
  bundle: string;
  command: string;
  health: string;
  env: Record<string, string>;
  /** Names of `env` entries holding secrets: their values are masked in the app's logs. */
  secretEnv: string[];
  replicas: number;
  startupTimeoutMs: number;
  /** Anyone may use the app without signing in. */
  anonymous: boolean;
  /** Who may use it (CAN_USE or CAN_MANAGE), the owner's CAN_MANAGE included. */
  grants: Permission[];
}

/** The service principal an app speaks as through the API. */
export const appPrincipal = (name: string) => `app-${name}`;
