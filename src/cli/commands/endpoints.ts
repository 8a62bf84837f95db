import type { Command } from "commander";
import { execute, intOption } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

export function registerEndpoints(program: Command): void {
  const endpoints = program.command("endpoints").description("serving endpoints: list, query, inference logs, TTL");
  withProjectOptions(endpoints.command("list", { isDefault: true }).description("endpoints of a target: URL, served versions and split, readiness, expiry")).action((flags: ProjectFlags) =>
    execute("endpoints list", flags, async (rt) => {
      const { out } = rt;
      const { fields } = await onProject(rt, flags, "endpoints list", {});
      const text = () => {
        if (fields.endpoints.length === 0) return out.line("no endpoints deployed.");
        for (const e of fields.endpoints) {
          out.line(`${out.style("bold", e.name)}  ${e.url}  (config ${e.config_version}${e.expires_at ? `, expires ${e.expires_at}` : ""})`);
          const k = e.kubernetes;
          // Served on Kubernetes: readiness is its Deployment's, not the gateway's.
          if (k) out.line(`  on Kubernetes: Deployment and Service ${k.namespace}/${k.name}, ${k.state === "unknown" ? `readiness unknown (${k.reason ?? "the API could not be asked"})` : `${k.ready_replicas}/${k.replicas} replica(s) ready${k.state !== "ready" && k.reason ? ` (${k.reason})` : ""}`}`);
          for (const s of e.served) out.line(`  ${s.model}@${s.version}  ${s.percent}%  ${s.ready === null ? (k ? "readiness unknown" : "server not running") : s.ready ? "ready" : "not ready"}`);
        }
      };
      return { fields, text };
    }),
  );
  withProjectOptions(endpoints.command("query").description("send one request through the gateway (MLflow scoring format unless --oip)"))
    .argument("<name>", "endpoint name")
    .requiredOption("--data <json>", 'request body, e.g. \'{"inputs": [[5.1, 3.5, 1.4, 0.2]]}\'')
    .option("--oip", "send it to the Open Inference Protocol route (/v2/models/NAME/infer)")
    .option("--token <token>", "bearer token (default: SLIPWAY_TOKEN, else your local token; with --server the server queries with your API token)")
    .action((name: string, flags: ProjectFlags & { data: string; oip?: boolean; token?: string }) =>
      execute("endpoints query", flags, async (rt) => {
        const { fields, error } = await onProject(rt, flags, "endpoints query", { name, data: flags.data, token: flags.token, protocol: flags.oip ? "oip" : "mlflow" });
        // A non-2xx answer is still printed; its exit code comes from the registry (query_rejected, …).
        return { fields, error, text: () => rt.out.line(JSON.stringify(fields.body)) };
      }),
    );
  withProjectOptions(endpoints.command("logs").description("the endpoint's inference table: requests, responses, latencies"))
    .argument("<name>", "endpoint name")
    .addOption(intOption("--limit <n>", "how many of the latest rows").default(20))
    .action((name: string, flags: ProjectFlags & { limit: number }) =>
      execute("endpoints logs", flags, async (rt) => {
        const { out } = rt;
        const { fields } = await onProject(rt, flags, "endpoints logs", { name, limit: flags.limit });
        const text = () => {
          if (fields.requests.length === 0) return out.line(`no logged requests for ${name}.`);
          for (const r of fields.requests) {
            out.line(`${r.timestamp} ${r.request_id} ${r.status} ${r.model}@${r.model_version} cfg ${r.config_version} ${r.latency_ms.toFixed(2)} ms (gateway ${r.gateway_ms.toFixed(2)}, queue ${r.queue_ms.toFixed(2)}, model ${r.model_ms.toFixed(2)})${r.client_request_id ? ` client ${r.client_request_id}` : ""}`);
          }
        };
        return { fields, text };
      }),
    );
  withProjectOptions(endpoints.command("reap").description("destroy this target's endpoints whose TTL has run out (the server does this for every target every minute)")).action((flags: ProjectFlags) =>
    execute("endpoints reap", flags, async (rt) => {
      const { fields } = await onProject(rt, flags, "endpoints reap", {});
      return { fields, text: () => rt.out.line(fields.destroyed.length ? `destroyed expired endpoint(s): ${fields.destroyed.join(", ")}` : "no endpoint has expired.") };
    }),
  );
}
