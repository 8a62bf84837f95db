import type { Command } from "commander";
import type { FieldsOf } from "../../views/documents.js";
import { execute, intOption } from "../common.js";
import type { Output } from "../output.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

export function registerHistory(program: Command): void {
  withProjectOptions(program.command("history").description("deployments of a target, newest first; successful ones are numbered revisions"))
    .addOption(intOption("--limit <n>", "how many to show").default(50))
    .action((flags: ProjectFlags & { limit: number }) =>
      execute("history", flags, async (rt) => {
        const { fields } = await onProject(rt, flags, "history", { limit: flags.limit });
        return { fields, text: () => printHistory(rt.out, fields) };
      }),
    );
}

function printHistory(out: Output, h: FieldsOf<"history">): void {
  if (h.deployments.length === 0) return out.line(`${h.project}/${h.target} has no deployments yet.`);
  out.line(`${"REV".padEnd(5)}${"OPERATION".padEnd(10)}${"STATUS".padEnd(13)}${"STARTED".padEnd(26)}${"USER".padEnd(12)}CHANGES`);
  for (const d of h.deployments) {
    const s = d.summary;
    const extra = d.options.rollback_to ? ` (to revision ${d.options.rollback_to})` : d.options.phase !== undefined && d.options.phase !== null ? ` (phase ${d.options.phase})` : "";
    out.line(`${String(d.revision ?? "-").padEnd(5)}${d.operation.padEnd(10)}${d.status.padEnd(13)}${d.started_at.padEnd(26)}${d.user.slice(0, 11).padEnd(12)}+${s.create} ~${s.update} -/+${s.replace} -${s.delete}${extra}`);
    if (d.error) out.line(out.style("dim", `     ${d.error}`));
  }
}
