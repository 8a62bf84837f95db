// What a pipeline's `rollout` stage does to an endpoint (src/pipelines/engine.ts runs the steps):
//
// - start:  the candidate (a version in the endpoint's target registry, of a model the endpoint
//           serves) and the champion (the version of that model the endpoint serves with the most
//           traffic); the metric gate compares their registry metrics before any traffic moves.
// - shift:  a runtime traffic override: the endpoint's recorded configuration (what the last deploy
//           gave the server) with the candidate added at the step's share and the deployed versions
//           scaled into the rest, handed to the server's rolling switch (/admin/apply, as a deploy
//           does). It is not recorded: a server restart, a deploy or a revert serves the recorded
//           configuration again, so an interrupted rollout falls back to what was deployed.
// - health: the candidate's answers in the inference table since the step's mark (5xx share, p95).
// - revert: the recorded configuration again (the candidate stops; the rest is as deployed).
// - finish: with `alias`, the alias moves to the candidate and the endpoint's module is deployed, so
//           the last step becomes a deployment revision that history and rollback see.
// Why an override rather than a deploy per step: a deploy serves what module.yaml says, and a rollout
// must not edit the project's files; see docs/architecture.md ("Rollouts").
import { join } from "node:path";
import type { CompiledProject } from "../kinds/compile-project.js";
import type { RolloutHealth, RolloutStart } from "../pipelines/effects.js";
import type { StageSpec } from "../kinds/pipeline/index.js";
import type { ModelManifest } from "../registry/manifest.js";
import { parseModelRef, resolveVersion } from "../registry/resolve.js";
import { adminCall, localServingControl, runningServer } from "../serving/control.js";
import type { EndpointConfig, ServedConfig } from "../serving/endpoints.js";
import { openInferenceReader } from "../serving/inference-table.js";
import { inferencePlace } from "../serving/inference-place.js";
import { SlipwayError } from "../errors.js";
import type { RuntimeEnv } from "../env.js";
import { openArchives } from "../store/archives.js";
import type { Stores } from "../store/open.js";

interface Where {
  compiled: CompiledProject;
  stores: Stores;
  env: RuntimeEnv;
  stage: StageSpec;
}

/** The endpoint's configuration as last deployed (recorded), and its module. */
export async function recordedEndpoint(w: Where): Promise<{ config: EndpointConfig; module: string }> {
  const { project } = w.compiled;
  const recorded = (await w.stores.state.forTarget(project.name, project.target.name).listResources()).find((r) => r.address === `endpoint.${w.stage.endpoint}`);
  const config = recorded?.outputs.config as EndpointConfig | undefined;
  if (recorded?.outputs.kubernetes) {
    throw new SlipwayError("invalid_config", `endpoint ${w.stage.endpoint} of ${project.name}/${project.target.name} is served on Kubernetes (serving: { type: kubernetes }): a rollout shifts the gateway's traffic, which does not serve it`, {
      hint: "serve a new version with a deploy (served: [{ model, version }]) instead, or roll out on a target served by the gateway",
    });
  }
  if (!recorded || !config) throw new SlipwayError("not_deployed", `endpoint ${w.stage.endpoint} is not deployed to ${project.name}/${project.target.name}`, { hint: `deploy it first (a deploy stage before the rollout, or slipway deploy -t ${project.target.name})` });
  return { config, module: recorded.module };
}

export async function rolloutStart(w: Where): Promise<RolloutStart> {
  const { config } = await recordedEndpoint(w);
  const ref = parseModelRef(w.stage.model!);
  const servedModels = [...new Set(config.served.map((s) => s.model))];
  if (!servedModels.includes(ref.model)) throw new SlipwayError("invalid_config", `endpoint ${w.stage.endpoint} serves ${servedModels.join(", ")}, not ${ref.model}`, { hint: `name a version of ${servedModels[0]}, e.g. model: ${servedModels[0]}@challenger` });
  const models = w.stores.state.models(w.compiled.project.name, w.compiled.project.target.name);
  const candidate = await resolveVersion(models, ref.model, ref);
  const champion = config.served.filter((s) => s.model === ref.model).sort((a, b) => b.percent - a.percent)[0]?.version ?? null;
  let gate: RolloutStart["gate"] = null;
  const g = w.stage.gate;
  if (g) {
    const metricOf = async (version: number) => (JSON.parse((await resolveVersion(models, ref.model, { version })).metrics) as Record<string, unknown>)[g.metric];
    const value = await metricOf(candidate.version);
    const base = champion !== null && champion !== candidate.version ? await metricOf(champion) : undefined;
    gate = judgeGate(g, ref.model, candidate.version, value, champion, base);
  }
  return { model: ref.model, candidate: candidate.version, champion, gate };
}

