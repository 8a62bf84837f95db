import { z } from "zod";
import { duration, envName, name, permissions, phase, scalar } from "../../config/schema.js";

const taskSchema = z.strictObject({
  command: z.string().min(1),
  depends_on: z.array(z.string()).optional(),
  cache: z.boolean().optional(),
  env: z.record(envName, scalar).optional(),
  artifacts: z.array(z.string().min(1)).optional().describe("Files of the run's output folder (globs) kept in the artifacts archive, like the job's `artifacts`"),
});

export const jobSchema = z
  .strictObject({
    description: z.string().optional(),
    title: z.string().min(1).optional().describe('A human name, e.g. "[dev] Entity Matching - Setup": `slipway jobs list` shows it and `slipway run` accepts it'),
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
        timeout: duration.optional().describe("Each attempt of each task is stopped after this long"),
        time_limit: duration.optional().describe("The whole run's time limit, for executors that enforce one (Slurm's --time, in whole minutes); default: derived from timeout"),
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
    artifacts: z
      .array(z.string().min(1))
      .optional()
      .describe("Files of the run's output folder ($SLIPWAY_OUTPUT_DIR) kept in the artifacts archive after the run: globs such as `reports/*.html` or `**/*.png`, relative to that folder"),
    permissions: permissions.optional(),
  })
  .refine((j) => (j.command === undefined) !== (j.tasks === undefined), { message: "a job has either `command` or `tasks`, not both and not neither" })
  // The run's compute-environment lines are logged and shown as "environment" (runs/<id>/logs/environment.log).
  .refine((j) => !(j.compute?.environment && j.tasks && Object.hasOwn(j.tasks, "environment")), {
    message: 'a job that runs in a compute environment cannot have a task named "environment": its log shows the environment being made under that name; rename the task',
    path: ["tasks", "environment"],
  });
export type JobBlock = z.infer<typeof jobSchema>;
