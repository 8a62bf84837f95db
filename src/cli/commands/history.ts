import type { Command } from "commander";
import { history, type HistoryEntry } from "../../operations/queries.js";
import { historyView } from "../../views/deployments.js";
import { execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import type { Output } from "../output.js";

export function registerHistory(program: Command): void {
  withCommonOptions(program.command("history").description("deployments of a target, newest first; successful ones are numbered revisions"))
    .addOption(intOption("--limit <n>", "how many to show").default(50))
    .action((flags: CommonFlags & { limit: number }) =>
      execute("history", flags, async ({ out, ctx }) => {
        const h = await history({ ...projectOptions(flags), limit: flags.limit }, ctx);
        return { fields: historyView(h), text: () => printHistory(out, h) };
      }),
    );
}

function printHistory(out: Output, h: { project: string; target: string; deployments: HistoryEntry[] }): void {
  if (h.deployments.length === 0) return out.line(`${h.project}/${h.target} has no deployments yet.`);
  out.line(`${"REV".padEnd(5)}${"OPERATION".padEnd(10)}${"STATUS".padEnd(13)}${"STARTED".padEnd(26)}${"USER".padEnd(12)}CHANGES`);
  for (const d of h.deployments) {
    const s = d.summary;
    const extra = d.options.rollback_to ? ` (to revision ${d.options.rollback_to})` : d.options.phase !== undefined && d.options.phase !== null ? ` (phase ${d.options.phase})` : "";
    out.line(`${String(d.revision ?? "-").padEnd(5)}${d.operation.padEnd(10)}${d.status.padEnd(13)}${d.startedAt.padEnd(26)}${d.user.slice(0, 11).padEnd(12)}+${s.create} ~${s.update} -/+${s.replace} -${s.delete}${extra}`);
    if (d.error) out.line(out.style("dim", `     ${d.error}`));
  }
}
