// The project-file language as schemas: what users type in slipway.yaml and module.yaml.
// One source for validation, TypeScript types and the JSON Schema that `slipway schema` prints.
import { z } from "zod";
import { USER_NAME, USER_NAME_MAX, USER_NAME_RULE } from "../env.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const name = (what: string) =>
  z.string().regex(NAME, `${what} names use letters, digits, "_", "." and "-" and start with a letter or digit`).max(255);
const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** Names that become environment variables (env keys, params as SLIPWAY_PARAM_<name>). */
const envName = z.string().min(1).max(255).regex(/^[^=]+$/, 'environment variable names may not contain "="');
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as "90s", "30m", "2h" or "7d"')
  .describe('A duration: a number followed by ms, s, m, h or d, e.g. "24h"');
const phase = z.number().int().min(0).describe("Deploy with `deploy --phase N` to deploy everything with phase <= N");

/** Users, groups and service principals follow the one rule for user names (see env.ts). */
const identity = (what: string) => z.string().min(1).max(USER_NAME_MAX).regex(USER_NAME, `${what} names are ${USER_NAME_RULE}`);

export const PERMISSION_LEVELS = ["CAN_MANAGE", "CAN_RUN", "CAN_QUERY", "CAN_VIEW"] as const;
export const permissionSchema = z
  .strictObject({
    level: z.enum(PERMISSION_LEVELS),
    user: identity("user").optional(),
    group: identity("group").optional(),
    service_principal: identity("service principal").optional(),
  })
  .refine((p) => [p.user, p.group, p.service_principal].filter((x) => x !== undefined).length === 1, {
    message: "a permission names exactly one of user, group or service_principal",
  })
  .describe("Who may do what: CAN_MANAGE > CAN_RUN > CAN_QUERY > CAN_VIEW");
const permissions = z.array(permissionSchema);

export const ARCHIVE_KINDS = ["job_source", "stage_logs", "persisted_data", "artifacts", "provenance", "cache", "misc"] as const;
export type ArchiveKind = (typeof ARCHIVE_KINDS)[number];
const archiveStore = z
  .strictObject({
    type: z.enum(["fs"]).describe("fs: a local folder"),
    path: z.string().min(1).describe("Folder, relative to slipway.yaml or absolute"),
  })
  .describe("Where one kind of run archive is kept");
const archives = z
  .strictObject(Object.fromEntries(ARCHIVE_KINDS.map((k) => [k, archiveStore.optional()])) as Record<ArchiveKind, z.ZodOptional<typeof archiveStore>>)
  .describe("Archive stores per kind; each defaults to a folder under SLIPWAY_HOME/archives");

const backend = z.strictObject({ type: z.string().min(1) }).catchall(scalar).describe("A backend choice, e.g. { type: sqlite }");

export const targetSchema = z.strictObject({
  default: z.boolean().optional().describe("Used when -t/--target is not given"),
  mode: z.enum(["development", "production"]).optional().describe("development: no approvals, TTL allowed"),
  env_files: z.array(z.string().min(1)).optional().describe("Env files read after application.env and before module.env"),
  ttl: duration.optional().describe("Endpoints in this target are destroyed this long after their last deploy"),
  protected: z.boolean().optional().describe("destroy needs --force as well as confirmation"),
  approval: z
    .strictObject({ approvers: z.array(z.string().min(1)).min(1), required: z.number().int().min(1).optional() })
    .optional(),
  variables: z.record(z.string(), scalar).optional().describe("Per-target variable values"),
  state: backend.optional(),
  blobs: backend.optional(),
  executor: z
    .strictObject({
      type: z.enum(["local"]).describe("local: processes on this machine"),
      max_parallel_runs: z.number().int().min(1).optional().describe("Runs executing at once on this machine (default 4); more wait queued"),
      max_parallel_tasks: z.number().int().min(1).optional().describe("Tasks of one run executing at once (default 4)"),
    })
    .optional(),
  archives: archives.optional().describe("Overrides the project's archive stores for this target"),
});

export const variableSchema = z.strictObject({
  description: z.string().optional(),
  default: scalar.optional(),
  secret: z.boolean().optional().describe("Never printed: masked in plans, logs and output"),
});

