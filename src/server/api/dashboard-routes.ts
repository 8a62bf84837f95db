// Routes the dashboard (web/) needs beyond the CLI's documents: the projects and targets the server
// knows, what the caller may do on a target (to show only the buttons it allows; the routes refuse
// anyway), the difference between two revisions, a run's log lines as server-sent events, and an
// endpoint's request rate, latency and errors over time from its inference table. Each is authorized
// like the others (CAN_VIEW on the target) and registered in the one route table (routes.ts).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { parse } from "yaml";
import { redactValue } from "../../util/redact.js";
import { envelope } from "../../views/documents.js";
import { authorizeFor, compileFor, recordedAccessOf, withStores, type OperationContext, type ProjectOptions } from "../../operations/context.js";
import { deploymentLogDir, loadSnapshot } from "../../operations/deployment.js";
import { endpointLogs } from "../../operations/endpoints.js";
import { SlipwayError } from "../../errors.js";
import type { RecordedResource } from "../../resources.js";
import { levelsHeld } from "../auth/authorize.js";
import { projectCommands } from "../project-documents.js";
import type { Call, Route } from "./routes.js";

type ProjectInput = { target?: string; source?: string; var?: string[]; shown_dir?: string };
export interface RouteHelpers {
  contextOf(call: Call, input: ProjectInput): { ctx: OperationContext; secrets: string[] };
  projectOf(call: Call, input: ProjectInput): Promise<ProjectOptions>;
  projectQuery: z.ZodRawShape;
}

const P = "/projects/:project";
const int = z.coerce.number().int().min(0);

/** Field-by-field differences of two JSON values, as dotted paths (arrays compared whole past 1 level). */
export function fieldDiff(a: unknown, b: unknown, path = ""): Array<{ field: string; from: unknown; to: unknown }> {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => fieldDiff(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return [{ field: path || "(value)", from: a ?? null, to: b ?? null }];
}

/** What changes from revision `from` to revision `to`: resources added, removed and changed (with their fields). */
export function revisionDiff(from: RecordedResource[], to: RecordedResource[]) {
  const before = new Map(from.map((r) => [r.address, r]));
  const after = new Map(to.map((r) => [r.address, r]));
  const added = [...after.keys()].filter((a) => !before.has(a)).sort();
  const removed = [...before.keys()].filter((a) => !after.has(a)).sort();
  const changed = [...after.keys()]
    .filter((a) => before.has(a) && before.get(a)!.specHash !== after.get(a)!.specHash)
    .sort()
    .map((address) => {
      const [b, a] = [before.get(address)!.spec, after.get(address)!.spec];
      const fields = fieldDiff(b, a);
      // As the plan does: a sensitive resource (a setting holding a secret, then or now) shows which fields changed, never their values.
      return { address, fields: b.sensitive || a.sensitive ? fields.map((f) => (f.field === "sensitive" ? f : { field: f.field, from: f.from === null ? null : "***", to: f.to === null ? null : "***" })) : fields };
    });
  return { added: added.map((address) => ({ address, kind: after.get(address)!.kind })), removed: removed.map((address) => ({ address, kind: before.get(address)!.kind })), changed };
}

/** Requests per time bucket: count, errors (status >= 400), p50 and p99 latency. */
export function requestMetrics(rows: Array<{ timestamp: string; status: number; latency_ms: number }>, bucketS: number) {
  const buckets = new Map<number, { latencies: number[]; errors: number }>();
  for (const r of rows) {
    const t = Math.floor(Date.parse(r.timestamp) / 1000 / bucketS) * bucketS;
    if (!Number.isFinite(t)) continue;
    const b = buckets.get(t) ?? { latencies: [], errors: 0 };
    b.latencies.push(r.latency_ms);
    if (r.status >= 400) b.errors++;
    buckets.set(t, b);
  }
  const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([t, b]) => {
      const sorted = b.latencies.sort((x, y) => x - y);
      return { at: new Date(t * 1000).toISOString(), requests: sorted.length, rate_per_s: sorted.length / bucketS, errors: b.errors, error_rate: b.errors / sorted.length, p50_ms: pct(sorted, 50), p99_ms: pct(sorted, 99) };
    });
}

