// The home's own backends: `SLIPWAY_HOME/config.yaml` names where this home keeps its state, blobs and
// runs, so a team moves to PostgreSQL, an S3-compatible store or a Slurm cluster without touching any
// project file (like Terraform's backend configuration given outside the module):
//
//   state: { type: postgres, url: "${env.SLIPWAY_PG_URL}" }
//   blobs: { type: s3, bucket: slipway, prefix: team/, endpoint: http://s3.internal:8080 }
//   executor: { type: slurm, partition: batch }
//
// `state` is the home's state database: the server opens it (identity, audit, background work,
// endpoints), and every target that does not name its own `state` uses it. `blobs` and `executor` are
// the defaults of targets that do not name their own. A target's own setting always wins.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { InvalidInputError, type Diagnostic } from "../errors.js";
import { validateAgainst } from "./diagnose.js";
import { backend, blobsBackend, executorSchema, type TargetConfig } from "./schema.js";
import { parseYamlWithPositions, readProjectFile, type PathSegment } from "./yaml-source.js";

export const HOME_CONFIG_FILE = "config.yaml";

const homeConfigSchema = z
  .strictObject({
    state: backend.optional().describe("The home's state database, e.g. { type: postgres, url: ${env.SLIPWAY_PG_URL} }; default: SQLite at SLIPWAY_HOME/state.db"),
    blobs: blobsBackend.optional().describe("Blobs of targets that do not name theirs; default: SLIPWAY_HOME/blobs"),
    executor: executorSchema.optional().describe("Executor of targets that do not name theirs; default: local"),
  })
  .describe("SLIPWAY_HOME/config.yaml: this home's backends");

/** The backends a home names (each absent when the home uses the default). */
export type HomeConfig = Pick<TargetConfig, "state" | "blobs" | "executor">;

// Only ${env.NAME}: a home belongs to no project or target, so nothing else could be meant.
const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const ENV_NAME = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/;

const cache = new Map<string, { stamp: string; config: HomeConfig }>();

/**
 * Reads SLIPWAY_HOME/config.yaml (an empty config when it does not exist). Problems are an
 * InvalidInputError (`invalid_home_config`) with file:line:column. Read again only when the file changes.
 */
export function loadHomeConfig(home: string, env: Record<string, string | undefined>): HomeConfig {
  const file = join(home, HOME_CONFIG_FILE);
  if (!existsSync(file)) return {};
  const st = statSync(file);
  const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
  const hit = cache.get(file);
  if (hit && hit.stamp === stamp) return hit.config;
  const read = readProjectFile(file, file);
  if ("problem" in read) throw new InvalidInputError([read.problem], "invalid_home_config");
  const diagnostics: Diagnostic[] = [];
  const parsed = parseYamlWithPositions(read.text, file, (text, location) =>
    text.replace(REFERENCE, (match, expression: string | undefined) => {
      if (expression === undefined) return "${";
      const name = ENV_NAME.exec(expression.trim())?.[1];
      if (!name || !match.endsWith("}")) {
        diagnostics.push({ location, message: `"${match}" cannot be used in ${HOME_CONFIG_FILE}: only \${env.NAME} is`, hint: "write the value, or take it from an environment variable with ${env.NAME}" });
        return match;
      }
      const value = env[name];
      if (value === undefined) diagnostics.push({ location, message: `environment variable ${name} is not set (used as \${env.${name}})`, hint: `export ${name}=… before running slipway` });
      return value ?? match;
    }),
  );
  diagnostics.push(...parsed.diagnostics);
  const value = parsed.value ?? {};
  const config = diagnostics.length ? undefined : validateAgainst(homeConfigSchema, value, parsed.sourceMap, diagnostics).data;
  if (diagnostics.length || !config) throw new InvalidInputError(diagnostics.length ? diagnostics : [{ location: parsed.sourceMap.locate([] as PathSegment[]), message: "is not a mapping", hint: "write keys state, blobs or executor" }], "invalid_home_config");
  cache.set(file, { stamp, config });
  return config;
}

/** A target's configuration with the home's backends where it names none of its own. */
export function withHomeBackends<T extends HomeConfig>(target: T, home: HomeConfig): T {
  if (!home.state && !home.blobs && !home.executor) return target;
  return { ...target, state: target.state ?? home.state, blobs: target.blobs ?? home.blobs, executor: target.executor ?? home.executor };
}

/**
 * Whether a target keeps its state in the home's state database (the one the home's server opens):
 * no `state` of its own, or the very same one.
 */
export function usesHomeState(target: HomeConfig, home: HomeConfig): boolean {
  const same = (a: HomeConfig["state"], b: HomeConfig["state"]) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
  return same(target.state ?? home.state, home.state);
}

function canonical(state: HomeConfig["state"]): unknown {
  if (!state || (state.type === "sqlite" && state.path === undefined)) return null;
  return Object.fromEntries(Object.entries(state).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * What of the environment the home's server needs to open the home's backends: the variables
 * config.yaml names (`${env.NAME}`), and the AWS SDK's when its blobs are in S3. The background server
 * `deploy` starts gets these and no other credentials (src/serving/control.ts).
 */
export function homeBackendEnvironment(home: string, env: Record<string, string | undefined>): Record<string, string> {
  const file = join(home, HOME_CONFIG_FILE);
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  const read = readProjectFile(file, file);
  const text = "problem" in read ? "" : read.text;
  for (const m of text.matchAll(/\$\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}/g)) {
    const value = env[m[1]!];
    if (value !== undefined) out[m[1]!] = value;
  }
  let s3 = false;
  try {
    s3 = loadHomeConfig(home, env).blobs?.type === "s3";
  } catch {
    /* the server reports the problem when it starts */
  }
  if (s3) for (const [k, v] of Object.entries(env)) if (/^AWS_[A-Z0-9_]+$/.test(k) && v !== undefined) out[k] = v;
  return out;
}
