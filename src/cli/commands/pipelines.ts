// `slipway pipelines list | run NAME | runs NAME | status RUN | approve RUN | reject RUN | logs RUN`:
// release pipelines (src/operations/pipelines.ts). An embedded `run` advances the run in the
// foreground until it finishes or waits for an approval or a wait, then the server carries it on.
// Approvals are decided as the local user (SLIPWAY_USER, with their groups in SLIPWAY_HOME) and
// appended to the audit log, like the API's decisions.
import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import type { RuntimeEnv } from "../../env.js";
import { decideApproval, listPipelineRuns, listPipelines, pipelineStageLogs, pipelineStatus, runPipeline, type PipelineRunDetails, type PipelineRunSummary } from "../../operations/pipelines.js";
import { planLines } from "../../pipelines/engine.js";
import { openControlPlane } from "../../server/control-plane.js";
import { pipelineDecisionView, pipelineLogsView, pipelineRunFailure, pipelineRunsView, pipelineRunView, pipelinesView } from "../../views/pipelines.js";
import { collect, execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import type { Output } from "../output.js";
import { remoteFor, withServerOption, type ServerFlags } from "../remote.js";
import { SlipwayError } from "../../errors.js";

/**
 * The pipelines commands work on the local home only (for now): with a server configured (--server,
 * SLIPWAY_SERVER or a stored login) they refuse rather than act on the wrong home.
 */
function localPipelines(env: RuntimeEnv, flags: ServerFlags): void {
  const remote = remoteFor(env, flags);
  if (remote) throw new SlipwayError("not_remote", `the pipelines commands do not run on a server from the CLI yet (${remote.url} is configured)`, { hint: "use the API's pipeline routes (docs/api.md), or --no-server to work on the local home" });
}

export function registerPipelines(program: Command): void {
  const pipelines = program.command("pipelines").description("release pipelines: list, run, runs, status, approve, reject, logs (see docs/pipelines.md)");

  withServerOption(withCommonOptions(pipelines.command("list").description("the target's deployed pipelines: stages, triggers, concurrency, latest run"))).action((flags: CommonFlags & ServerFlags) =>
    execute("pipelines list", flags, async ({ out, ctx, env }) => {
      localPipelines(env, flags);
      const r = await listPipelines(projectOptions(flags), ctx);
      const text = () => {
        if (!r.pipelines.length) return out.line(`no pipeline is deployed to ${r.project}/${r.target}.`);
        for (const p of r.pipelines) {
          out.line(`${p.name}  (module ${p.module})${p.description ? `  ${p.description}` : ""}`);
          out.line(`  stages: ${p.stages.map((s) => `${s.name} (${s.type}${s.target && s.type !== "run" ? ` ${s.target}` : ""})`).join(" -> ")}`);
          out.line(`  triggers: ${p.triggers.join("; ") || "none"}; concurrency ${p.concurrency}`);
          out.line(`  last run: ${p.lastRun ? `${p.lastRun.id} ${p.lastRun.status} (${p.lastRun.trigger}, ${p.lastRun.createdAt})` : "none"}`);
        }
        if (!r.serverRunning) out.line("note: no Slipway server runs for this SLIPWAY_HOME: cron, git and after triggers, approvals and waits advance only while one runs (`pipelines run` starts it).");
      };
      return { fields: pipelinesView(r), text };
    }),
  );

  withServerOption(withCommonOptions(pipelines.command("run").description("start a run of a deployed pipeline; its stages run here until it finishes or waits for an approval or a wait, then the server carries it on")))
    .argument("<name>", "pipeline name")
    .option("--param <name=value>", "a pipeline parameter (repeatable)", collect)
    .option("--detach", "leave every stage to the server (start it if needed) and return at once")
    .action((name: string, flags: CommonFlags & ServerFlags & { param?: string[]; detach?: boolean }) =>
      execute("pipelines run", flags, async ({ out, ctx, env }) => {
        localPipelines(env, flags);
        const r = await runPipeline({ ...projectOptions(flags), name, params: params(flags.param), detach: flags.detach, onLine: (line) => out.line(out.style("dim", line)) }, ctx);
        return { fields: pipelineRunView(r), error: pipelineRunFailure(r), text: () => printRun(out, r) };
      }),
    );

  withServerOption(withCommonOptions(pipelines.command("runs").description("runs of a pipeline on the target, newest first")))
    .argument("<name>", "pipeline name")
    .addOption(intOption("--limit <n>", "at most this many (default 20)"))
    .action((name: string, flags: CommonFlags & ServerFlags & { limit?: number }) =>
      execute("pipelines runs", flags, async ({ out, ctx, env }) => {
        localPipelines(env, flags);
        const r = await listPipelineRuns({ ...projectOptions(flags), name, limit: flags.limit }, ctx);
        const text = () => {
          if (!r.runs.length) return out.line(`${name} has not run on ${r.project}/${r.target}.`);
          for (const run of r.runs) out.line(summaryLine(run));
        };
        return { fields: pipelineRunsView(r), text };
      }),
    );

  withServerOption(withCommonOptions(pipelines.command("status").description("one pipeline run: each stage's status, approvals (who may approve, what would be deployed), notifications")))
    .argument("<run>", "pipeline run id (or a unique prefix)")
    .action((run: string, flags: CommonFlags & ServerFlags & ServerFlags) =>
      execute("pipelines status", flags, async ({ out, ctx, env }) => {
        localPipelines(env, flags);
        const r = await pipelineStatus({ ...projectOptions(flags), run }, ctx);
        return { fields: pipelineRunView(r), text: () => printRun(out, r) };
      }),
    );

  for (const decision of ["approve", "reject"] as const) {
    withServerOption(withCommonOptions(pipelines.command(decision).description(decision === "approve" ? "approve a waiting approval stage (you must be one of its approvers and hold CAN_MANAGE on the target it gates)" : "reject a waiting approval stage: the stage fails, and so does the run")))
      .argument("<run>", "pipeline run id (or a unique prefix)")
      .requiredOption("--stage <name>", "the approval stage")
      .option("--comment <text>", decision === "reject" ? "why (recorded with the decision and in the audit log)" : "a note recorded with the decision")
      .action((run: string, flags: CommonFlags & ServerFlags & { stage: string; comment?: string }) =>
        execute(`pipelines ${decision}`, flags, async ({ out, ctx, env }) => {
          localPipelines(env, flags);
          const r = await asLocalApprover(env, (actor) => decideApproval({ ...projectOptions(flags), run, stage: flags.stage, decision, comment: flags.comment }, { ...ctx, actor }), { run, stage: flags.stage, decision, comment: flags.comment });
          return {
            fields: pipelineDecisionView(r),
            text: () => {
              out.line(`${decision === "approve" ? "approved" : "rejected"} stage ${r.decision.stage} of ${r.id} as ${r.decision.user}${r.decision.comment ? `: ${r.decision.comment}` : ""}`);
              printRun(out, r);
            },
          };
        }),
      );
  }

  withServerOption(withCommonOptions(pipelines.command("logs").description("a stage's log: a run stage's job output, a deploy's or destroy's progress, a notify's deliveries")))
    .argument("<run>", "pipeline run id (or a unique prefix)")
    .requiredOption("--stage <name>", "the stage")
    .action((run: string, flags: CommonFlags & ServerFlags & { stage: string }) =>
      execute("pipelines logs", flags, async ({ out, ctx, env }) => {
        localPipelines(env, flags);
        const r = await pipelineStageLogs({ ...projectOptions(flags), run, stage: flags.stage }, ctx);
        const text = () => {
          if (!r.lines.length) return out.line(`stage ${r.stage} of ${r.run} (${r.status}) has no log lines.`);
          for (const l of r.lines) out.line(l.task ? `[${l.task}] ${l.line}` : l.line);
        };
        return { fields: pipelineLogsView(r), text };
      }),
    );
}

/** The local user as an approver (with their groups in SLIPWAY_HOME); the decision, or the refusal, goes to the audit log. */
async function asLocalApprover<T extends PipelineRunDetails>(env: RuntimeEnv, decide: (actor: { name: string; groups: string[] }) => Promise<T>, what: { run: string; stage: string; decision: string; comment?: string }): Promise<T> {
  const cp = await openControlPlane(env);
  try {
    const actor = { name: env.user, groups: await cp.identities.groupsOf(env.user) };
    let result: T | undefined;
    let outcome = "ok";
    try {
      result = await decide(actor);
      return result;
    } catch (e) {
      outcome = (e as { code?: string }).code ?? "internal";
      throw e;
    } finally {
      await cp.audit.append({ actor: env.user, action: `pipeline ${what.decision}`, project: result?.project, target: result?.target, resource: result?.id ?? what.run, client: "local", outcome, detail: { stage: what.stage, ...(what.comment ? { comment: what.comment } : {}) } });
    }
  } finally {
    await cp.stores.close();
  }
}

function params(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const problems = [];
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) problems.push({ message: `--param "${pair}" is not NAME=value`, hint: "write --param candidate=v2" });
    else out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (problems.length) throw new InvalidInputError(problems, "invalid_flag");
  return out;
}

