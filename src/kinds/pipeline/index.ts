// A release pipeline (`pipeline.NAME`): stages that run jobs, deploy or destroy targets, wait for
// approvals or for a while, and notify; triggered by hand, on a cron, after another pipeline, or by a
// commit on a git branch. Deploying records it; src/pipelines/ runs it (the server's background work,
// or the CLI in the foreground). Compile checks meaning, not only shape: stage references, duplicate
// names, cycles, what each stage type needs, and the names conditions read, all located.
import { userNameProblem } from "../../env.js";
import type { Diagnostic, SourceLocation } from "../../errors.js";
import type { PathSegment } from "../../config/yaml-source.js";
import { findCycle } from "../../util/graph.js";
import { didYouMean } from "../../util/suggest.js";
import { checkCron } from "../cron.js";
import { defineKind } from "../kind.js";
import { recordOnly, replaceOnModuleChange } from "../record-only.js";
import { ConditionSyntaxError, conditionPaths, parseCondition } from "./condition.js";
import { EVENTS, pipelineSchema, STAGE_TYPES, type ChannelBlock, type PipelineBlock, type StageBlock } from "./schema.js";

export type StageType = (typeof STAGE_TYPES)[number];
export type PipelineEvent = (typeof EVENTS)[number];
type Scalar = string | number | boolean;

/** A stage with its defaults applied and its dependencies resolved. */
export interface StageSpec {
  name: string;
  type: StageType;
  description?: string;
  /** Resolved: the stage before it in the list when the file does not say. */
  depends_on: string[];
  when?: string;
  job?: string;
  params?: Record<string, Scalar>;
  /** run, deploy, destroy: where; approval: the target it gates (whose CAN_MANAGE an approver needs). */
  target?: string;
  phase?: number;
  modules?: string[];
  mode?: "create_or_update" | "replace";
  force?: boolean;
  approvers?: string[];
  required?: number;
  prevent_self_review?: boolean;
  timeout?: string;
  duration?: string;
  message?: string;
  /** promote: the version to copy; rollout: the candidate (a version of the endpoint's model in its target). */
  model?: string;
  /** promote: NAME@VERSION of an artifact. */
  artifact?: string;
  from?: string;
  to?: string;
  alias?: string;
  endpoint?: string;
  steps?: number[];
  bake?: string;
  min_requests?: number;
  max_error_rate?: number;
  max_latency_ms?: number;
  gate?: { metric: string; greater_is_better?: boolean; threshold?: number; min_absolute_change?: number; min_relative_change?: number };
}

export interface ChannelSpec {
  events: PipelineEvent[];
  webhook?: { url: string; secret_env?: string };
  email?: { to: string[]; from?: string; smtp?: { host: string; port?: number; secure?: boolean; user?: string; password_env?: string } };
}

export interface PipelineSpec {
  module: string;
  description?: string;
  params: Record<string, Scalar>;
  concurrency: "queue" | "cancel_previous" | "skip";
  triggers: {
    manual: boolean;
    cron?: string;
    timezone: string;
    catch_up: "none" | "once";
    after?: { pipeline: string; outcome: "succeeded" | "failed" | "any" };
    git?: { repo?: string; branch: string; every: string };
  };
  notifications: ChannelSpec[];
  stages: StageSpec[];
}

/** Keys each stage type takes besides name, type, description, depends_on and when. */
const STAGE_KEYS: Record<StageType, { required: Array<keyof StageBlock>; allowed: Array<keyof StageBlock> }> = {
  run: { required: ["job"], allowed: ["job", "params", "target"] },
  deploy: { required: [], allowed: ["target", "phase", "modules", "mode", "force"] },
  destroy: { required: [], allowed: ["target", "modules", "force"] },
  approval: { required: [], allowed: ["target", "approvers", "required", "prevent_self_review", "timeout", "message"] },
  wait: { required: ["duration"], allowed: ["duration"] },
  notify: { required: ["message"], allowed: ["message"] },
  promote: { required: ["from", "to"], allowed: ["model", "artifact", "from", "to", "alias"] },
  rollout: { required: ["endpoint", "model"], allowed: ["endpoint", "target", "model", "steps", "bake", "min_requests", "max_error_rate", "max_latency_ms", "gate", "alias"] },
};

export const DEFAULT_ROLLOUT_STEPS = [10, 50, 100];
export const DEFAULT_BAKE = "5m";
export const DEFAULT_MAX_ERROR_RATE = 0.05;
const COMMON_KEYS = new Set(["name", "type", "description", "depends_on", "when"]);

