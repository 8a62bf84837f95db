// `slipway pipelines list | run NAME | runs NAME | status RUN | approve RUN | reject RUN | logs RUN`:
// release pipelines (src/operations/pipelines.ts). An embedded `run` advances the run in the
// foreground until it finishes or waits for an approval or a wait, then the server carries it on.
// Approvals are decided as the local user (SLIPWAY_USER, with their groups in SLIPWAY_HOME) and
// appended to the audit log, like the API's decisions.
import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import type { RuntimeEnv } from "../../env.js";
import { planLines } from "../../pipelines/plan-lines.js";
import type { ProjectArgs } from "../../server/project-documents.js";
import type { FieldsOf } from "../../views/documents.js";
import { collect, execute, intOption, projectOptions, type CommandRuntime } from "../common.js";
import type { Output } from "../output.js";
import { onProject, remoteProjectFor, withProjectOptions, type ProjectFlags } from "../project.js";

/** Runs a pipelines command embedded or on the server (--server, SLIPWAY_SERVER or a stored login); the text is rendered from its document either way. */
function onPipelines<C extends "pipelines list" | "pipelines runs" | "pipelines status" | "pipelines logs">(rt: CommandRuntime, flags: ProjectFlags, command: C, args: ProjectArgs[C]) {
  return onProject(rt, flags, command, args);
}

