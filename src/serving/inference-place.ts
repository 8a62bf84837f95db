// Where a home's inference table lives, decided by the home's state and nothing else: a home whose
// state is in PostgreSQL (SLIPWAY_HOME/config.yaml `state: { type: postgres, url }`) keeps it in that
// database, shared by every server on it; any other home in its own SQLite file,
// SLIPWAY_HOME/inference.db. No setting of its own: a PostgreSQL home with per-server files would show
// each server's requests only (docs/scale-out.md), and a SQLite home has one server.
import { join } from "node:path";
import { loadHomeConfig } from "../config/home-config.js";
import type { InferencePlace } from "./inference-writer.js";

export type { InferencePlace } from "./inference-writer.js";

export function inferencePlace(home: string, processEnv: Record<string, string | undefined>): InferencePlace {
  const state = loadHomeConfig(home, processEnv).state;
  if (state?.type === "postgres" && typeof state.url === "string") return { type: "postgres", url: state.url };
  return { type: "sqlite", file: join(home, "inference.db") };
}