export const projectFileSchema = z
  .strictObject({
    project: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "project names use lowercase letters, digits, _ and -").max(100),
    description: z.string().optional(),
    include: z.array(z.string().min(1)).optional().describe("Globs of module.yaml files, relative to slipway.yaml"),
    variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "variable names are identifiers"), variableSchema).optional(),
    targets: z.record(name("target"), targetSchema).refine((t) => Object.keys(t).length > 0, "at least one target is needed"),
    permissions: permissions.optional().describe("Default permissions for every resource"),
    archives: archives.optional(),
  })
  .describe("slipway.yaml: the root of a Slipway project");

const taskSchema = z.strictObject({
  command: z.string().min(1),
  depends_on: z.array(z.string()).optional(),
  cache: z.boolean().optional(),
  env: z.record(envName, scalar).optional(),
});

export const jobSchema = z
  .strictObject({
    description: z.string().optional(),
    phase: phase.optional(),
    source: z.string().min(1).optional().describe("Folder bundled for every run, relative to module.yaml"),
    command: z.string().min(1).optional(),
    tasks: z.record(name("task"), taskSchema).optional().describe("A DAG of tasks, instead of one command"),
    env: z.record(envName, scalar).optional(),
    params: z.record(envName, scalar).optional().describe("Parameters with their defaults (each is $SLIPWAY_PARAM_<name> in the job's environment)"),
    compute: z
      .strictObject({
        cpus: z.number().positive().optional(),
        memory: z.string().regex(/^\d+(\.\d+)?[KMGT]i?B?$/i, 'a size such as "512M" or "4G"').optional(),
        gpus: z.number().int().min(0).optional(),
        timeout: duration.optional(),
        environment: z.string().min(1).optional().describe("A compute environment (resources.compute) the tasks run in"),
      })
      .optional(),
    retries: z.number().int().min(0).max(100).optional(),
    run_on_deploy: z.boolean().optional(),
    registers: z
      .strictObject({
        model: z.string().min(1),
        path: z.string().min(1),
        metric: z.string().min(1).optional(),
        only_if_better: z.boolean().optional(),
      })
      .optional(),
    permissions: permissions.optional(),
  })
  .refine((j) => (j.command === undefined) !== (j.tasks === undefined), { message: "a job has either `command` or `tasks`, not both and not neither" });

export const modelSchema = z.strictObject({
  name: z.string().min(1).optional().describe("Registered name (defaults to the key)"),
  description: z.string().optional(),
  phase: phase.optional(),
  tags: z.record(z.string(), scalar).optional(),
  permissions: permissions.optional(),
});

export const ENDPOINT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export const endpointSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  served: z
    .array(
      z
        .strictObject({
          model: z.string().min(1),
          version: z.union([z.string(), z.number().int()]).optional(),
          alias: z.string().optional(),
          percent: z.number().min(0).max(100).optional(),
        })
        .refine((s) => !(s.version !== undefined && s.alias !== undefined), { message: "name either `version` or `alias`, not both" }),
    )
    .min(1),
  replicas: z.strictObject({ min: z.number().int().min(0), max: z.number().int().min(1) }).optional(),
  inference_table: z.strictObject({ sample: z.number().min(0).max(1), max_body_bytes: z.number().int().positive().optional() }).optional(),
  permissions: permissions.optional(),
});

export const scheduleSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  job: z.string().min(1),
  cron: z.string().min(1).describe('Five-field cron, e.g. "0 2 * * *"'),
  timezone: z.string().optional(),
  params: z.record(z.string(), scalar).optional(),
  paused: z.boolean().optional(),
});

export const ARTIFACT_TYPES = ["python_wheel", "npm", "archive"] as const;
export type ArtifactType = (typeof ARTIFACT_TYPES)[number];
/** Versions as they appear in store keys and file names: PEP 440, semver and the like. */
export const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/;
export const artifactSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  type: z.enum(ARTIFACT_TYPES).describe("python_wheel: a wheel built offline; npm: `npm pack`; archive: a .tar.gz of the folder"),
  path: z.string().min(1).describe("The package folder, relative to module.yaml"),
  version: z
    .string()
    .regex(VERSION, "versions use letters, digits, '.', '_', '+', '!' and '-'")
    .max(128)
    .optional()
    .describe("archive only: the version (default: derived from the content); wheels and npm packages take theirs from their metadata"),
  python: z.string().min(1).optional().describe("Interpreter used to build wheels (default python3)"),
  retention: z
    .strictObject({ keep_last: z.number().int().min(1).describe("`artifacts gc` keeps the newest N published versions (and every version in use)") })
    .optional(),
});