/** Fields each stage type's results offer to conditions (`stages.NAME.FIELD`); `results` and `metrics` take any path below. */
export const STAGE_FIELDS: Record<StageType, string[]> = {
  run: ["status", "run", "job", "registered", "model", "version", "results", "metrics"],
  deploy: ["status", "target", "revision", "changed"],
  destroy: ["status", "target", "revision", "changed"],
  approval: ["status", "approved_by"],
  wait: ["status"],
  notify: ["status"],
  promote: ["status", "target", "model", "version", "artifact", "promoted"],
  rollout: ["status", "target", "endpoint", "version", "percent", "rolled_back"],
};
const OPEN_FIELDS = new Set(["results", "metrics"]);
const TRIGGER_FIELDS = ["kind", "user", "commit", "branch", "due_at", "pipeline", "run"];
const UPSTREAM_FIELDS = ["pipeline", "run", "outcome", "params", "stages"];

export const DEFAULT_APPROVAL_TIMEOUT = "72h";

export const pipelineKind = defineKind<PipelineSpec, PipelineBlock>({
  kind: "pipeline",
  section: { key: "pipelines", schema: pipelineSchema },
  permissioned: true,
  compile(block, cx) {
    const where = `pipeline "${cx.name}"`;
    const targets = cx.project.targetNames;
    const own = cx.project.target.name;
    const modules = cx.project.modules.map((m) => m.name);
    const report = cx.report;
    const at = (sub: PathSegment[], prefer: "key" | "value" = "value") => cx.at(sub, prefer);

    // Names: unique, and the map every other check uses.
    const byName = new Map<string, { index: number; stage: StageBlock }>();
    block.stages.forEach((stage, i) => {
      const twin = byName.get(stage.name);
      if (twin) report({ location: at(["stages", i, "name"]), message: `${where}: stage "${stage.name}" is declared twice (also at line ${at(["stages", twin.index, "name"]).line})`, hint: "give each stage a unique name" });
      else byName.set(stage.name, { index: i, stage });
    });
    const names = [...byName.keys()];

    // Dependencies: by default the stage before; each must name another stage; no cycle.
    const dependsOn = block.stages.map((stage, i) => {
      if (stage.depends_on === undefined) return i > 0 ? [block.stages[i - 1]!.name] : [];
      const deps: string[] = [];
      stage.depends_on.forEach((dep, j) => {
        if (dep === stage.name) report({ location: at(["stages", i, "depends_on", j]), message: `${where}: stage "${stage.name}" depends on itself`, hint: "remove it from depends_on" });
        else if (!byName.has(dep)) report({ location: at(["stages", i, "depends_on", j]), message: `${where}: stage "${stage.name}" depends on unknown stage "${dep}"`, hint: didYouMean(dep, names) ?? `stages: ${names.join(", ")}` });
        else if (!deps.includes(dep)) deps.push(dep);
      });
      return deps;
    });
    // A duplicate is reported above; only the first stage of a name takes part in the graph.
    const depsOf = new Map([...byName.values()].map(({ index, stage }) => [stage.name, dependsOn[index]!]));
    const cycle = findCycle(names, (n) => depsOf.get(n) ?? []);
    if (cycle) {
      const first = byName.get(cycle[0]!)!;
      report({ location: at(["stages", first.index, "depends_on"], "key"), message: `${where}: stages depend on each other in a cycle: ${cycle.join(" -> ")}`, hint: "remove one of these depends_on entries" });
    }
    const ancestors = (name: string): Set<string> => {
      const seen = new Set<string>();
      const queue = [...(depsOf.get(name) ?? [])];
      while (queue.length) {
        const n = queue.shift()!;
        if (seen.has(n)) continue;
        seen.add(n);
        queue.push(...(depsOf.get(n) ?? []));
      }
      return seen;
    };

    // Triggers.
    const t = block.triggers ?? {};
    if (t.cron !== undefined) checkCron(t.cron, t.timezone, at(["triggers", "cron"]), report);
    for (const key of ["timezone", "catch_up"] as const) {
      if (t[key] !== undefined && t.cron === undefined) report({ location: at(["triggers", key], "key"), message: `${where}: triggers.${key} applies to a cron trigger, and there is none`, hint: 'add triggers.cron, e.g. "0 6 * * 1", or remove it' });
    }
    if (t.after?.pipeline === cx.name) report({ location: at(["triggers", "after", "pipeline"]), message: `${where} cannot run after itself`, hint: "name another pipeline" });

    const paramNames = Object.keys(block.params ?? {});
    const stages: StageSpec[] = block.stages.map((stage, i) => {
      const path: PathSegment[] = ["stages", i];
      const label = `${where}: stage "${stage.name}" (${stage.type})`;
      const keys = STAGE_KEYS[stage.type];
      for (const key of keys.required) {
        if (stage[key] === undefined) report({ location: at(path), message: `${label} needs \`${key}\``, hint: requiredHint(stage.type, key) });
      }
      for (const key of Object.keys(stage) as Array<keyof StageBlock>) {
        if (COMMON_KEYS.has(key) || keys.allowed.includes(key)) continue;
        const takers = STAGE_TYPES.filter((ty) => STAGE_KEYS[ty].allowed.includes(key));
        report({ location: at([...path, key], "key"), message: `${label} does not take \`${key}\``, hint: `${key} belongs to ${takers.join(" and ")} stages${keys.allowed.length ? `; a ${stage.type} stage takes ${keys.allowed.join(", ")}` : ""}` });
      }
      if (stage.target !== undefined && !targets.includes(stage.target)) report({ location: at([...path, "target"]), message: `${label}: unknown target "${stage.target}"`, hint: didYouMean(stage.target, targets) ?? `targets: ${targets.join(", ")}` });
      (stage.modules ?? []).forEach((m, j) => {
        if (!modules.includes(m)) report({ location: at([...path, "modules", j]), message: `${label}: unknown module "${m}"`, hint: didYouMean(m, modules) ?? `modules: ${modules.join(", ")}` });
      });
      for (const key of ["from", "to"] as const) {
        const t = stage[key];
        if (t !== undefined && !targets.includes(t)) report({ location: at([...path, key]), message: `${label}: unknown target "${t}"`, hint: didYouMean(t, targets) ?? `targets: ${targets.join(", ")}` });
      }
      if (stage.type === "promote") {
        if ((stage.model === undefined) === (stage.artifact === undefined)) report({ location: at(path), message: `${label} needs exactly one of \`model\` or \`artifact\``, hint: "for example model: flowers@champion, or artifact: features@1.2.0" });
        if (stage.alias !== undefined && stage.artifact !== undefined) report({ location: at([...path, "alias"], "key"), message: `${label}: \`alias\` applies to a model, not an artifact`, hint: "remove alias, or promote a model" });
        if (stage.from !== undefined && stage.from === stage.to) report({ location: at([...path, "to"]), message: `${label} promotes from ${stage.from} to itself`, hint: "name two different targets" });
      }
      if (stage.type === "rollout" && stage.steps) {
        stage.steps.forEach((p, j) => {
          if (j > 0 && p <= stage.steps![j - 1]!) report({ location: at([...path, "steps", j]), message: `${label}: steps must rise (${stage.steps!.join(", ")})`, hint: "for example steps: [10, 50, 100]" });
        });
      }
      if (stage.type === "rollout" && stage.gate && stage.gate.threshold === undefined && stage.gate.min_absolute_change === undefined && stage.gate.min_relative_change === undefined) {
        report({ location: at([...path, "gate"], "key"), message: `${label}: gate compares nothing`, hint: "give threshold, min_absolute_change or min_relative_change" });
      }
      if (stage.when !== undefined) checkCondition(stage.when, stage.name, at([...path, "when"]), label, report, { byName, ancestors: ancestors(stage.name), paramNames, hasUpstream: !!t.after });
      const spec: StageSpec = { ...stage, depends_on: dependsOn[i]! };
      if (stage.type === "run" || stage.type === "deploy" || stage.type === "destroy") spec.target = stage.target ?? own;
      if (stage.type === "deploy") spec.mode = stage.mode ?? "create_or_update";
      if (stage.type === "approval") Object.assign(spec, approvalSpec(stage, i));
      if (stage.type === "rollout") {
        spec.target = stage.target ?? own;
        spec.steps = stage.steps ?? DEFAULT_ROLLOUT_STEPS;
        spec.bake = stage.bake ?? DEFAULT_BAKE;
        spec.min_requests = stage.min_requests ?? 0;
        spec.max_error_rate = stage.max_error_rate ?? DEFAULT_MAX_ERROR_RATE;
      }
      return spec;
    });

    /** Approvers and count from the stage, else from the target it gates (its `approval:`); the gated target is the one a following deploy or destroy works on. */
    function approvalSpec(stage: StageBlock, i: number): Partial<StageSpec> {
      const gated =
        stage.target ??
        changedTarget(block.stages.find((s, j) => changesTarget(s) && dependsOn[j]!.includes(stage.name))) ??
        changedTarget(block.stages.find((s) => changesTarget(s) && ancestors(s.name).has(stage.name))) ??
        own;
      const fromTarget = cx.project.targetConfigs[gated]?.approval;
      const approvers = stage.approvers ?? fromTarget?.approvers;
      const required = stage.required ?? fromTarget?.required ?? 1;
      const label = `${where}: stage "${stage.name}" (approval)`;
      if (!approvers) {
        report({ location: at(["stages", i]), message: `${label} names no approvers, and target "${gated}" has no approval.approvers`, hint: `add approvers: ["group:release-managers"] to the stage, or approval: { approvers: [...] } to target ${gated}` });
      } else {
        (stage.approvers ?? []).forEach((a, j) => {
          const problem = approverProblem(a);
          if (problem) report({ location: at(["stages", i, "approvers", j]), message: `${label}: ${problem}`, hint: 'write "user:NAME" or "group:NAME"' });
        });
        const users = approvers.filter((a) => !a.startsWith("group:"));
        if (users.length === approvers.length && required > users.length) {
          report({ location: at(["stages", i, stage.required !== undefined ? "required" : "approvers"]), message: `${label} requires ${required} approval(s) but names only ${users.length} approver(s)`, hint: "lower required, or add approvers (a group counts each member)" });
        }
      }
      return { target: gated, approvers: approvers ?? [], required, prevent_self_review: stage.prevent_self_review ?? true, timeout: stage.timeout ?? DEFAULT_APPROVAL_TIMEOUT };
    }

    const notifications: ChannelSpec[] = (block.notifications ?? []).map((ch, i) => channelSpec(ch, i));
    function channelSpec(ch: ChannelBlock, i: number): ChannelSpec {
      if (!!ch.webhook === !!ch.email) report({ location: at(["notifications", i]), message: `${where}: notification ${i + 1} needs exactly one of webhook or email`, hint: 'for example { webhook: { url: "https://…", secret_env: HOOK_SECRET }, events: [failed] }' });
      return { events: ch.events ?? [...EVENTS], ...(ch.webhook ? { webhook: ch.webhook } : {}), ...(ch.email ? { email: ch.email } : {}) };
    }

    return {
      module: cx.module.name,
      ...(block.description !== undefined ? { description: block.description } : {}),
      params: block.params ?? {},
      concurrency: block.concurrency ?? "queue",
      triggers: {
        manual: t.manual ?? true,
        ...(t.cron !== undefined ? { cron: t.cron } : {}),
        timezone: t.timezone ?? "UTC",
        catch_up: t.catch_up ?? "none",
        ...(t.after ? { after: { pipeline: t.after.pipeline, outcome: t.after.outcome ?? "succeeded" } } : {}),
        ...(t.git ? { git: { ...(t.git.repo !== undefined ? { repo: t.git.repo } : {}), branch: t.git.branch, every: t.git.every ?? "1m" } } : {}),
      },
      notifications,
      stages,
    };
  },
  references: (spec) => [
    ...spec.stages.flatMap((st, i) => (st.job ? [{ kind: "job" as const, name: st.job, path: ["stages", i, "job"] }] : [])),
  ],
  link(resource, project, report, at) {
    const after = resource.spec.triggers.after;
    if (after && after.pipeline !== resource.name && !project.get(`pipeline.${after.pipeline}`)) {
      const names = project.ofKind("pipeline").map((p) => p.name).filter((n) => n !== resource.name);
      report({ location: at(["triggers", "after", "pipeline"]), message: `pipeline "${resource.name}" runs after unknown pipeline "${after.pipeline}"`, hint: didYouMean(after.pipeline, names) ?? (names.length ? `pipelines: ${names.join(", ")}` : "declare it under resources.pipelines") });
    }
  },
  provider: recordOnly(),
  changeKind: replaceOnModuleChange,
});

