// Which project commands are audited, and the audit entry of one call (the API and the embedded CLI
// append the same). A file of its own so that auditing a command does not load every operation.
import type { AuditEvent } from "./auth/audit.js";
import type { ProjectCommand } from "./project-documents.js";

/**
 * The project commands that change something, with their audit log action: the API appends one entry
 * per call of these (src/server/api/app.ts), the embedded CLI the same (src/cli/project.ts).
 */
export const AUDITED_PROJECT_COMMANDS: Partial<Record<ProjectCommand, string>> = {
  deploy: "deploy",
  destroy: "destroy",
  rollback: "rollback",
  run: "run",
  sweep: "sweep",
  cancel: "cancel",
  "schedules pause": "schedules pause",
  "schedules unpause": "schedules unpause",
  "ttl extend": "ttl extend",
  "ttl pin": "ttl pin",
  "ttl unpin": "ttl unpin",
  "models alias set": "alias move",
  "endpoints reap": "endpoints reap",
  "artifacts install": "artifacts install",
  "artifacts gc": "artifacts gc",
  "models promote": "models promote",
  "artifacts promote": "artifacts promote",
};

/** What one audited project command did, for its audit entry (who and from where are the caller's). */
export function projectAuditEntry(
  action: string,
  where: { project?: string; target?: string },
  ref: { run?: string; model?: string; alias?: string; job?: string; name?: string },
  fields: { target?: unknown; revision?: unknown; id?: unknown; version?: unknown } | undefined,
  outcome: string,
): Omit<AuditEvent, "actor" | "client"> {
  const resource = ref.run ?? (ref.model ? `model.${ref.model}${ref.alias ? `@${ref.alias}` : ""}` : undefined) ?? (ref.job ? `job.${ref.job}` : undefined) ?? ref.name;
  const detail: Record<string, unknown> = {};
  if (fields?.revision !== undefined) detail.revision = fields.revision;
  if (action === "run" && fields?.id) detail.run = fields.id;
  if (action === "alias move" && fields?.version !== undefined) detail.version = fields.version;
  const target = typeof fields?.target === "string" ? fields.target : (where.target ?? "");
  return { action, project: where.project, target, resource, outcome, detail };
}