export function registerPipelines(program: Command): void {
  const pipelines = program.command("pipelines").description("release pipelines: list, run, runs, status, approve, reject, logs (see docs/pipelines.md)");

  withProjectOptions(pipelines.command("list").description("the target's deployed pipelines: stages, triggers, concurrency, latest run")).action((flags: ProjectFlags) =>
    execute("pipelines list", flags, async (rt) => {
      const { out } = rt;
      const { fields: r } = await onPipelines(rt, flags, "pipelines list", {});
      const text = () => {
        if (!r.pipelines.length) return out.line(`no pipeline is deployed to ${r.project}/${r.target}.`);
        for (const p of r.pipelines) {
          out.line(`${p.name}  (module ${p.module})${p.description ? `  ${p.description}` : ""}`);
          out.line(`  stages: ${p.stages.map((s) => `${s.name} (${s.type}${s.target && s.type !== "run" ? ` ${s.target}` : ""})`).join(" -> ")}`);
          out.line(`  triggers: ${p.triggers.join("; ") || "none"}; concurrency ${p.concurrency}`);
          out.line(`  last run: ${p.last_run ? `${p.last_run.id} ${p.last_run.status} (${p.last_run.trigger}, ${p.last_run.created_at})` : "none"}`);
        }
        if (!r.server_running) out.line("note: no Slipway server runs for this SLIPWAY_HOME: cron, git and after triggers, approvals and waits advance only while one runs (`pipelines run` starts it).");
      };
      return { fields: r, text };
    }),
  );

  withProjectOptions(pipelines.command("run").description("start a run of a deployed pipeline; its stages run here until it finishes or waits for an approval or a wait, then the server carries it on (with --server: the server runs it, and the command follows it to the same point)"))
    .argument("<name>", "pipeline name")
    .option("--param <name=value>", "a pipeline parameter (repeatable)", collect)
    .option("--detach", "leave every stage to the server (start it if needed) and return at once")
    .action((name: string, flags: ProjectFlags & { param?: string[]; detach?: boolean }) =>
      execute("pipelines run", flags, async (rt) => {
        const { out } = rt;
        const args = { name, params: params(flags.param), detach: flags.detach, onLine: (line: string) => out.line(out.style("dim", line)) };
        const remote = await remoteProjectFor(rt, flags);
        let answer = await onProject(rt, flags, "pipelines run", args);
        // The server records the run and answers at once: follow it as the embedded command does, until
        // it ends or only approvals and waits are left.
        if (remote && !flags.detach) {
          const { pipelineRunFailure } = await import("../../views/pipelines.js");
          for (let fields = answer.fields; !["succeeded", "failed", "cancelled", "skipped", "waiting"].includes(fields.status); ) {
            await rt.env.clock.sleep(FOLLOW_MS);
            fields = (await remote.command("pipelines status", { run: answer.fields.id })).fields;
            answer = { fields, error: pipelineRunFailure(fromRunFields(fields)) };
          }
        }
        const r = answer.fields;
        return { fields: r, error: answer.error, text: () => printRun(out, r) };
      }),
    );

  withProjectOptions(pipelines.command("runs").description("runs of a pipeline on the target, newest first"))
    .argument("<name>", "pipeline name")
    .addOption(intOption("--limit <n>", "at most this many (default 20)"))
    .action((name: string, flags: ProjectFlags & { limit?: number }) =>
      execute("pipelines runs", flags, async (rt) => {
        const { out } = rt;
        const { fields: r } = await onPipelines(rt, flags, "pipelines runs", { name, limit: flags.limit });
        const text = () => {
          if (!r.runs.length) return out.line(`${name} has not run on ${r.project}/${r.target}.`);
          for (const run of r.runs) out.line(summaryLine(run));
        };
        return { fields: r, text };
      }),
    );

  withProjectOptions(pipelines.command("status").description("one pipeline run: each stage's status, approvals (who may approve, what would be deployed), notifications"))
    .argument("<run>", "pipeline run id (or a unique prefix)")
    .action((run: string, flags: ProjectFlags) =>
      execute("pipelines status", flags, async (rt) => {
        const { fields: r } = await onPipelines(rt, flags, "pipelines status", { run });
        return { fields: r, text: () => printRun(rt.out, r) };
      }),
    );

  for (const decision of ["approve", "reject"] as const) {
    withProjectOptions(pipelines.command(decision).description(decision === "approve" ? "approve a waiting approval stage (you must be one of its approvers and hold CAN_MANAGE on the target it gates)" : "reject a waiting approval stage: the stage fails, and so does the run"))
      .argument("<run>", "pipeline run id (or a unique prefix)")
      .requiredOption("--stage <name>", "the approval stage")
      .option("--comment <text>", decision === "reject" ? "why (recorded with the decision and in the audit log)" : "a note recorded with the decision")
      .action((run: string, flags: ProjectFlags & { stage: string; comment?: string }) =>
        execute(`pipelines ${decision}`, flags, async (rt) => {
          const { out, ctx, env } = rt;
          const command = `pipelines ${decision}` as const;
          const args = { run, stage: flags.stage, comment: flags.comment };
          // Remotely the server decides as the token's user and audits it; embedded, the local user (with their groups in SLIPWAY_HOME).
          const { projectCommands } = await import("../../server/project-documents.js");
          const { fields: r } = (await remoteProjectFor(rt, flags))
            ? await onProject(rt, flags, command, args)
            : await asLocalApprover(env, (actor) => (projectCommands[command] as (typeof projectCommands)["pipelines approve"])({ ...ctx, actor }, projectOptions(flags), args), { run, stage: flags.stage, decision, comment: flags.comment });
          return {
            fields: r,
            text: () => {
              out.line(`${decision === "approve" ? "approved" : "rejected"} stage ${r.decision.stage} of ${r.run.id} as ${r.decision.user}${r.decision.comment ? `: ${r.decision.comment}` : ""}`);
              printRun(out, r.run);
            },
          };
        }),
      );
  }

  withProjectOptions(pipelines.command("logs").description("a stage's log: a run stage's job output, a deploy's or destroy's progress, a notify's deliveries"))
    .argument("<run>", "pipeline run id (or a unique prefix)")
    .requiredOption("--stage <name>", "the stage")
    .action((run: string, flags: ProjectFlags & { stage: string }) =>
      execute("pipelines logs", flags, async (rt) => {
        const { out } = rt;
        const { fields: r } = await onPipelines(rt, flags, "pipelines logs", { run, stage: flags.stage });
        const text = () => {
          if (!r.lines.length) return out.line(`stage ${r.stage} of ${r.run} (${r.status}) has no log lines.`);
          for (const l of r.lines) out.line(l.task ? `[${l.task}] ${l.line}` : l.line);
        };
        return { fields: r, text };
      }),
    );
}

