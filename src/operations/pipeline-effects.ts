// What a pipeline's stages do, with the operations the CLI runs (src/pipelines/effects.ts is the
// contract): a run stage submits the job deployed to its target (`slipway run`), a deploy stage is
// `slipway deploy --yes` (mode replace: `destroy --yes` of the scope first), a destroy stage is
// `slipway destroy --yes`, and an approval shows `slipway plan` of the stages it gates. Each compiles
// the project from the run's folder for the stage's target, as the user who triggered the run; the
// trigger was authorized, so stages are not asked again (approvals gate what needs a person).
import type { Reporter } from "../engine/reporter.js";
import type { Plan } from "../engine/plan.js";
import type { RuntimeEnv, UserName } from "../env.js";
import type { CompiledProject } from "../kinds/compile-project.js";
import type { StageSpec } from "../kinds/pipeline/index.js";
import type { ApplyOutcome, JobState, PlanSummary, PromoteOutcome, StageEffects } from "../pipelines/effects.js";
import { promoteArtifact, promoteModel } from "./promote.js";
import { recordedEndpoint, rolloutHealth, rolloutRevert, rolloutShift, rolloutStart } from "./rollout.js";
import { iso } from "../clock.js";
import { planLines } from "../pipelines/engine.js";
import { refreshLiveness } from "../runs/liveness.js";
import { submitRun } from "../runs/submit.js";
import { openStores, type Stores } from "../store/open.js";
import type { PipelineRunRow } from "../store/state/pipeline-store.js";
import { compile, type OperationContext } from "./context.js";
import { deploy, plan, type DeployResult } from "./deploy.js";
import { destroy } from "./destroy.js";
import { cancelRunRow, runSource } from "./runs.js";

/** Compiled projects are reused this long (a tick reads a job's state; an approval's plan and a notification's secret compile once). */
const COMPILED_FOR_MS = 5_000;

export interface ClosableEffects extends StageEffects {
  close(): Promise<void>;
}

