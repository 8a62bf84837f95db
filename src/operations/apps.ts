// Apps seen from the CLI, the SDK and the API: what is deployed to a target and how the server runs
// it (status, URL, replicas, restarts, recent log lines), and an app's log read from an offset (what
// `apps logs NAME -f` asks again and again).
import { InvalidInputError } from "../errors.js";
import type { AppOutputs } from "../kinds/app/index.js";
import type { AppStatus } from "../serving/apps/apps.js";
import { adminCall, runningServer } from "../serving/control.js";
import { didYouMean } from "../util/suggest.js";
import { authorizeFor, compileFor, withStores, type OperationContext, type ProjectOptions } from "./context.js";

export interface AppView {
  name: string;
  url: string;
  /** running, degraded (some replicas are not ready), restoring, failed, or not_running (no server, or the server does not run it). */
  state: "running" | "degraded" | "restoring" | "failed" | "not_running";
  message: string | null;
  configVersion: number;
  bundle: string;
  replicas: number;
  readyReplicas: number;
  restarts: number;
  pids: number[];
  anonymous: boolean;
  deployedAt: string;
  owner: string | null;
  recentLogs: string[];
}

export async function listApps(options: ProjectOptions, ctx: OperationContext): Promise<AppView[]> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "apps list");
  return withStores(compiled, ctx.env, async (stores) => {
    const recorded = (await stores.state.forTarget(compiled.project.name, compiled.project.target.name).listResources()).filter((r) => r.kind === "app");
    const server = await runningServer(ctx.env);
    const live = server ? await adminCall<AppStatus[]>(server, "/admin/apps/status") : [];
    return recorded.map((r) => {
      const o = r.outputs as AppOutputs;
      const l = live.find((a) => a.name === r.name && a.project === compiled.project.name && a.target === compiled.project.target.name);
      return {
        name: r.name,
        // The running server's address (it may have restarted on another port since the deploy).
        url: server ? `${server.url}/apps/${r.name}/` : o.url,
        state: l?.state ?? "not_running",
        message: l?.message ?? null,
        configVersion: o.config.configVersion,
        bundle: o.bundle,
        replicas: o.config.replicas,
        readyReplicas: l?.ready_replicas ?? 0,
        restarts: l?.restarts ?? 0,
        pids: l?.pids ?? [],
        anonymous: o.config.anonymous,
        deployedAt: o.deployed_at,
        owner: o.owner ?? null,
        recentLogs: l?.recent_logs ?? [],
      };
    });
  });
}

export interface AppLogs {
  name: string;
  lines: string[];
  /** Where to read from next (`--offset`). */
  offset: number;
}

/** The app's log lines from `offset` (default: the last `tail` lines). */
export async function appLogs(options: ProjectOptions & { name: string; offset?: number; tail?: number }, ctx: OperationContext): Promise<AppLogs> {
  const compiled = compileFor(options, ctx);
  await authorizeFor(compiled, ctx, "CAN_VIEW", "apps logs", `app.${options.name}`);
  return withStores(compiled, ctx.env, async (stores) => {
    const names = (await stores.state.forTarget(compiled.project.name, compiled.project.target.name).listResources()).filter((r) => r.kind === "app").map((r) => r.name);
    if (!names.includes(options.name)) {
      throw new InvalidInputError([{ message: `no app named ${options.name} is deployed to ${compiled.project.name}/${compiled.project.target.name}`, hint: didYouMean(options.name, names) ?? (names.length ? `deployed apps: ${names.join(", ")}` : "deploy one first (resources.apps in a module)") }], "unknown_app");
    }
    const server = await runningServer(ctx.env);
    if (!server) return { name: options.name, lines: [], offset: 0 };
    const r = await adminCall<{ lines: string[]; offset: number }>(server, "/admin/apps/logs", { name: options.name, offset: options.offset, tail: options.tail });
    return { name: options.name, ...r };
  });
}
