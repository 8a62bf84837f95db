// A web application (`app.NAME`) that the Slipway server runs, supervises and puts behind its sign-in
// at /apps/NAME/. Deploying one bundles its source folder (the same content-addressed bundles as
// jobs), lays the bundle out in a local folder, and hands the configuration to the server through
// AppControl, which starts the new replicas, waits for their health path, switches the route, then
// stops the old ones (a rolling change). Deleting one stops it and removes its route. The app's own
// identity (service principal `app-NAME` and a token in its environment) is the server's business:
// the token never passes through deploy, state or logs.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { iso } from "../../clock.js";
import type { Permission } from "../../config/schema.js";
import { projectPathProblem } from "../../config/safe-paths.js";
import { captureBundle } from "../../bundles/index.js";
import { environmentPath } from "../../compute/environments.js";
import type { ProviderContext } from "../../engine/provider.js";
import { SlipwayError } from "../../errors.js";
import type { DesiredResource, RecordedResource } from "../../resources.js";
import type { AppConfig } from "../../serving/apps/config.js";
import { endpointOwner, withOwner } from "../../serving/ownership.js";
import { sha256 } from "../../util/hash.js";
import { parseDuration } from "../../util/duration.js";
import { defineKind } from "../kind.js";
import type { TargetServices } from "../services.js";
import { APP_NAME, appSchema, RESERVED_APP_ENV, type AppBlock } from "./schema.js";

export type AppSpec = {
  module: string;
  description?: string;
  /** Folder bundled and run, relative to the module folder. */
  source: string;
  /** A digest of the source folder's files when planned: a changed file is a change (a rolling update). */
  source_digest: string;
  command: string;
  health: string;
  env: Record<string, string | number | boolean>;
  /** Names of `env` entries whose values hold a secret: masked in the app's logs. */
  secret_env: string[];
  environment?: string;
  replicas: number;
  startup_timeout: string;
  anonymous: boolean;
  /** The grants the server enforces at /apps/NAME/ (the project's permissions plus the app's own). */
  access: Permission[];
};

export interface AppOutputs {
  config: AppConfig;
  url: string;
  bundle: string;
  deployed_at: string;
  /** The user who first deployed it: holds CAN_MANAGE (and so CAN_USE). */
  owner: string;
  [key: string]: unknown;
}

/** Files under a folder, hashed (path, mode, content), .git left out: what makes the app's source change. */
export function sourceDigest(dir: string): string {
  const parts: string[] = [];
  const walk = (rel: string) => {
    const entries = readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name === ".git") continue;
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) {
        const full = join(dir, path);
        const executable = (statSync(full).mode & 0o100) !== 0;
        parts.push(`${path}\0${executable ? 755 : 644}\0${sha256(readFileSync(full))}`);
      }
    }
  };
  walk("");
  return sha256(parts.join("\n"));
}

async function apply(ctx: ProviderContext<TargetServices>, desired: DesiredResource<AppSpec>, recorded?: RecordedResource<AppSpec>): Promise<AppOutputs> {
  const { name, spec } = desired;
  const moduleDir = desired.runtime?.cwd;
  if (!moduleDir) throw new SlipwayError("internal", `app ${name}: the module folder is not known at apply time`);
  const captured = await captureBundle(ctx.blobs, { sourceDir: resolve(moduleDir, spec.source) });
  ctx.log.output("stdout", `bundled ${captured.manifest.files.length} file(s) of ${spec.source} as ${captured.hash.slice(0, 12)}`);
  const dir = await ctx.services.apps.appDir(name, captured.hash, ctx.blobs);
  const previous = recorded?.outputs as Partial<AppOutputs> | undefined;
  const owner = endpointOwner(previous, ctx.services.user);
  const env: Record<string, string> = Object.fromEntries(Object.entries(spec.env).map(([k, v]) => [k, String(v)]));
  if (spec.environment) {
    // The compute environment's interpreter and tools come first on PATH, as in `source bin/activate`.
    const io = { env: ctx.services.scripts.env, onLine: () => {} };
    const e = ctx.services.environments(io);
    const venv = environmentPath(e.home, e.project, e.target, spec.environment);
    env.VIRTUAL_ENV = venv;
    env.PATH = `${venv}/bin:${ctx.services.scripts.env.PATH ?? "/usr/bin:/bin"}`;
  }
  const config: AppConfig = {
    project: ctx.project,
    target: ctx.target,
    name,
    configVersion: (previous?.config?.configVersion ?? 0) + 1,
    dir,
    bundle: captured.hash,
    command: spec.command,
    health: spec.health,
    env,
    secretEnv: spec.secret_env,
    replicas: spec.replicas,
    startupTimeoutMs: parseDuration(spec.startup_timeout),
    anonymous: spec.anonymous,
    grants: withOwner(spec.access, owner),
  };
  const { url } = await ctx.services.apps.apply(config);
  ctx.log.output("stdout", `serving at ${url}/apps/${name}/ (configuration ${config.configVersion}, ${spec.replicas} replica(s))`);
  // Bundles no longer run by this app go from the local folder (the blob store keeps them).
  await ctx.services.apps.sweepAppDirs(name, new Set([dir]));
  return { config, url: `${url}/apps/${name}/`, bundle: captured.hash, deployed_at: iso(ctx.clock.now()), owner };
}

