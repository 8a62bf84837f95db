// The --json contract in one table: for each command, the schema of its document's fields. Every
// document is one envelope (docs/cli.md, "JSON output"):
//   success                 { "ok": true, ...fields }
//   finished, unsuccessful  { "ok": false, "error": { code, message, hint }, ...fields }   (deploy whose action failed, run --wait that failed, …)
//   failure                 { "ok": false, "error": { code, message, hint, diagnostics?, ...details } }
// `ok` is true exactly when the exit code is 0. The CLI (and the coming HTTP API) print these
// documents through the view functions beside this file; nothing imports commander here.
import { z } from "zod";
import { artifactPromotionSchema, artifactsListSchema, buildSchema, gcSchema, installSchema, publishSchema } from "./artifacts.js";
import { deploymentSchema, historySchema, planSchema, settingsSchema, statusSchema, validateSchema } from "./deployments.js";
import { endpointLogsSchema, endpointsSchema, querySchema, reapSchema } from "./endpoints.js";
import { appLogsSchema, appsSchema } from "./apps.js";
import { auditSchema, auditVerifySchema, groupsSchema, loginSchema, membershipSchema, permissionChangeSchema, permissionsSchema, tokenRevokedSchema, tokenSchema, tokensSchema, userSchema, usersSchema, whoamiSchema } from "./identity.js";
import { errorSchema, type ErrorJson } from "./error.js";
import { exportSchema } from "./export.js";
import { completionSchema, doctorSchema, initSchema } from "./first-hour.js";
import { modelPromotionSchema, modelVersionSchema, modelsSchema, modelVersionsSchema } from "./models.js";
import { archiveListSchema } from "./archives.js";
import { bundleSchema, logsSchema, runDetailsSchema, runResultsSchema, runSchema, runsSchema, runSummarySchema, sweepSchema } from "./runs.js";
import { pipelineDecisionSchema, pipelineLogsSchema, pipelineRunSchema, pipelineRunsSchema, pipelinesSchema } from "./pipelines.js";
import { jobsSchema, schedulePauseSchema, schedulesSchema } from "./schedules.js";
import { ttlSchema } from "./ttl.js";
import { runnerSchema, schemaDocSchema, serverSchema, serverStatusSchema, serverStopSchema } from "./server.js";

type Fields = z.ZodObject | z.ZodUnion<readonly z.ZodObject[]>;

interface DocumentSpec {
  /** The document's fields (without `ok` and `error`). */
  readonly fields: () => Fields;
  /** The command can finish with its document and a non-zero exit: `ok: false` with `error` and the fields. */
  readonly unsuccessful?: true;
  /** Not part of the public contract (the runner process an executor starts). */
  readonly hidden?: true;
}

