import type { Command } from "commander";
import { status, type StatusResult } from "../../operations/queries.js";
import { statusView } from "../../views/deployments.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { describeDrift } from "../../compute/drift.js";
import type { Output } from "../output.js";

/** How status shows an endpoint the local server does not serve right now. */
const SERVING: Record<string, string> = {
  ready: "",
  not_ready: " (not ready: its model is starting or restarting)",
  restoring: " (restoring: the server restarted and is starting it)",
  not_served: " (not served: the server runs without it; `slipway deploy` starts it again)",
  no_server: " (not served: no Slipway server is running; `slipway deploy` starts it again)",
};

export function registerStatus(program: Command): void {
  withCommonOptions(program.command("status").alias("summary").description("what is deployed to a target, who holds its lock, what a deploy would change")).action((flags: CommonFlags) =>
    execute("status", flags, async ({ out, ctx }) => {
      const s = await status(projectOptions(flags), ctx);
      return { fields: statusView(s), text: () => printStatus(out, s) };
    }),
  );
}

function printStatus(out: Output, s: StatusResult): void {
  out.line(out.style("bold", `${s.project}/${s.target}`) + (s.protected ? " (protected)" : "") + (s.revision ? `  revision ${s.revision}` : "  never deployed"));
  if (s.lastDeployment) out.line(`last ${s.lastDeployment.operation}: ${s.lastDeployment.status} at ${s.lastDeployment.finishedAt ?? s.lastDeployment.startedAt} by ${s.lastDeployment.user}`);
  if (s.lock) out.line(out.style("yellow", `locked by ${s.lock.user}@${s.lock.host} (pid ${s.lock.pid}) running ${s.lock.operation} since ${s.lock.since}`));
  out.line("modules:");
  for (const m of s.modules) {
    out.line(`  ${m.deployed ? out.style("green", "deployed    ") : "not deployed"}  ${m.name.padEnd(20)} ${m.resources} resource(s)${m.dependsOn.length ? `, depends on ${m.dependsOn.join(", ")}` : ""}`);
  }
  for (const e of s.endpoints) out.line(`endpoint ${e.name}: ${e.url}${e.expiresAt ? `, expires ${e.expiresAt} (TTL, reset by each deploy)` : ""}${SERVING[e.serving]}`);
  const kinds = Object.entries(s.resources).map(([k, n]) => `${n} ${k}`).join(", ");
  out.line(`resources: ${kinds || "none"}`);
  const p = s.pending;
  const changes = p.create + p.update + p.replace + p.delete;
  for (const d of s.drift) out.line(out.style("yellow", `drift: ${describeDrift(d)}`));
  if (changes) out.line(`pending: ${p.create} to create, ${p.update} to update, ${p.replace} to replace, ${p.delete} to delete (run \`slipway plan\`)`);
  if (s.drift.length) out.line(`not in sync: ${s.drift.length} installed librar${s.drift.length === 1 ? "y differs" : "ies differ"} from the config (deploy keeps them; \`slipway deploy --reconcile\` installs the config's)`);
  else if (!changes) out.line("in sync with the configuration");
}