/** A library of a compute environment: an artifact of the project at one version. */
export const LIBRARY = /^([A-Za-z0-9][A-Za-z0-9_.-]*)@([A-Za-z0-9][A-Za-z0-9._+!-]*)$/;
export const computeSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  python: z
    .string()
    .min(1)
    .optional()
    .describe('Interpreter the environment is made from: "3" or "3.11" (python3, python3.11 on PATH) or a path such as /usr/bin/python3; default "3"'),
  libraries: z
    .array(z.string().regex(LIBRARY, 'a library is ARTIFACT@VERSION, e.g. "dqm@2.6.10"'))
    .optional()
    .describe("Artifacts installed from the target's artifact store, offline"),
  ephemeral: z.boolean().optional().describe("Created by each run that needs it and deleted when the run ends"),
  pip: z.boolean().optional().describe("Give the environment its own pip (slower to create); by default the interpreter's pip installs into it"),
});

const stageSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(["run", "deploy", "approval", "wait", "destroy", "notify"]),
  job: z.string().optional(),
  target: z.string().optional(),
  phase: z.number().int().min(0).optional(),
  duration: duration.optional(),
  message: z.string().optional(),
  when: z.string().optional(),
  depends_on: z.array(z.string()).optional(),
});
export const pipelineSchema = z.strictObject({
  description: z.string().optional(),
  phase: phase.optional(),
  stages: z.array(stageSchema).min(1),
  triggers: z
    .strictObject({
      manual: z.boolean().optional(),
      branch: z.string().optional(),
      cron: z.string().optional(),
    })
    .optional(),
  permissions: permissions.optional(),
});

export const hookSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "hook names use letters, digits, _, . and -"),
  deploy: z.string().min(1).describe("Script run on deploy, relative to module.yaml"),
  destroy: z.string().min(1).optional().describe("Script run on destroy"),
  phase: phase.optional(),
});

export const moduleFileSchema = z
  .strictObject({
    module: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "module names use lowercase letters, digits, _ and -").max(100),
    description: z.string().optional(),
    depends_on: z.array(z.string()).optional(),
    phase: phase.optional(),
    hooks: z.array(hookSchema).optional(),
    settings: z.record(z.string().min(1).max(255), scalar).optional(),
    resources: z
      .strictObject({
        jobs: z.record(name("job"), jobSchema).optional(),
        models: z.record(name("model"), modelSchema).optional(),
        endpoints: z.record(z.string(), endpointSchema).optional(),
        schedules: z.record(name("schedule"), scheduleSchema).optional(),
        artifacts: z.record(name("artifact"), artifactSchema).optional(),
        compute: z.record(name("compute environment"), computeSchema).optional().describe("Compute environments (Python virtual environments with the project's libraries)"),
        pipelines: z.record(name("pipeline"), pipelineSchema).optional(),
      })
      .optional(),
  })
  .describe("module.yaml: one deployable module of a Slipway project");

export type ProjectFile = z.infer<typeof projectFileSchema>;
export type ModuleFile = z.infer<typeof moduleFileSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type Permission = z.infer<typeof permissionSchema>;

/** JSON Schema for editors: one schema that accepts either file, told apart by `project` or `module`. */
export function jsonSchema(which: "project" | "module" | "all" = "all"): Record<string, unknown> {
  const opts = { io: "input" as const, unrepresentable: "any" as const };
  const project = z.toJSONSchema(projectFileSchema, opts) as Record<string, unknown>;
  const module = z.toJSONSchema(moduleFileSchema, opts) as Record<string, unknown>;
  const base = { $schema: "https://json-schema.org/draft/2020-12/schema" };
  if (which === "project") return { ...project, ...base, title: "Slipway project file (slipway.yaml)" };
  if (which === "module") return { ...module, ...base, title: "Slipway module file (module.yaml)" };
  strip(project);
  strip(module);
  return { ...base, title: "Slipway project and module files", oneOf: [project, module] };
}

function strip(schema: Record<string, unknown>): void {
  delete schema.$schema;
}
