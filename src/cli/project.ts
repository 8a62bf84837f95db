// Project commands in either mode: embedded (the project command runs here, on the local home) or remote
// (--server, SLIPWAY_SERVER or a stored login: the project folder is uploaded as a content-addressed
// bundle and the server runs the same command, streaming its progress). Both give the command's
// document (src/server/project-documents.ts) and print progress through the same printer, so a command
// renders the same text from it either way.
//
// The operations, the server's documents and the remote client are imported when a command runs (not
// when the program is built): `slipway --help` or `slipway run` then loads none of what other
// commands need (start-up, bench/startup).
import { join } from "node:path";
import type { Command } from "commander";
import type { RemoteProject } from "../client/remote-project.js";
import { InvalidInputError, RefusedError, SlipwayError } from "../errors.js";
import type { ProjectAnswer, ProjectArgs, ProjectCommand } from "../server/project-documents.js";
import type { RuntimeEnv } from "../env.js";
import { projectOptions, withCommonOptions, type CommandRuntime, type CommonFlags } from "./common.js";
import { remoteFor, withServerOption, type ServerFlags } from "./remote.js";

export type ProjectFlags = CommonFlags & ServerFlags;

/** -t, --project, --var, --json, --server and --no-server. */
export function withProjectOptions(cmd: Command): Command {
  return withServerOption(withCommonOptions(cmd));
}

/** The project on the server the flags or the environment name, or undefined for embedded mode. */
export async function remoteProjectFor(rt: CommandRuntime, flags: ProjectFlags): Promise<RemoteProject | undefined> {
  const client = remoteFor(rt.env, flags);
  if (!client) return undefined;
  const p = projectOptions(flags);
  const { RemoteProject } = await import("../client/remote-project.js");
  return new RemoteProject(client, { dir: p.dir, target: p.target, vars: p.vars, envVars: rt.env.varOverrides, cacheDir: join(rt.env.home, "cache", "uploads") });
}

/**
 * Runs a project command, embedded or on the server, printing its progress as it comes; `planHeading`
 * shows the plan a deploy, destroy or rollback applies.
 */
export async function onProject<C extends ProjectCommand>(rt: CommandRuntime, flags: ProjectFlags, command: C, args: ProjectArgs[C], options: { planHeading?: (where: string) => string } = {}): Promise<ProjectAnswer<C>> {
  rt.planHeading = options.planHeading;
  const remote = await remoteProjectFor(rt, flags);
  if (!remote) {
    const p = projectOptions(flags);
    const [{ projectCommands }, { AUDITED_PROJECT_COMMANDS }] = await Promise.all([import("../server/project-documents.js"), import("../server/project-audit.js")]);
    const run = () => (projectCommands[command] as (ctx: CommandRuntime["ctx"], p: ReturnType<typeof projectOptions>, a: ProjectArgs[C]) => Promise<ProjectAnswer<C>>)(rt.ctx, p, args);
    const action = AUDITED_PROJECT_COMMANDS[command];
    return action ? auditedLocally(rt.env, action, p.target, args as AuditRef, run, (line) => rt.out.err(line)) : run();
  }
  try {
    return await remote.command(command, args, { onEvent: (e) => rt.progress(e) });
  } catch (e) {
    // Embedded, a terminal would have been asked; the server cannot ask.
    if (e instanceof SlipwayError && e.code === "confirmation_required" && rt.ctx.confirm) {
      throw new RefusedError("confirmation_required", e.message.replace("there is no terminal to ask", `the server (${remote.client.url}) cannot ask`), { hint: "review the plan (slipway plan --server …), then re-run with --yes" });
    }
    throw e;
  }
}

/** Refuses --server on a command that works on this machine only (SLIPWAY_SERVER and a stored login do not apply to it). */
export function localOnly(flags: ServerFlags, what: string, why: string): void {
  if (typeof flags.server === "string") throw new SlipwayError("not_remote", `${what} works on this machine only; it has no --server mode`, { hint: why });
}

export type AuditRef = { run?: string; model?: string; alias?: string; job?: string; name?: string };

/**
 * Runs an embedded change and appends it to the local home's audit log (the same entry the API writes,
 * with the local user and client "local"), whatever its outcome. A failure to append is reported on
 * stderr and does not turn a done change into a failed command.
 */
export async function auditedLocally<A extends { fields: object; error?: { code: string } }>(env: RuntimeEnv, action: string, target: string | undefined, ref: AuditRef, run: () => Promise<A>, warn: (line: string) => void): Promise<A> {
  let answer: A | undefined;
  let outcome = "ok";
  try {
    answer = await run();
    outcome = answer.error?.code ?? "ok";
    return answer;
  } catch (e) {
    outcome = (e as { code?: string }).code ?? "internal";
    // Invalid files or flags: refused before anything was touched (not even the state database).
    if (e instanceof InvalidInputError) outcome = "";
    throw e;
  } finally {
    const fields = answer?.fields as { project?: string; target?: string } | undefined;
    if (outcome) {
      try {
        const [{ openControlPlane }, { projectAuditEntry }] = await Promise.all([import("../server/control-plane.js"), import("../server/project-audit.js")]);
        const cp = await openControlPlane(env);
        try {
          await cp.audit.append({ ...projectAuditEntry(action, { project: fields?.project, target }, ref, fields, outcome), actor: env.user, client: "local" });
        } finally {
          await cp.stores.close();
        }
      } catch (e) {
        warn(`warning: the change was not appended to the audit log: ${(e as Error).message}`);
      }
    }
  }
}
