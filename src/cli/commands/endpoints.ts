import type { Command } from "commander";
import { endpointLogs, listEndpoints, queryEndpoint, reapExpiredEndpoints } from "../../operations/endpoints.js";
import { withStores, compileFor } from "../../operations/context.js";
import { endpointLogsView, endpointsView, queryFailure, queryView, reapView } from "../../views/endpoints.js";
import { execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

export function registerEndpoints(program: Command): void {
  const endpoints = program.command("endpoints").description("serving endpoints: list, query, inference logs, TTL");
  withCommonOptions(endpoints.command("list", { isDefault: true }).description("endpoints of a target: URL, served versions and split, readiness, expiry")).action((flags: CommonFlags) =>
    execute("endpoints list", flags, async ({ out, ctx }) => {
      const list = await listEndpoints(projectOptions(flags), ctx);
      const text = () => {
        if (list.length === 0) return out.line("no endpoints deployed.");
        for (const e of list) {
          out.line(`${out.style("bold", e.name)}  ${e.url}  (config ${e.configVersion}${e.expiresAt ? `, expires ${e.expiresAt}` : ""})`);
          for (const s of e.served) out.line(`  ${s.model}@${s.version}  ${s.percent}%  ${s.ready === null ? "server not running" : s.ready ? "ready" : "not ready"}`);
        }
      };
      return { fields: endpointsView(list), text };
    }),
  );
  withCommonOptions(endpoints.command("query").description("send one request through the gateway (MLflow scoring format unless --oip)"))
    .argument("<name>", "endpoint name")
    .requiredOption("--data <json>", 'request body, e.g. \'{"inputs": [[5.1, 3.5, 1.4, 0.2]]}\'')
    .option("--oip", "send it to the Open Inference Protocol route (/v2/models/NAME/infer)")
    .option("--token <token>", "bearer token (default: SLIPWAY_TOKEN, else your local token)")
    .action((name: string, flags: CommonFlags & { data: string; oip?: boolean; token?: string }) =>
      execute("endpoints query", flags, async ({ out, ctx }) => {
        const r = await queryEndpoint({ ...projectOptions(flags), name, data: flags.data, token: flags.token, protocol: flags.oip ? "oip" : "mlflow" }, ctx);
        // A non-2xx answer is still printed; its exit code comes from the registry (query_rejected, …).
        return { fields: queryView(r), error: queryFailure(r), text: () => out.line(JSON.stringify(r.body)) };
      }),
    );
  withCommonOptions(endpoints.command("logs").description("the endpoint's inference table: requests, responses, latencies"))
    .argument("<name>", "endpoint name")
    .addOption(intOption("--limit <n>", "how many of the latest rows").default(20))
    .action((name: string, flags: CommonFlags & { limit: number }) =>
      execute("endpoints logs", flags, async ({ out, ctx }) => {
        const rows = await endpointLogs({ ...projectOptions(flags), name, limit: flags.limit }, ctx);
        const text = () => {
          if (rows.length === 0) return out.line(`no logged requests for ${name}.`);
          for (const r of rows) {
            out.line(`${r.timestamp} ${r.request_id} ${r.status} ${r.model}@${r.model_version} cfg ${r.config_version} ${r.latency_ms.toFixed(2)} ms (gateway ${r.gateway_ms.toFixed(2)}, queue ${r.queue_ms.toFixed(2)}, model ${r.model_ms.toFixed(2)})${r.client_request_id ? ` client ${r.client_request_id}` : ""}`);
          }
        };
        return { fields: endpointLogsView(name, rows), text };
      }),
    );
  withCommonOptions(endpoints.command("reap").description("destroy this target's endpoints whose TTL has run out (the server does this for every target every minute)")).action((flags: CommonFlags) =>
    execute("endpoints reap", flags, async ({ out, ctx }) => {
      const compiled = compileFor(projectOptions(flags), ctx);
      const gone = await withStores(compiled, ctx.env, (stores) => reapExpiredEndpoints(stores, ctx.env, ctx, { project: compiled.project.name, target: compiled.project.target.name }));
      return { fields: reapView(gone), text: () => out.line(gone.length ? `destroyed expired endpoint(s): ${gone.join(", ")}` : "no endpoint has expired.") };
    }),
  );
}