/** The targets a project's slipway.yaml declares (the default first), read from its uploaded source. */
function targetsOf(dir: string): Array<{ name: string; default: boolean }> {
  const doc = parse(readFileSync(join(dir, "slipway.yaml"), "utf8")) as { targets?: Record<string, { default?: boolean } | null> } | null;
  const targets = Object.entries(doc?.targets ?? {}).map(([name, t]) => ({ name, default: t?.default === true }));
  return targets.sort((a, b) => Number(b.default) - Number(a.default));
}

export function dashboardRoutes(h: RouteHelpers): Route[] {
  const q = () => z.strictObject({ ...h.projectQuery });
  return [
    {
      method: "GET",
      path: "/projects",
      command: null,
      summary: "the projects the server has a source of, with the targets each declares (those the caller may view)",
      access: "any token (lists only the targets the caller may view)",
      handle: async (call) => {
        const projects = [];
        for (const name of await call.deps.sources.projects()) {
          const dir = await call.deps.sources.dirFor(name);
          let targets: Array<{ name: string; default: boolean }> = [];
          try {
            targets = targetsOf(dir);
          } catch {
            continue;
          }
          const visible = [];
          for (const t of targets) {
            try {
              await call.deps.cp.authorizer.authorize(call.actor, { level: "CAN_VIEW", project: name, target: t.name, operation: "view" });
              visible.push(t);
            } catch {
              /* not the caller's to see */
            }
          }
          if (visible.length) projects.push({ name, targets: visible });
        }
        return { fields: { projects } };
      },
    },
    {
      method: "GET",
      path: `${P}/access`,
      command: null,
      summary: "what the caller may do on the target: its levels there (administrator, CAN_VIEW, CAN_RUN, CAN_MANAGE) and on each resource with grants of its own",
      access: "CAN_VIEW on the target",
      input: q,
      handle: async (call, input) => {
        const { ctx } = h.contextOf(call, input);
        const compiled = compileFor(await h.projectOf(call, input), ctx);
        await authorizeFor(compiled, ctx, "CAN_VIEW", "view access");
        const project = compiled.project.name;
        const target = compiled.project.target.name;
        const recorded = await withStores(compiled, ctx.env, (stores) => recordedAccessOf(stores, project, target));
        const [grants, owner] = await Promise.all([call.deps.cp.identities.grants(project, target), call.deps.cp.identities.owner(project, target)]);
        const evidence = { grants, owner: owner ?? null, recorded };
        const addresses = [...new Set([...recorded.grants.map((g) => g.address), ...recorded.owners.map((o) => o.address), ...grants.map((g) => g.resource).filter(Boolean)])].sort();
        const resources: Record<string, string[]> = Object.create(null);
        for (const address of addresses) resources[address] = [...levelsHeld(call.actor, { project, target, address }, evidence)].sort();
        return { fields: { project, target, user: call.actor.name, admin: call.actor.admin, levels: [...levelsHeld(call.actor, { project, target }, evidence)].sort(), resources } };
      },
    },
    {
      method: "GET",
      path: `${P}/hooks`,
      command: null,
      summary: "the target's deployed hooks with their last output: the lines each printed in the newest deployment (of the latest 20) that ran it, masked",
      access: "CAN_VIEW on the target",
      input: q,
      handle: async (call, input) => {
        const { ctx, secrets } = h.contextOf(call, input);
        const compiled = compileFor(await h.projectOf(call, input), ctx);
        await authorizeFor(compiled, ctx, "CAN_VIEW", "hooks");
        const project = compiled.project.name;
        const target = compiled.project.target.name;
        const hooks = await withStores(compiled, ctx.env, async (stores) => {
          const state = stores.state.forTarget(project, target);
          const recorded = (await state.listResources()).filter((r) => r.kind === "hook");
          const out = recorded.map((r) => ({ address: r.address, module: r.module, exit_code: (r.outputs.exit_code as number | undefined) ?? null, updated_at: r.updatedAt, deployment: null as string | null, output: [] as string[] }));
          const missing = new Set(out.map((o) => o.address));
          for (const d of await state.listDeployments(20)) {
            if (!missing.size) break;
            const file = join(deploymentLogDir(stores.home, project, target, d.id), "output.log");
            if (!existsSync(file)) continue;
            const lines = readFileSync(file, "utf8").split("\n");
            for (const o of out) {
              if (!missing.has(o.address)) continue;
              const prefix = `[${o.address}] `;
              const mine = lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
              if (mine.length) {
                o.output = mine.slice(-200);
                o.deployment = d.id;
                missing.delete(o.address);
              }
            }
          }
          return out;
        });
        return { fields: { project, target, hooks }, secrets };
      },
    },
    {
      method: "GET",
      path: `${P}/revisions/diff`,
      command: null,
      summary: "what differs between two revisions of the target: resources added, removed and changed, with the changed fields (from `from` to `to`; `to` defaults to the latest)",
      access: "CAN_VIEW on the target",
      input: () => z.strictObject({ ...h.projectQuery, from: int, to: int.optional() }),
      handle: async (call, input: ProjectInput & { from: number; to?: number }) => {
        const { ctx, secrets } = h.contextOf(call, input);
        const compiled = compileFor(await h.projectOf(call, input), ctx);
        await authorizeFor(compiled, ctx, "CAN_VIEW", "revisions diff");
        const project = compiled.project.name;
        const target = compiled.project.target.name;
        const fields = await withStores(compiled, ctx.env, async (stores) => {
          const state = stores.state.forTarget(project, target);
          const latest = await state.latestRevision();
          const toRev = input.to ?? latest?.revision ?? 0;
          const load = async (rev: number) => {
            const row = await state.getRevision(rev);
            if (!row?.snapshot) throw new SlipwayError("unknown_revision", `${project}/${target} has no revision ${rev}`, { hint: latest ? `revisions go from 1 to ${latest.revision}; see \`slipway history\`` : "nothing has been deployed to this target yet" });
            return (await loadSnapshot(stores, row.snapshot)).resources;
          };
          return { project, target, from: input.from, to: toRev, ...revisionDiff(await load(input.from), await load(toRev)) };
        });
        return { fields, secrets };
      },
    },
    {
      method: "GET",
      path: `${P}/runs/:run/events`,
      command: null,
      summary: "a run's log lines as server-sent events (text/event-stream, for a browser's EventSource): {task, line} as they come, then {document} (the `logs` envelope) and an `end` event when the run has finished",
      access: "CAN_VIEW on the target",
      input: () => z.strictObject({ ...h.projectQuery, task: z.string().optional() }),
      handle: async (call, input: ProjectInput & { task?: string }) => {
        const { ctx, secrets } = h.contextOf(call, input);
        const p = await h.projectOf(call, input);
        // Authorized before the stream starts, so a refusal is a plain 403 answer.
        await authorizeFor(compileFor(p, ctx), ctx, "CAN_VIEW", "logs");
        return {
          sse: true,
          stream: async (write) => {
            const r = await projectCommands.logs(ctx, p, { run: call.params.run!, task: input.task, follow: true, onLine: (task, line) => write(redactValue({ task, line }, secrets) as object) });
            write({ document: redactValue(envelope(r.fields, r.error), secrets) as object });
          },
        };
      },
    },
    {
      method: "GET",
      path: `${P}/endpoints/:name/metrics`,
      command: null,
      summary: "the endpoint's requests over time from its inference table (the latest `rows`, default 10,000): per bucket of `bucket_s` seconds, rate, errors, error rate, p50 and p99 latency",
      access: "CAN_VIEW on the target",
      input: () => z.strictObject({ ...h.projectQuery, bucket_s: z.coerce.number().int().min(1).max(86_400).optional(), rows: z.coerce.number().int().min(1).max(100_000).optional() }),
      handle: async (call, input: ProjectInput & { bucket_s?: number; rows?: number }) => {
        const { ctx, secrets } = h.contextOf(call, input);
        const p = await h.projectOf(call, input);
        const rows = await endpointLogs({ ...p, name: call.params.name!, limit: input.rows ?? 10_000 }, ctx);
        const bucket = input.bucket_s ?? 60;
        return { fields: { endpoint: call.params.name, bucket_s: bucket, rows: rows.length, series: requestMetrics(rows, bucket) }, secrets };
      },
    },
  ];
}