function summaryLine(r: PipelineRunSummary): string {
  const took = r.durationMs !== null ? ` in ${(r.durationMs / 1000).toFixed(1)}s` : "";
  return `${r.id}  ${r.pipeline} on ${r.project}/${r.target}: ${r.status}${took}  (${r.trigger}${r.triggerRef ? ` ${r.triggerRef}` : ""}, by ${r.user}, ${r.createdAt})${r.message ? `\n  ${r.message}` : ""}`;
}

export function printRun(out: Output, r: PipelineRunDetails): void {
  out.line(summaryLine(r));
  if (Object.keys(r.params).length) out.line(`  params: ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  for (const s of r.stages) {
    const color = s.status === "succeeded" ? "green" : s.status === "failed" || s.status === "cancelled" ? "red" : s.status === "waiting" ? "yellow" : "dim";
    const took = s.durationMs !== null ? ` ${(s.durationMs / 1000).toFixed(1)}s` : "";
    const rest = `${took}${s.jobRun ? `  job run ${s.jobRun}` : ""}${s.message ? `  ${s.message}` : ""}`;
    out.line(`  ${s.name.padEnd(16)} ${s.type.padEnd(9)} ${rest ? out.style(color, s.status.padEnd(10)) + rest : out.style(color, s.status)}`);
    if (s.approval && s.status === "waiting") {
      const a = s.approval;
      out.line(`      needs ${a.required} approval(s) from ${a.approvers.join(", ")} (CAN_MANAGE on ${a.target})${a.preventSelfReview ? `, not ${r.user}` : ""}, until ${a.timeoutAt}`);
      for (const d of a.decisions) out.line(`      ${d.decision === "approve" ? "approved" : "rejected"} by ${d.user} at ${d.at}${d.comment ? `: ${d.comment}` : ""}`);
      for (const p of a.plan) {
        out.line(`      would change ${r.project}/${p.target}:`);
        for (const l of planLines(p)) out.line(`    ${l}`);
      }
      out.line(`      slipway pipelines approve ${r.id} --stage ${s.name} -t ${r.target}`);
    }
    if (s.type === "wait" && s.status === "waiting" && s.dueAt) out.line(`      until ${s.dueAt}`);
  }
  for (const n of r.notifications) out.line(`  notification ${n.event} on ${n.channel}: ${n.status}${n.attempts > 1 ? ` after ${n.attempts} attempts` : ""}${n.message ? ` (${n.message})` : ""}`);
}
