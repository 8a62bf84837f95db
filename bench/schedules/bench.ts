// 1,000 schedules due in the same minute: how long from each due time to its run's record, and that
// none fires twice. Runs the real background work (startBackground: the schedules loop with its claims
// in the state database) on a real state store; the clock is shifted so the minute is a few seconds away.
//
//   scenario sqlite        one server, SQLite under SLIPWAY_HOME, lightweight runs (a run row, no process)
//   scenario postgres-2    two servers (two background instances, two connection pools) on one PostgreSQL
//   scenario real-submit   one server, SQLite, BENCH_REAL schedules whose runs are real submissions
//                          (compile the project, capture the bundle, record, start a runner process)
// Prints one JSON line per scenario.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { iso, offsetClock } from "../../src/clock.js";
import { readRuntimeEnvWith } from "../../src/env.js";
import { startBackground, type BackgroundWork } from "../../src/server/background/index.js";
import { openStores, type Stores } from "../../src/store/open.js";
import type { RunRow } from "../../src/store/state/run-store.js";
import pg from "pg";

/** A fresh database on the PostgreSQL server for one scenario (dropped at the end). */
async function freshDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `slipway_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const N = Number(process.env.BENCH_SCHEDULES ?? 1000);
const REAL = Number(process.env.BENCH_REAL ?? 50);
const PG = process.env.SLIPWAY_TEST_PG_URL;
/** The due minute is this far ahead when setup starts: recording the schedules happens before it. */
const LEAD_MS = 20_000;

function lightRun(id: string, project: string, schedule: string, at: number): RunRow {
  return {
    id, project, target: "dev", job: "noop", status: "succeeded", params: "{}", bundle: "-", config_hash: "-", executor: "none", handle: "{}", user: "bench", host: "bench",
    created_at: iso(at), started_at: iso(at), finished_at: iso(at), heartbeat_at: null, error: null, results: null, metrics: null, provenance: null, options: "{}", trigger: "schedule", trigger_ref: schedule,
  };
}

async function scenario(name: string, count: number, servers: number, pgServer: string | undefined, real: boolean): Promise<void> {
  const db = pgServer ? await freshDatabase(pgServer) : undefined;
  const pgUrl = db?.url;
  const root = mkdtempSync(join(tmpdir(), "slipway-bench-sched-"));
  const home = join(root, "home");
  const project = `bench${process.pid}${name.replace(/\W/g, "")}`;
  const offset = (60_000 - (Date.now() % 60_000) - LEAD_MS + 120_000) % 60_000;
  const env = { ...readRuntimeEnvWith({ SLIPWAY_HOME: home }), clock: offsetClock(offset) };
  const target = pgUrl ? { state: { type: "postgres", url: pgUrl } } : undefined;
  const stores: Stores[] = [];
  for (let i = 0; i < servers; i++) stores.push(await openStores(home, target));
  const state = stores[0]!.state;
  // The minute boundary the clock was shifted to put LEAD_MS ahead (opening the stores took some of it).
  const due = Math.round((env.clock.now() + LEAD_MS) / 60_000) * 60_000;
  // Deployed "a minute ago", just after the previous due time: nothing is due before `due`.
  const deployedAt = due - 59_999;
  if (real) {
    const dir = join(root, "project");
    mkdirSync(join(dir, "modules", "m"), { recursive: true });
    writeFileSync(join(dir, "slipway.yaml"), `project: ${project}\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: { default: true }\n`);
    writeFileSync(join(dir, "modules", "m", "module.yaml"), `module: m\nresources:\n  jobs:\n    noop: { command: "true" }\n`);
    await state.background().putTarget({ project, target: "dev", dir, retention: null, updated_at: iso(deployedAt) });
  }
  const t = state.forTarget(project, "dev");
  for (let i = 0; i < count; i++) {
    await t.commitPut({
      address: `schedule.s${i}`, kind: "schedule", name: `s${i}`, module: "m", phase: 0, specHash: "h", dependsOn: ["job.noop"], outputs: {},
      spec: { module: "m", job: "noop", cron: "* * * * *", timezone: "UTC", paused: false, catch_up: "none", concurrency: "skip" },
      createdAt: iso(deployedAt), updatedAt: iso(deployedAt),
    });
  }
  const setupEnded = env.clock.now();
  if (setupEnded > due - 2000) console.error(`warning: setup ended ${setupEnded - due} ms from the due time`);
  const firstStart: number[] = [];
  const works: BackgroundWork[] = stores.map((s, i) =>
    startBackground(env, s, {
      log: (line) => (/^\w[\w-]*: /.test(line) && !line.startsWith("schedule ") ? console.error(`server ${i}: ${line}`) : undefined),
      owner: `bench-${i}`,
      startRun: real ? undefined : async (fire, sched) => {
        firstStart[i] ??= env.clock.now() - due;
        await s.state.runs().create(lightRun(fire.run_id!, sched.project, sched.name, env.clock.now()));
      },
    }),
  );
  const deadline = due + 30_000;
  let runs: RunRow[] = [];
  while (env.clock.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    runs = await state.runs().list({ project, target: "dev", limit: count * 3 });
    if (runs.length >= count && env.clock.now() > due + 3000) break;
  }
  // A further second for any double to show.
  await new Promise((r) => setTimeout(r, 1000));
  runs = await state.runs().list({ project, target: "dev", limit: count * 3 });
  await Promise.all(works.map((w) => w.stop()));
  const fires = (await state.background().fires({ project, target: "dev", limit: count * 3 })).filter((f) => f.status === "started");
  const lat = runs.map((r) => Date.parse(r.created_at) - due).sort((a, b) => a - b);
  const pick = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? null;
  const perSchedule = new Map<string, number>();
  for (const r of runs) perSchedule.set(r.trigger_ref!, (perSchedule.get(r.trigger_ref!) ?? 0) + 1);
  const owners: Record<string, number> = {};
  for (const f of fires) owners[f.owner] = (owners[f.owner] ?? 0) + 1;
  console.log(JSON.stringify({
    scenario: name, schedules: count, servers, setup_lead_ms: due - setupEnded, runs: runs.length, fired_twice: [...perSchedule.values()].filter((c) => c > 1).length, not_fired: count - perSchedule.size,
    within_2s: lat.filter((l) => l <= 2000).length, ms_from_due: { min: lat[0] ?? null, p50: pick(0.5), p99: pick(0.99), max: lat.at(-1) ?? null }, fires_by_server: owners, first_start_ms_from_due: firstStart,
  }));
  for (const s of stores) await s.close();
  if (real) await new Promise((r) => setTimeout(r, 3000)); // let the runners finish before their folders go
  rmSync(root, { recursive: true, force: true });
  await db?.drop();
}

const only = process.argv[2];
if (!only || only === "sqlite") await scenario("sqlite", N, 1, undefined, false);
if ((!only || only === "postgres-2") && PG) await scenario("postgres-2", N, 2, PG, false);
if (!only || only === "real-submit") await scenario("real-submit", REAL, 1, undefined, true);
process.exit(0);
