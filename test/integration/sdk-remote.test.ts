// The SDK with `server` returns what the embedded SDK returns. One real `slipway server`; two copies of
// one project, one driven by an embedded Slipway (its own home), one by `new Slipway({ server, token })`.
// Each result goes through the view of its command (the fields the --json documents carry) on both sides
// and must be equal once ids, times and the homes are normalised; the reporter receives the same events.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Slipway, type Reporter } from "../../src/index.js";
import { deploymentView, historyView, planView, settingsView, statusView, validateView } from "../../src/views/deployments.js";
import { modelsView } from "../../src/views/models.js";
import { endpointsView } from "../../src/views/endpoints.js";
import { artifactsOverviewView } from "../../src/views/artifacts.js";
import { runDetailsView, runSummaryView, runsView } from "../../src/views/runs.js";
import { sandbox, type Sandbox } from "../helpers/cli.js";
import { homeTraces } from "../helpers/home-backends.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { contractProject } from "../contract/projects.js";

function normaliser(homes: string[]) {
  const ids = new Map<string, string>();
  const text = (s: string): string => {
    for (const h of homes) s = s.split(h).join("<home>");
    return s
      .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b/g, "<time>")
      .replace(/\b([rd])m[0-9a-z]{8,13}\b/g, (id, kind: string) => {
        let name = ids.get(id);
        if (!name) ids.set(id, (name = `<${kind}${[...ids.values()].filter((v) => v.startsWith(`<${kind}`)).length + 1}>`));
        return name;
      });
  };
  // job_id: Slurm's (under the backend matrix), each side's own jobs.
  const VOLATILE = new Set(["duration_ms", "ms", "pid", "host", "started_at", "finished_at", "job_id", "array_job_id"]);
  const value = (v: unknown, key?: string): unknown => {
    if (key && VOLATILE.has(key) && v !== null) return "<x>";
    if (typeof v === "string") return text(v);
    if (Array.isArray(v)) return v.map((x) => value(x));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).filter(([k]) => k !== "attached").map(([k, x]) => [k, value(x, k)]));
    return v;
  };
  return (v: unknown) => value(v);
}

/** A reporter that records what it is told, as text. */
function recorder(): { reporter: Reporter; events: string[] } {
  const events: string[] = [];
  return {
    events,
    reporter: {
      info: (m) => events.push(`info ${m}`),
      warn: (m) => events.push(`warn ${m}`),
      plan: (p, where) => events.push(`plan ${where} ${p.actions.map((a) => `${a.action} ${a.address}`).join(", ")}`),
      actionStarted: (a) => events.push(`started ${a.address}`),
      actionFinished: (a, r) => events.push(`finished ${a.address} ${r.ok}${r.error ? ` ${r.error}` : ""}`),
      output: (address, stream, line) => events.push(`output ${address} ${stream} ${line}`),
    },
  };
}

