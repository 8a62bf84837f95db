// Recorded endpoints versus what the local server serves. State records an endpoint when a deploy
// applied it; the server may have stopped since (or restarted without it). Deploy brings those back
// (starting the server when it is not running); status says plainly which are not served.
import { SlipwayError } from "../errors.js";
import type { RuntimeEnv } from "../env.js";
import type { Reporter } from "../engine/reporter.js";
import { adminCall, ensureServer, runningServer } from "./control.js";
import type { EndpointConfig } from "./endpoints.js";
import type { AppConfig } from "./apps/config.js";
import type { ServerInfo } from "./server-file.js";

interface RecordedEndpoint {
  kind: string;
  name: string;
  outputs: Record<string, unknown>;
}

/**
 * Makes sure the server serves these recorded endpoints: starts the server when none runs (it restores
 * every recorded endpoint), waits for a restore in progress, and starts any endpoint it does not serve.
 * Says what it did; throws when an endpoint could not be served.
 */
export async function serveRecordedEndpoints(env: RuntimeEnv, recorded: readonly RecordedEndpoint[], reporter: Reporter): Promise<void> {
  const configs = recorded.filter((r) => r.kind === "endpoint").map((r) => r.outputs.config as EndpointConfig | undefined).filter((c): c is EndpointConfig => !!c);
  if (configs.length === 0) return;
  const names = configs.map((c) => c.name).sort();
  let server = await runningServer(env);
  const wasRunning = !!server;
  server ??= await ensureServer(env);
  const out = await adminCall<{ served: string[]; started: string[]; failed: Array<{ name: string; message: string }> }>(server, "/admin/ensure", { configs });
  if (!wasRunning) reporter.info(`the Slipway server was not running: started it at ${server.url}; serving ${names.filter((n) => !out.failed.some((f) => f.name === n)).join(", ")} again`);
  else if (out.started.length) reporter.info(`endpoint(s) ${out.started.sort().join(", ")} were recorded but not served: serving them again at ${server.url}`);
  if (out.failed.length) {
    throw new SlipwayError("endpoint_not_served", `deployed endpoint(s) could not be served: ${out.failed.map((f) => `${f.name}: ${f.message}`).join("; ")}`, {
      hint: `see ${env.home}/logs/server.log`,
    });
  }
}

/**
 * The same for recorded apps: the server (started when none runs, restoring them) runs each one; says
 * what it did; throws when an app could not be started.
 */
export async function runRecordedApps(env: RuntimeEnv, recorded: readonly RecordedEndpoint[], reporter: Reporter): Promise<void> {
  const configs = recorded.filter((r) => r.kind === "app").map((r) => r.outputs.config as AppConfig | undefined).filter((c): c is AppConfig => !!c);
  if (configs.length === 0) return;
  let server = await runningServer(env);
  const wasRunning = !!server;
  server ??= await ensureServer(env);
  const out = await adminCall<{ running: string[]; started: string[]; failed: Array<{ name: string; message: string }> }>(server, "/admin/apps/ensure", { configs });
  const back = configs.map((c) => c.name).filter((n) => !out.failed.some((f) => f.name === n)).sort();
  if (!wasRunning) reporter.info(`the Slipway server was not running: started it at ${server.url}; running app(s) ${back.join(", ")} again`);
  else if (out.started.length) reporter.info(`app(s) ${out.started.sort().join(", ")} were recorded but not running: running them again at ${server.url}`);
  if (out.failed.length) {
    throw new SlipwayError("app_not_running", `deployed app(s) could not be started: ${out.failed.map((f) => `${f.name}: ${f.message}`).join("; ")}`, { hint: `see \`slipway apps logs NAME\` and ${env.home}/logs/server.log` });
  }
}

/** How each recorded endpoint is served now: `ready`, `not_ready`, `restoring`, `not_served` (the server runs without it), `no_server`. */
export type Serving = "ready" | "not_ready" | "restoring" | "not_served" | "no_server";

export async function endpointServing(env: RuntimeEnv, names: readonly string[]): Promise<{ server?: ServerInfo; serving: Map<string, Serving> }> {
  const serving = new Map<string, Serving>();
  const server = names.length ? await runningServer(env) : undefined;
  if (!server) {
    for (const n of names) serving.set(n, "no_server");
    return { serving };
  }
  const s = await adminCall<{ restoring: string[]; endpoints: Array<{ name: string; ready: boolean }> }>(server, "/admin/server").catch(() => undefined);
  for (const n of names) {
    const live = s?.endpoints.find((e) => e.name === n);
    serving.set(n, live ? (live.ready ? "ready" : "not_ready") : s?.restoring.includes(n) ? "restoring" : "not_served");
  }
  return { server, serving };
}