/** threshold, min_absolute_change, min_relative_change: each given limit must hold. */
export function judgeGate(g: NonNullable<StageSpec["gate"]>, model: string, candidate: number, value: unknown, champion: number | null, base: unknown): { passed: boolean; message: string } {
  const better = g.greater_is_better !== false;
  if (typeof value !== "number") return { passed: false, message: `${model}@${candidate} has no number ${g.metric} in its metrics` };
  const problems: string[] = [];
  const said = [`${g.metric} ${value}`];
  if (g.threshold !== undefined && (better ? value < g.threshold : value > g.threshold)) problems.push(`${g.metric} ${value} is ${better ? "below" : "above"} the threshold ${g.threshold}`);
  if (g.min_absolute_change !== undefined || g.min_relative_change !== undefined) {
    if (typeof base !== "number") {
      said.push(champion === null ? "no champion to compare with" : `the champion ${model}@${champion} has no number ${g.metric}: changes not compared`);
    } else {
      const change = better ? value - base : base - value;
      said.push(`champion ${model}@${champion}: ${base}, change ${round(change)}`);
      if (g.min_absolute_change !== undefined && change < g.min_absolute_change) problems.push(`the change over the champion (${round(change)}) is below min_absolute_change ${g.min_absolute_change}`);
      if (g.min_relative_change !== undefined && base !== 0 && change / Math.abs(base) < g.min_relative_change) problems.push(`the relative change (${round(change / Math.abs(base))}) is below min_relative_change ${g.min_relative_change}`);
    }
  }
  return problems.length ? { passed: false, message: `${model}@${candidate}: ${problems.join("; ")}` } : { passed: true, message: `${model}@${candidate} passes (${said.join("; ")})` };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** Serves the candidate at `percent`; the deployed versions share the rest as they shared all. */
export async function rolloutShift(w: Where, start: RolloutStart, percent: number): Promise<{ mark: number }> {
  const { config } = await recordedEndpoint(w);
  const { project } = w.compiled;
  const serving = localServingControl(w.env, project.name, project.target.name);
  const version = await resolveVersion(w.stores.state.models(project.name, project.target.name), start.model, { version: start.candidate });
  const archives = openArchives(w.env.home, project.dir, project.archives);
  const dir = await serving.modelDir(start.model, version.version, JSON.parse(version.files) as Record<string, string>, archives.persisted_data);
  const others = config.served.filter((s) => !(s.model === start.model && s.version === start.candidate));
  const total = others.reduce((n, s) => n + s.percent, 0);
  const rest = 100 - percent;
  const served: ServedConfig[] = [
    ...(total > 0 && rest > 0 ? others.map((s) => ({ ...s, percent: (s.percent / total) * rest })) : others.map((s) => ({ ...s, percent: 0 }))),
    { model: start.model, version: start.candidate, percent: total > 0 ? percent : 100, manifest: JSON.parse(version.manifest) as ModelManifest, dir },
  ];
  // The mark first: what the candidate answers from now on is this step's.
  const mark = await inferenceMark(w);
  await serving.apply({ ...config, served });
  return { mark };
}

async function flushed(env: RuntimeEnv): Promise<void> {
  const server = await runningServer(env);
  if (server) await adminCall(server, "/admin/flush");
}

async function inferenceMark(w: Where): Promise<number> {
  await flushed(w.env);
  const table = await openInferenceReader(inferencePlace(w.env.home, w.env.processEnv));
  try {
    return await table.lastSeq({ project: w.compiled.project.name, target: w.compiled.project.target.name, endpoint: w.stage.endpoint! });
  } finally {
    await table.close();
  }
}

export async function rolloutHealth(w: Where, start: RolloutStart, mark: number): Promise<RolloutHealth> {
  await flushed(w.env);
  const table = await openInferenceReader(inferencePlace(w.env.home, w.env.processEnv));
  let rows: Array<{ status: number; latency_ms: number }>;
  try {
    rows = await table.answersSince({ project: w.compiled.project.name, target: w.compiled.project.target.name, endpoint: w.stage.endpoint! }, mark, start.model, start.candidate);
  } finally {
    await table.close();
  }
  const latencies = rows.map((r) => r.latency_ms).sort((a, b) => a - b);
  const p95 = latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.95) - 1)]! : null;
  return { requests: rows.length, errors: rows.filter((r) => r.status >= 500).length, p95_ms: p95 };
}

export async function rolloutRevert(w: Where): Promise<void> {
  const { config } = await recordedEndpoint(w);
  await localServingControl(w.env, w.compiled.project.name, w.compiled.project.target.name).apply(config);
}