describe("SDK with a server: the same results as embedded", () => {
  let server: TestServer;
  let e: Sandbox;
  let r: Sandbox;
  const saved = { user: process.env.SLIPWAY_USER, parallelism: process.env.SLIPWAY_PARALLELISM };

  before(async () => {
    // One action at a time on both sides, so the reporter hears one order.
    server = await startTestServer({ SLIPWAY_PARALLELISM: "1" });
    e = sandbox(contractProject());
    r = sandbox(contractProject());
    process.env.SLIPWAY_USER = "admin"; // the server's administrator: the same ${user} and "by" on both sides
    process.env.SLIPWAY_PARALLELISM = "1";
  });
  after(async () => {
    for (const [k, v] of [["SLIPWAY_USER", saved.user], ["SLIPWAY_PARALLELISM", saved.parallelism]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    e?.cleanup();
    r?.cleanup();
    await server?.stop();
  });

  it("plan, deploy, status, history, settings, runs, registry lists, rollback, destroy; reporter events", async () => {
    const re = recorder();
    const rr = recorder();
    const embedded = new Slipway({ project: e.dir, home: e.home, reporter: re.reporter });
    const remote = new Slipway({ project: r.dir, home: r.home, reporter: rr.reporter, server: server.url, token: server.token });
    const nE = normaliser([...homeTraces(e.home), e.dir]);
    const nR = normaliser([...homeTraces(server.home), r.dir]);
    const same = async <T>(what: string, call: (s: Slipway) => Promise<T>, view: (x: T) => unknown) => {
      const [a, b] = await Promise.all([call(embedded), call(remote)]);
      assert.deepEqual(nR(view(b)), nE(view(a)), what);
      return [a, b] as const;
    };

    assert.deepEqual(validateView(remote.validate()), validateView(embedded.validate()));
    await same("plan", (s) => s.plan({ phase: 1 }), planView);
    await same("deploy", (s) => s.deploy({ phase: 1 }), deploymentView);
    await same("status", (s) => s.status(), statusView);
    await same("history", (s) => s.history(), (h) => historyView({ project: "contract", target: "dev", deployments: h }));
    await same("settings", (s) => s.settings(), (rows) => settingsView({ project: "contract", target: "dev", settings: rows }));

    const [runE, runR] = await same("run", (s) => s.run("hello", { params: { who: "sdk" } }), (run) => run.id.length > 0);
    const [doneE, doneR] = await Promise.all([runE.wait(), runR.wait()]);
    assert.equal(doneR.status, "succeeded");
    assert.deepEqual(nR(runDetailsView(doneR)), nE(runDetailsView(doneE)), "wait");
    assert.deepEqual(await runR.results(), { greeted: "sdk" });
    assert.deepEqual(await runR.logs(), await runE.logs());
    await same("runs", (s) => s.runs({ job: "hello" }), runsView);
    const [cancelE, cancelR] = await Promise.allSettled([runE.cancel(), runR.cancel()]);
    assert.equal(cancelR.status, "rejected");
    assert.equal(cancelE.status, "rejected");
    assert.deepEqual({ ...(cancelR as PromiseRejectedResult).reason, message: nR((cancelR as PromiseRejectedResult).reason.message) }, { ...(cancelE as PromiseRejectedResult).reason, message: nE((cancelE as PromiseRejectedResult).reason.message) });
    assert.equal((cancelR as PromiseRejectedResult).reason.constructor, (cancelE as PromiseRejectedResult).reason.constructor, "the same error class (RefusedError)");
    assert.equal(runSummaryView((await remote.runs({ limit: 1 }))[0]!).job, "hello");

    await same("models", (s) => s.models.list(), modelsView);
    const promoted = await Promise.allSettled([embedded.models.promote("ghost@1", { from: "dev", to: "dev" }), remote.models.promote("ghost@1", { from: "dev", to: "dev" })]);
    assert.deepEqual(promoted.map((x) => (x.status === "rejected" ? `${(x.reason as { code: string }).code} ${(x.reason as Error).message}` : "ok")), ["invalid_flag --from and --to are both dev", "invalid_flag --from and --to are both dev"]);
    await same("endpoints", (s) => s.endpoints.list(), endpointsView);
    await same("artifacts", (s) => s.artifacts.list(), artifactsOverviewView);

    // A failed action resolves with status "failed" (the endpoint's model has no version), and the error keeps its code.
    const [failedE, failedR] = await same("failed deploy", (s) => s.deploy(), deploymentView);
    assert.equal(failedR.status, "failed");
    assert.equal((failedR.apply!.failed[0]!.error as { code?: string }).code, (failedE.apply!.failed[0]!.error as { code?: string }).code);

    // Deletes need yes: the same refusal.
    const refused = await Promise.allSettled([embedded.rollback(1), remote.rollback(1)]);
    assert.deepEqual(refused.map((x) => x.status), ["fulfilled", "fulfilled"], "rollback to revision 1 deletes nothing");
    const destroyed = await Promise.allSettled([embedded.destroy(), remote.destroy()]);
    assert.deepEqual(
      destroyed.map((x) => (x.status === "rejected" ? (x.reason as { code: string }).code : "ok")),
      ["confirmation_required", "confirmation_required"],
    );
    await same("destroy", (s) => s.destroy({ yes: true }), deploymentView);

    const normalizeEvents = (events: string[], n: (v: unknown) => unknown) => events.map((x) => String(n(x)));
    assert.deepEqual(normalizeEvents(rr.events, nR), normalizeEvents(re.events, nE), "the reporter hears the same");
    assert.ok(rr.events.some((x) => x.startsWith("output hook.core.setup stdout core-deploy ran")), "hook output reaches the remote reporter");
  });

  it("refuses what works on this machine only, and a server without a token", async () => {
    const remote = new Slipway({ project: r.dir, home: r.home, server: server.url, token: server.token });
    await assert.rejects(remote.artifacts.build(), (err: { code?: string }) => err.code === "not_remote");
    const saved = process.env.SLIPWAY_TOKEN;
    delete process.env.SLIPWAY_TOKEN;
    try {
      assert.throws(() => new Slipway({ project: r.dir, server: server.url }), (err: { code?: string }) => err.code === "not_logged_in");
    } finally {
      if (saved !== undefined) process.env.SLIPWAY_TOKEN = saved;
    }
  });
});