/** How often a remote `pipelines run` looks at the run it follows. */
const FOLLOW_MS = 250;

type RunFields = FieldsOf<"pipelines status">;

/** Enough of a run for pipelineRunFailure (the document's error when it ended without succeeding). */
function fromRunFields(r: RunFields): Parameters<typeof import("../../views/pipelines.js").pipelineRunFailure>[0] {
  return { id: r.id, pipeline: r.pipeline, status: r.status, message: r.reason, target: r.target } as Parameters<typeof import("../../views/pipelines.js").pipelineRunFailure>[0];
}

/** The local user as an approver (with their groups in SLIPWAY_HOME); the decision, or the refusal, goes to the audit log. */
async function asLocalApprover<T extends { fields: FieldsOf<"pipelines approve"> | FieldsOf<"pipelines reject"> }>(env: RuntimeEnv, decide: (actor: { name: string; groups: string[] }) => Promise<T>, what: { run: string; stage: string; decision: string; comment?: string }): Promise<T> {
  const { openControlPlane } = await import("../../server/control-plane.js");
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
      const run = result?.fields.run;
      await cp.audit.append({ actor: env.user, action: `pipeline ${what.decision}`, project: run?.project, target: run?.target, resource: run?.id ?? what.run, client: "local", outcome, detail: { stage: what.stage, ...(what.comment ? { comment: what.comment } : {}) } });
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

function summaryLine(r: FieldsOf<"pipelines runs">["runs"][number]): string {
  const took = r.duration_ms !== null ? ` in ${(r.duration_ms / 1000).toFixed(1)}s` : "";
  return `${r.id}  ${r.pipeline} on ${r.project}/${r.target}: ${r.status}${took}  (${r.trigger}${r.trigger_ref ? ` ${r.trigger_ref}` : ""}, by ${r.user}, ${r.created_at})${r.reason ? `\n  ${r.reason}` : ""}`;
}

export function printRun(out: Output, r: RunFields): void {
  out.line(summaryLine(r));
  if (Object.keys(r.params).length) out.line(`  params: ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  for (const s of r.stages) {
    const color = s.status === "succeeded" ? "green" : s.status === "failed" || s.status === "cancelled" ? "red" : s.status === "waiting" ? "yellow" : "dim";
    const took = s.duration_ms !== null ? ` ${(s.duration_ms / 1000).toFixed(1)}s` : "";
    const rest = `${took}${s.job_run ? `  job run ${s.job_run}` : ""}${s.message ? `  ${s.message}` : ""}`;
    out.line(`  ${s.name.padEnd(16)} ${s.type.padEnd(9)} ${rest ? out.style(color, s.status.padEnd(10)) + rest : out.style(color, s.status)}`);
    if (s.approval && s.status === "waiting") {
      const a = s.approval;
      out.line(`      needs ${a.required} approval(s) from ${a.approvers.join(", ")} (CAN_MANAGE on ${a.target})${a.prevent_self_review ? `, not ${r.user}` : ""}, until ${a.timeout_at}`);
      for (const d of a.decisions) out.line(`      ${d.decision === "approve" ? "approved" : "rejected"} by ${d.user} at ${d.at}${d.comment ? `: ${d.comment}` : ""}`);
      for (const p of a.plan) {
        out.line(`      would change ${r.project}/${p.target}:`);
        for (const l of planLines(p)) out.line(`    ${l}`);
      }
      out.line(`      slipway pipelines approve ${r.id} --stage ${s.name} -t ${r.target}`);
    }
    if (s.type === "wait" && s.status === "waiting" && s.due_at) out.line(`      until ${s.due_at}`);
  }
  for (const n of r.notifications) out.line(`  notification ${n.event} on ${n.channel}: ${n.status}${n.attempts > 1 ? ` after ${n.attempts} attempts` : ""}${n.reason ? ` (${n.reason})` : ""}`);
}
