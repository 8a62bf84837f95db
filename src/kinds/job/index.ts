// A job (`job.NAME`): a command or a DAG of tasks run from a bundle of its source folder. Deploying it
// records it; `slipway run` runs the recorded job (src/runs/). Its spec is what a run executes.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { artifactPatternProblem, outputPathReason, projectPathProblem } from "../../config/safe-paths.js";
import { findCycle } from "../../util/graph.js";
import { didYouMean } from "../../util/suggest.js";
import { defineKind, type Reference } from "../kind.js";
import { recordOnly, replaceOnModuleChange } from "../record-only.js";
import { jobSchema, type JobBlock } from "./schema.js";

type Scalar = string | number | boolean;

export type TaskSpec = {
  command: string;
  depends_on?: string[];
  cache?: boolean;
  env?: Record<string, Scalar>;
  /** Globs of output files kept in the artifacts archive (with the job's). */
  artifacts?: string[];
};

export type JobSpec = {
  module: string;
  description?: string;
  /** A human name (`slipway run` accepts it as well as the key). */
  title?: string;
  /** Folder bundled for every run, relative to the module folder. */
  source?: string;
  command?: string;
  tasks?: Record<string, TaskSpec>;
  env?: Record<string, Scalar>;
  params?: Record<string, Scalar>;
  compute?: { cpus?: number; memory?: string; gpus?: number; timeout?: string; time_limit?: string; environment?: string };
  retries?: number;
  run_on_deploy?: boolean;
  registers?: { model: string; path: string; metric?: string; only_if_better?: boolean };
  /** Globs of files in the run's output folder kept in the artifacts archive after the run. */
  artifacts?: string[];
};

export const jobKind = defineKind<JobSpec, JobBlock>({
  kind: "job",
  section: { key: "jobs", schema: jobSchema },
  permissioned: true,
  compile({ phase: _phase, permissions: _permissions, ...rest }, cx) {
    const outside = rest.source === undefined ? undefined : projectPathProblem({ root: cx.project.dir, base: cx.module.dir, path: rest.source, location: cx.at(["source"]), what: `job "${cx.name}": source folder`, relativeTo: "relative to module.yaml" });
    if (outside) cx.report(outside);
    const registersOutside = rest.registers ? outputPathReason(rest.registers.path) : undefined;
    if (registersOutside) {
      cx.report({ location: cx.at(["registers", "path"]), message: `job "${cx.name}": registers.path ${JSON.stringify(rest.registers!.path)} ${registersOutside}`, hint: "registers.path is a folder inside the run's output folder ($SLIPWAY_OUTPUT_DIR), e.g. `model`" });
    }
    if (!outside && rest.source && !existsSync(join(cx.module.dir, rest.source))) {
      cx.report({ location: cx.at(["source"]), message: `job "${cx.name}": source folder "${rest.source}" does not exist`, hint: "the path is relative to module.yaml" });
    }
    const tasks = rest.tasks ?? {};
    const patterns: Array<[string, Array<string | number>]> = (rest.artifacts ?? []).map((p, i) => [p, ["artifacts", i]]);
    for (const [task, t] of Object.entries(tasks)) (t.artifacts ?? []).forEach((p, i) => patterns.push([p, ["tasks", task, "artifacts", i]]));
    for (const [pattern, path] of patterns) {
      const why = artifactPatternProblem(pattern);
      if (why) cx.report({ location: cx.at(path), message: `job "${cx.name}": artifact pattern ${JSON.stringify(pattern)} ${why}`, hint: "artifact patterns are globs relative to the run's output folder ($SLIPWAY_OUTPUT_DIR), e.g. `reports/*.html`" });
    }
    const taskNames = Object.keys(tasks);
    for (const [task, t] of Object.entries(tasks)) {
      (t.depends_on ?? []).forEach((dep, i) => {
        if (!taskNames.includes(dep)) cx.report({ location: cx.at(["tasks", task, "depends_on", i]), message: `task "${task}" of job "${cx.name}" depends on unknown task "${dep}"`, hint: didYouMean(dep, taskNames) ?? `tasks: ${taskNames.join(", ")}` });
      });
    }
    const cycle = findCycle(taskNames, (t) => (tasks[t]?.depends_on ?? []).filter((d) => taskNames.includes(d)));
    if (cycle) cx.report({ location: cx.at(["tasks", cycle[0]!], "key"), message: `tasks of job "${cx.name}" depend on each other in a cycle: ${cycle.join(" -> ")}`, hint: "remove one of these depends_on entries" });
    return { module: cx.module.name, ...rest };
  },
  references(spec) {
    const refs: Reference[] = spec.registers ? [{ kind: "model", name: spec.registers.model, path: ["registers", "model"] }] : [];
    if (spec.compute?.environment) refs.push({ kind: "compute", name: spec.compute.environment, path: ["compute", "environment"] });
    return refs;
  },
  provider: recordOnly(),
  changeKind: replaceOnModuleChange,
});