/** Stages that change a target (an approval before one gates that target). */
function changesTarget(s: StageBlock): boolean {
  return s.type === "deploy" || s.type === "destroy" || s.type === "promote" || s.type === "rollout";
}

/** The target such a stage changes: a promote's `to`, else its `target` (undefined: the pipeline's). */
function changedTarget(s: StageBlock | undefined): string | undefined {
  return s?.type === "promote" ? s.to : s?.target;
}

function requiredHint(type: StageType, key: keyof StageBlock): string {
  if (type === "run") return "name the job to run, e.g. job: train";
  if (type === "wait") return 'say how long, e.g. duration: "10m"';
  if (type === "notify") return "say what to send, e.g. message: \"released\"";
  if (type === "promote") return key === "from" ? "name the target it comes from, e.g. from: dev" : "name the target it goes to, e.g. to: qa";
  if (type === "rollout") return key === "endpoint" ? "name the endpoint, e.g. endpoint: flowers" : "name the candidate version, e.g. model: flowers@challenger";
  return `add ${key}`;
}

/** "user:NAME", "group:NAME" or a bare user NAME, with names that follow the user-name rule. */
export function approverProblem(approver: string): string | undefined {
  const m = /^(user|group):(.*)$/.exec(approver);
  const name = m ? m[2]! : approver;
  if (!m && approver.includes(":")) return `approver "${approver}" must be "user:NAME" or "group:NAME"`;
  const problem = userNameProblem(name);
  return problem ? `approver "${approver}": ${problem}` : undefined;
}