export function pipelineEffects(env: RuntimeEnv): ClosableEffects {
  const compiled = new Map<string, { at: number; compiled: CompiledProject }>();
  const stores = new Map<string, Promise<Stores>>();
  const asUser = (run: PipelineRunRow): RuntimeEnv => ({ ...env, user: run.user as UserName });
  const compiledFor = (run: PipelineRunRow, target: string): CompiledProject => {
    const key = `${run.dir}\u0000${target}\u0000${run.user}`;
    const hit = compiled.get(key);
    if (hit && env.clock.now() - hit.at < COMPILED_FOR_MS) return hit.compiled;
    const fresh = compile({ dir: run.dir, target }, asUser(run));
    compiled.set(key, { at: env.clock.now(), compiled: fresh });
    return fresh;
  };
  /** The stores of a target, opened once for the effects' lifetime. */
  const storesFor = (c: CompiledProject): Promise<Stores> => {
    const key = JSON.stringify([c.project.target.config.state ?? null, c.project.target.config.blobs ?? null]);
    let s = stores.get(key);
    if (!s) stores.set(key, (s = openStores(env.home, c.project.target.config)));
    return s;
  };
  const ctxFor = (run: PipelineRunRow, log: (line: string) => void): OperationContext => ({ env: asUser(run), reporter: capture(log) });
  const whereOf = async (run: PipelineRunRow, stage: StageSpec) => {
    const compiled = compiledFor(run, stage.target!);
    return { compiled, stores: await storesFor(compiled), env: asUser(run), stage };
  };

  return {
    async startJob(run, stage, jobRunId, params) {
      const c = compiledFor(run, stage.target!);
      const s = await storesFor(c);
      const source = await runSource(c, s, { job: stage.job! }, () => {});
      // The run's parameters reach the jobs that declare them; the stage's own are passed as written.
      const declared = new Set(Object.keys(source.job.spec.params ?? {}));
      const merged = { ...Object.fromEntries(Object.entries(params.run).filter(([k]) => declared.has(k))), ...params.stage };
      await submitRun(c, s, source, { params: merged, runId: jobRunId, trigger: { kind: "pipeline", ref: run.id } }, asUser(run));
    },
    async jobState(run, stage, jobRunId): Promise<JobState | undefined> {
      const s = await storesFor(compiledFor(run, stage.target!));
      const runs = s.state.runs();
      const row = await runs.get(jobRunId);
      if (!row) return undefined;
      const fresh = await refreshLiveness(runs, row, env.clock);
      return { status: fresh.status, results: fresh.results ? JSON.parse(fresh.results) : null, metrics: fresh.metrics ? JSON.parse(fresh.metrics) : null, error: fresh.error };
    },
    async cancelJob(run, stage, jobRunId) {
      const s = await storesFor(compiledFor(run, stage.target!));
      const row = await s.state.runs().get(jobRunId);
      if (row && (row.status === "queued" || row.status === "running")) await cancelRunRow(s, row, env, `cancelled: pipeline run ${run.id} was cancelled`);
    },
    async deploy(run, stage, log) {
      const ctx = ctxFor(run, log);
      const options = { dir: run.dir, target: stage.target, modules: stage.modules, yes: true, force: stage.force };
      if (stage.mode === "replace") {
        log(`mode replace: destroying ${stage.modules?.length ? `module(s) ${stage.modules.join(", ")} of ` : ""}${stage.target} first`);
        const destroyed = await destroy(options, ctx).catch((e: { code?: string; message: string }) => {
          // Nothing deployed in scope yet: replace is then a create.
          if (e.code === "not_deployed") return undefined;
          throw e;
        });
        if (destroyed?.status === "failed") return applyOutcome(destroyed, `the destroy before the replace failed`);
      }
      return applyOutcome(await deploy({ ...options, phase: stage.phase }, ctx));
    },
    async destroy(run, stage, log) {
      return applyOutcome(await destroy({ dir: run.dir, target: stage.target, modules: stage.modules, yes: true, force: stage.force }, ctxFor(run, log)));
    },
    async promote(run, stage, log): Promise<PromoteOutcome> {
      const ctx = ctxFor(run, log);
      const where = { dir: run.dir, from: stage.from!, to: stage.to! };
      if (stage.model !== undefined) {
        const p = await promoteModel({ ...where, ref: stage.model, alias: stage.alias }, ctx);
        const alias = p.alias ? `; ${p.model}@${p.alias} -> version ${p.to.version}` : "";
        const message = p.promoted ? `promoted ${p.model} version ${p.from.version} of ${p.from.target} to ${p.to.target} as version ${p.to.version}${alias}` : `${p.model} version ${p.from.version} of ${p.from.target} was already in ${p.to.target} as version ${p.to.version}: nothing to promote${alias}`;
        log(message);
        log(`files: ${p.copied.files} copied (${p.copied.bytes} bytes), ${p.copied.present} already in ${p.to.target}'s store`);
        return { message, outputs: { target: p.to.target, model: p.model, version: p.to.version, artifact: null, promoted: p.promoted } };
      }
      const a = await promoteArtifact({ ...where, ref: stage.artifact! }, ctx);
      const message = a.promoted ? `promoted ${a.artifact} ${a.version} from ${a.from} to ${a.to}${a.copied ? "" : " (content already in its store)"}` : `${a.artifact} ${a.version} was already in ${a.to}: nothing to promote`;
      log(message);
      return { message, outputs: { target: a.to, model: null, version: a.version, artifact: a.artifact, promoted: a.promoted } };
    },
    async rolloutStart(run, stage) {
      return rolloutStart(await whereOf(run, stage));
    },
    async rolloutShift(run, stage, start, percent) {
      return rolloutShift(await whereOf(run, stage), start, percent);
    },
    async rolloutHealth(run, stage, start, mark) {
      return rolloutHealth(await whereOf(run, stage), start, mark);
    },
    async rolloutRevert(run, stage) {
      await rolloutRevert(await whereOf(run, stage));
    },
    async rolloutFinish(run, stage, start, log) {
      if (!stage.alias) {
        log(`no alias: ${start.model}@${start.candidate} serves by a traffic override until the next deploy of ${stage.endpoint} (or a server restart)`);
        return null;
      }
      const w = await whereOf(run, stage);
      const { module } = await recordedEndpoint(w);
      await w.stores.state.models(w.compiled.project.name, stage.target!).setAlias(start.model, stage.alias, start.candidate, iso(env.clock.now()));
      log(`${start.model}@${stage.alias} -> version ${start.candidate} in ${stage.target}; deploying module ${module} of ${stage.target}`);
      return applyOutcome(await deploy({ dir: run.dir, target: stage.target, modules: [module], yes: true }, ctxFor(run, log)));
    },
    async plan(run, stage): Promise<PlanSummary> {
      const ctx = ctxFor(run, () => {});
      if (stage.type === "destroy") {
        const c = compiledFor(run, stage.target!);
        const s = await storesFor(c);
        const recorded = await s.state.forTarget(c.project.name, c.project.target.name).listResources();
        const gone = recorded.filter((r) => !stage.modules || stage.modules.includes(r.module));
        return { target: stage.target!, create: 0, update: 0, replace: 0, delete: gone.length, noop: 0, changes: gone.map((r) => ({ action: "delete", address: r.address })) };
      }
      const p = await plan({ dir: run.dir, target: stage.target, phase: stage.phase, modules: stage.modules }, ctx);
      return planSummary(stage.target!, p.plan);
    },
    async envValue(run, name) {
      const c = compiledFor(run, run.target);
      const pipeline = c.resources.find((r) => r.address === `pipeline.${run.pipeline}`);
      return pipeline?.runtime?.env[name] ?? env.processEnv[name];
    },
    async secrets(run) {
      return compiledFor(run, run.target).secrets;
    },
    async close() {
      for (const s of stores.values()) await (await s).close();
      stores.clear();
    },
  };
}

export function planSummary(target: string, p: Plan): PlanSummary {
  return { target, ...p.summary, changes: p.actions.map((a) => ({ action: a.action, address: a.address })) };
}

function applyOutcome(r: DeployResult, failure?: string): ApplyOutcome {
  const plan = planSummary(r.target, r.plan);
  const changed = plan.create + plan.update + plan.replace + plan.delete > 0;
  if (r.status === "failed") {
    const errors = (r.apply?.failed ?? []).map((f) => `${f.action.address}: ${f.error.message}`);
    return { status: "failed", revision: null, changed, plan, error: failure ?? (errors.length ? errors.join("; ") : "the apply failed") };
  }
  return { status: "succeeded", revision: r.revision ?? null, changed, plan };
}

/** A reporter that writes what deploy and destroy say into the stage's log. */
function capture(log: (line: string) => void): Reporter {
  return {
    info: (m) => log(m),
    warn: (m) => log(`warning: ${m}`),
    plan: (p, where) => {
      log(`plan for ${where}:`);
      for (const l of planLines(planSummary(where, p))) log(l);
    },
    actionFinished: (a, r) => log(`${r.ok ? "done" : "FAILED"} ${a.action} ${a.address} (${r.ms} ms)${r.ok ? "" : `: ${r.error}`}`),
    output: (address, stream, line) => log(`  ${address} ${stream === "stderr" ? "!" : "|"} ${line}`),
  };
}
