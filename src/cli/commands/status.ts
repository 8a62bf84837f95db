import type { Command } from "commander";
import type { FieldsOf } from "../../views/documents.js";
import { execute } from "../common.js";
import type { Output } from "../output.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";
import { describeDrift } from "../render.js";
import { ttlLines } from "./ttl.js";

/** How status shows an endpoint the local server does not serve right now. */
const SERVING: Record<string, string> = {
  ready: "",
  not_ready: " (not ready: its model is starting or restarting)",
  restoring: " (restoring: the server restarted and is starting it)",
  not_served: " (not served: the server runs without it; `slipway deploy` starts it again)",
  no_server: " (not served: no Slipway server is running; `slipway deploy` starts it again)",
  unknown: "",
};

/** An endpoint served on Kubernetes: its Deployment's readiness instead of the gateway's. */
function onKubernetes(k: { namespace: string; name: string; state: string; replicas: number; ready_replicas: number; reason?: string }): string {
  const where = `Deployment ${k.namespace}/${k.name}`;
  if (k.state === "ready") return ` (on Kubernetes: ${where}, ${k.ready_replicas}/${k.replicas} ready)`;
  if (k.state === "unknown") return ` (on Kubernetes: ${where}, readiness unknown: ${k.reason ?? "the API could not be asked"})`;
  return ` (on Kubernetes: ${where} ${k.state === "missing" ? "is missing; `slipway deploy` makes it again" : `not ready, ${k.reason ?? `${k.ready_replicas}/${k.replicas} ready`}`})`;
}

export function registerStatus(program: Command): void {
  withProjectOptions(program.command("status").alias("summary").description("what is deployed to a target, who holds its lock, what a deploy would change")).action((flags: ProjectFlags) =>
    execute("status", flags, async (rt) => {
      const { fields } = await onProject(rt, flags, "status", {});
      return { fields, text: () => printStatus(rt.out, fields) };
    }),
  );
}

function printStatus(out: Output, s: FieldsOf<"status">): void {
  out.line(out.style("bold", `${s.project}/${s.target}`) + (s.protected ? " (protected)" : "") + (s.revision ? `  revision ${s.revision}` : "  never deployed"));
  if (s.last_deployment) out.line(`last ${s.last_deployment.operation}: ${s.last_deployment.status} at ${s.last_deployment.finished_at ?? s.last_deployment.started_at} by ${s.last_deployment.user}`);
  if (s.lock) out.line(out.style("yellow", `locked by ${s.lock.user}@${s.lock.host} (pid ${s.lock.pid}) running ${s.lock.operation} since ${s.lock.since}`));
  out.line("modules:");
  for (const m of s.modules) {
    out.line(`  ${m.deployed ? out.style("green", "deployed    ") : "not deployed"}  ${m.name.padEnd(20)} ${m.resources} resource(s)${m.depends_on.length ? `, depends on ${m.depends_on.join(", ")}` : ""}`);
  }
  if (s.ttl?.scope === "target") for (const line of ttlLines(s.ttl, "ttl", s.target)) out.line(line.replace(/^ttl: ttl /, "ttl "));
  for (const e of s.endpoints) out.line(`endpoint ${e.name}: ${e.url}${e.expires_at ? `, expires ${e.expires_at} (TTL, reset by each deploy)` : ""}${e.kubernetes ? onKubernetes(e.kubernetes) : SERVING[e.serving]}`);
  if (s.permissions.length) {
    out.line("permissions:");
    const who = (g: (typeof s.permissions)[number]) => `${g.principal_kind === "service_principal" ? "service principal" : g.principal_kind} ${g.principal}`;
    const width = Math.max(...s.permissions.map((g) => who(g).length)) + 2;
    for (const g of s.permissions) out.line(`  ${g.level.padEnd(11)} ${who(g).padEnd(width)}on ${g.resource ?? "the target"} (${g.source})`);
  }
  const kinds = Object.entries(s.resources).map(([k, n]) => `${n} ${k}`).join(", ");
  out.line(`resources: ${kinds || "none"}`);
  const p = s.pending;
  const changes = p.create + p.update + p.replace + p.delete;
  for (const d of s.drift) out.line(out.style("yellow", `drift: ${describeDrift(d)}`));
  if (changes) out.line(`pending: ${p.create} to create, ${p.update} to update, ${p.replace} to replace, ${p.delete} to delete (run \`slipway plan\`)`);
  if (s.drift.length) out.line(`not in sync: ${s.drift.length} installed librar${s.drift.length === 1 ? "y differs" : "ies differ"} from the config (deploy keeps them; \`slipway deploy --reconcile\` installs the config's)`);
  else if (!changes) out.line("in sync with the configuration");
}