interface ConditionContext {
  byName: Map<string, { index: number; stage: StageBlock }>;
  ancestors: Set<string>;
  paramNames: string[];
  hasUpstream: boolean;
}

/** Parses a `when:` and checks every name it reads. */
function checkCondition(text: string, stageName: string, location: SourceLocation, label: string, report: (d: Diagnostic) => void, c: ConditionContext): void {
  let paths: string[][];
  try {
    paths = conditionPaths(parseCondition(text));
  } catch (e) {
    if (!(e instanceof ConditionSyntaxError)) throw e;
    report({ location, message: `${label}: condition "${text}" is not valid: ${e.message}`, hint: 'for example when: "stages.train.registered == true" (operators: ! == != < <= > >= && ||)' });
    return;
  }
  const problem = (message: string, hint: string) => report({ location, message: `${label}: condition "${text}" ${message}`, hint });
  for (const path of paths) {
    const [root, name, field] = path;
    if (root === "stages") {
      if (name === undefined) {
        problem("reads `stages` without a stage name", "write stages.NAME.FIELD, e.g. stages.train.registered");
        continue;
      }
      const stage = c.byName.get(name);
      if (!stage) {
        problem(`names unknown stage "${name}"`, didYouMean(name, [...c.byName.keys()]) ?? `stages: ${[...c.byName.keys()].join(", ")}`);
        continue;
      }
      if (name === stageName || !c.ancestors.has(name)) {
        problem(`reads stage "${name}", which does not run before this one`, `add "${name}" to depends_on (directly or through another stage) so its results exist when this condition is read`);
        continue;
      }
      const fields = STAGE_FIELDS[stage.stage.type];
      if (field === undefined) problem(`reads stage "${name}" without a field`, `write stages.${name}.FIELD; a ${stage.stage.type} stage has ${fields.join(", ")}`);
      else if (!fields.includes(field)) problem(`reads unknown field "${field}" of stage "${name}" (${stage.stage.type})`, didYouMean(field, fields) ?? `a ${stage.stage.type} stage has ${fields.join(", ")}`);
      else if (path.length > 3 && !OPEN_FIELDS.has(field)) problem(`reads below stages.${name}.${field}, which is a plain value`, `compare stages.${name}.${field} itself`);
    } else if (root === "params") {
      if (name === undefined) problem("reads `params` without a parameter name", "write params.NAME");
      else if (!c.paramNames.includes(name)) problem(`reads undeclared parameter "${name}"`, didYouMean(name, c.paramNames) ?? "declare it under the pipeline's params: with a default");
    } else if (root === "trigger") {
      if (name === undefined || !TRIGGER_FIELDS.includes(name)) problem(`reads ${name === undefined ? "`trigger` without a field" : `unknown field "trigger.${name}"`}`, didYouMean(name ?? "", TRIGGER_FIELDS) ?? `trigger has ${TRIGGER_FIELDS.join(", ")}`);
    } else if (root === "upstream") {
      if (!c.hasUpstream) problem("reads upstream, which only a pipeline with triggers.after has", "add triggers.after, or read stages.NAME instead");
      else if (name === undefined || !UPSTREAM_FIELDS.includes(name)) problem(`reads ${name === undefined ? "`upstream` without a field" : `unknown field "upstream.${name}"`}`, didYouMean(name ?? "", UPSTREAM_FIELDS) ?? `upstream has ${UPSTREAM_FIELDS.join(", ")}`);
    } else {
      problem(`reads "${root}", which is not stages, params, trigger or upstream`, didYouMean(root ?? "", ["stages", "params", "trigger", "upstream"]) ?? "conditions read stages.NAME.FIELD, params.NAME, trigger.FIELD and upstream.FIELD");
    }
  }
}