export const DOCUMENTS = {
  validate: { fields: validateSchema },
  plan: { fields: planSchema },
  deploy: { fields: deploymentSchema, unsuccessful: true },
  destroy: { fields: deploymentSchema, unsuccessful: true },
  rollback: { fields: deploymentSchema, unsuccessful: true },
  status: { fields: statusSchema },
  history: { fields: historySchema },
  "settings list": { fields: settingsSchema },
  run: { fields: runSchema, unsuccessful: true },
  sweep: { fields: sweepSchema, unsuccessful: true },
  runs: { fields: runsSchema },
  "runs show": { fields: runDetailsSchema },
  "runs results": { fields: runResultsSchema },
  logs: { fields: logsSchema, unsuccessful: true },
  cancel: { fields: runSummarySchema },
  bundle: { fields: bundleSchema },
  "archives list": { fields: archiveListSchema },
  "jobs list": { fields: jobsSchema },
  "schedules list": { fields: schedulesSchema },
  "schedules pause": { fields: schedulePauseSchema },
  "schedules unpause": { fields: schedulePauseSchema },
  "ttl show": { fields: ttlSchema },
  "ttl extend": { fields: ttlSchema },
  "ttl pin": { fields: ttlSchema },
  "ttl unpin": { fields: ttlSchema },
  "schedules wait": { fields: schedulePauseSchema },
  "pipelines list": { fields: pipelinesSchema },
  "pipelines run": { fields: pipelineRunSchema, unsuccessful: true },
  "pipelines runs": { fields: pipelineRunsSchema },
  "pipelines status": { fields: pipelineRunSchema },
  "pipelines approve": { fields: pipelineDecisionSchema },
  "pipelines reject": { fields: pipelineDecisionSchema },
  "pipelines logs": { fields: pipelineLogsSchema },
  "models list": { fields: modelsSchema },
  "models versions": { fields: modelVersionsSchema },
  "models show": { fields: modelVersionSchema },
  "models alias set": { fields: modelVersionSchema },
  "models promote": { fields: modelPromotionSchema },
  "endpoints list": { fields: endpointsSchema },
  "endpoints query": { fields: querySchema, unsuccessful: true },
  "endpoints logs": { fields: endpointLogsSchema },
  "endpoints reap": { fields: reapSchema },
  "apps list": { fields: appsSchema },
  "apps logs": { fields: appLogsSchema },
  "tokens create": { fields: tokenSchema },
  "tokens list": { fields: tokensSchema },
  "tokens revoke": { fields: tokenRevokedSchema },
  "users create": { fields: userSchema },
  "users list": { fields: usersSchema },
  "groups add": { fields: membershipSchema },
  "groups remove": { fields: membershipSchema },
  "groups list": { fields: groupsSchema },
  "permissions grant": { fields: permissionChangeSchema },
  "permissions revoke": { fields: permissionChangeSchema },
  "permissions list": { fields: permissionsSchema },
  audit: { fields: auditSchema },
  "audit verify": { fields: auditVerifySchema, unsuccessful: true },
  login: { fields: loginSchema },
  whoami: { fields: whoamiSchema },
  server: { fields: serverSchema },
  "server stop": { fields: serverStopSchema },
  "server status": { fields: serverStatusSchema },
  "artifacts build": { fields: buildSchema, unsuccessful: true },
  "artifacts publish": { fields: publishSchema },
  "artifacts list": { fields: artifactsListSchema },
  "artifacts install": { fields: installSchema },
  "artifacts gc": { fields: gcSchema },
  "artifacts promote": { fields: artifactPromotionSchema },
  "export k8s": { fields: exportSchema },
  "export helm": { fields: exportSchema },
  schema: { fields: schemaDocSchema },
  init: { fields: initSchema },
  doctor: { fields: doctorSchema, unsuccessful: true },
  completion: { fields: completionSchema },
  "internal-runner": { fields: runnerSchema, hidden: true },
} as const satisfies Record<string, DocumentSpec>;

export type CommandName = keyof typeof DOCUMENTS;

/** The fields a command's view must produce: a view returning anything else fails typecheck. */
export type FieldsOf<C extends CommandName> = z.infer<ReturnType<(typeof DOCUMENTS)[C]["fields"]>>;

/** Commands that may finish unsuccessfully with their document. */
export type UnsuccessfulCommand = { [C in CommandName]: (typeof DOCUMENTS)[C] extends { unsuccessful: true } ? C : never }[CommandName];

export const PUBLIC_COMMANDS = (Object.keys(DOCUMENTS) as CommandName[]).filter((c) => !("hidden" in DOCUMENTS[c]));

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(DOCUMENTS, name);
}

export { envelope, type Envelope } from "./envelope.js";

/** The error document every command prints when it fails without a result. */
export const errorDocumentSchema = () => z.strictObject({ ok: z.literal(false), error: errorSchema() });

function withHead(fields: Fields, head: z.ZodRawShape): z.ZodType {
  const one = (o: z.ZodObject) => z.strictObject({ ...head, ...o.shape });
  return fields instanceof z.ZodUnion ? z.union(fields.options.map(one)) : one(fields as z.ZodObject);
}

/** The schema of everything `slipway <command> --json` can print. */
export function documentSchema(command: CommandName): z.ZodType {
  const spec: DocumentSpec = DOCUMENTS[command];
  const fields = spec.fields();
  const variants = [withHead(fields, { ok: z.literal(true) })];
  if (spec.unsuccessful) variants.push(withHead(fields, { ok: z.literal(false), error: errorSchema() }));
  variants.push(errorDocumentSchema());
  return z.union(variants);
}

/** JSON Schema (draft 2020-12) of a command's --json document. */
export function documentJsonSchema(command: CommandName): Record<string, unknown> {
  return { title: `slipway ${command} --json`, ...z.toJSONSchema(documentSchema(command)) };
}