export const appKind = defineKind<AppSpec, AppBlock>({
  kind: "app",
  section: { key: "apps", schema: appSchema, description: "Web applications the server runs, supervises and serves at /apps/NAME/ behind its sign-in" },
  permissioned: true,
  compile(block, cx) {
    const name = cx.name;
    if (name.length > 59 || !APP_NAME.test(name)) {
      cx.report({
        location: cx.at([], "key"),
        message: `app name "${name}" is invalid: ${name.length > 59 ? `${name.length} characters, at most 59 allowed` : "only lowercase letters, digits and '-' are allowed, starting and ending with a letter or digit"}`,
        hint: `try "${name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 59) || "app"}"`,
      });
    }
    for (const key of Object.keys(block.env ?? {})) {
      if ((RESERVED_APP_ENV as readonly string[]).includes(key)) cx.report({ location: cx.at(["env", key], "key"), message: `app "${name}": env ${key} is set by Slipway for every app`, hint: `remove it; the app reads ${key} from its environment` });
    }
    let digest = "";
    const outside = projectPathProblem({ root: cx.project.dir, base: cx.module.dir, path: block.source, location: cx.at(["source"]), what: `app "${name}": source folder`, relativeTo: "relative to module.yaml" });
    if (outside) cx.report(outside);
    else {
      const dir = join(cx.module.dir, block.source);
      let isDir = false;
      try {
        isDir = statSync(dir).isDirectory();
      } catch {
        /* reported below */
      }
      if (!isDir) cx.report({ location: cx.at(["source"]), message: `app "${name}": source folder "${block.source}" does not exist`, hint: "the path is relative to module.yaml" });
      else digest = sourceDigest(dir);
    }
    const { phase: _phase, permissions, env = {}, ...rest } = block;
    const secrets = cx.runtime.secrets.filter((s) => s.length > 0);
    return {
      module: cx.module.name,
      ...rest,
      source_digest: digest,
      health: rest.health ?? "/",
      env: { ...env },
      secret_env: Object.entries(env)
        .filter(([, v]) => secrets.some((s) => String(v).includes(s)))
        .map(([k]) => k)
        .sort(),
      replicas: rest.replicas ?? 1,
      startup_timeout: rest.startup_timeout ?? "60s",
      anonymous: rest.anonymous ?? false,
      access: [...cx.project.permissions, ...(permissions ?? [])],
    };
  },
  references: (spec) => (spec.environment ? [{ kind: "compute" as const, name: spec.environment, path: ["environment"] }] : []),
  provider: {
    create: (ctx, desired) => apply(ctx, desired),
    update: (ctx, recorded, desired) => apply(ctx, desired, recorded),
    async delete(ctx, recorded) {
      await ctx.services.apps.remove(recorded.name);
      await ctx.services.apps.sweepAppDirs(recorded.name, new Set());
    },
  },
});
