// The Slurm executor against a real cluster: munged, slurmctld and slurmd on 127.0.0.1, started by
// scripts/test.sh (scripts/services/slurm.sh) and named by SLIPWAY_TEST_SLURM_CONF. Every run is a
// real batch job whose script starts the runner on the node; states come from scontrol; cancel is
// scancel. The tests run side by side (the time-limit one waits for slurmctld's ~30 s check of time
// limits after a one-minute limit, so it starts first and is checked last).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exited, sandbox, type Sandbox } from "../helpers/cli.js";
import { PYTHON } from "../helpers/projects.js";
import { waitFor, waitForValue } from "../helpers/wait.js";

const conf = process.env.SLIPWAY_TEST_SLURM_CONF;
const skip = conf ? false : (process.env.SLIPWAY_TEST_SLURM_SKIP ?? "no Slurm cluster: SLIPWAY_TEST_SLURM_CONF is not set (scripts/test.sh starts one when run as root)");

const project = {
  "slipway.yaml": `project: hpc
include: [modules/*/module.yaml]
targets:
  cluster:
    default: true
    executor: { type: slurm, partition: debug }
  held:
    executor: { type: slurm, sbatch_args: ["--hold"] }
  other:
    executor: { type: slurm, partition: other }
`,
  "modules/m/module.yaml": `module: m
resources:
  jobs:
    hello:
      source: src
      params: { who: world, n: "1" }
      command: 'echo "hello $SLIPWAY_PARAM_who job=$SLURM_JOB_ID array=$$\{SLURM_ARRAY_TASK_ID:-none} cpus=$SLURM_CPUS_PER_TASK"; cat greeting.txt; echo "{\\"who\\": \\"$SLIPWAY_PARAM_who\\"}" > "$SLIPWAY_OUTPUT_DIR/results.json"'
      compute: { cpus: 2, memory: 64M }
    fail:
      command: 'echo about to fail; exit 7'
    ticks:
      command: 'for i in $(seq 1 600); do echo "tick $i"; sleep 0.2; done'
    limited:
      command: 'for i in $(seq 1 600); do echo "tick $i"; sleep 1; done'
      compute: { time_limit: 1m }
    gpu:
      command: 'true'
      compute: { gpus: 1 }
    inenv:
      command: 'echo "path $PATH"; type python; python -c "import sys; print(\\"prefix\\", sys.prefix)"; echo "env=$SLIPWAY_COMPUTE_ENVIRONMENT"'
      compute: { environment: scratch }
  compute:
    scratch:
      python: ${PYTHON}
      ephemeral: true
`,
  "modules/m/src/greeting.txt": "from the bundle\n",
};

// Skipped test by test (not as a suite), so the summary lists each with the reason.
const test = (name: string, fn: () => Promise<void>) => it(name, { skip }, fn);

describe("the Slurm executor on a real cluster", { concurrency: true }, () => {
  let box: Sandbox;
  let limited: string;
  const slurm = (args: string[]) => execFileSync(args[0]!, args.slice(1), { env: { ...process.env, SLURM_CONF: conf }, encoding: "utf8" });
  const jobField = (jobId: string, field: string) => new RegExp(`(?:^| )${field}=(\\S*)`).exec(slurm(["scontrol", "show", "job", "-o", jobId]))?.[1];
  const json = async (args: string[]) => {
    const r = await box.runAsync([...args, "--json"]);
    try {
      return { code: r.code, doc: JSON.parse(r.stdout), stderr: r.stderr };
    } catch {
      throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    }
  };
  const show = async (id: string) => (await json(["runs", "show", id])).doc;

  before(async () => {
    if (skip) return;
    box = sandbox(project);
    box.env.SLURM_CONF = conf;
    for (const target of ["cluster", "held", "other"]) {
      const deployed = await box.runAsync(["deploy", "-t", target, "--yes"]);
      assert.equal(deployed.code, 0, deployed.stderr);
    }
    // Started first: Slurm counts time limits in minutes and checks them every ~30 s.
    limited = (await json(["run", "limited"])).doc.id;
  });
  after(() => box?.cleanup());

  test("a run succeeds: one batch job with the job's CPUs and memory, the runner on the node, results recorded", async () => {
    const { code, doc } = await json(["run", "hello", "--wait", "--param", "who=slurm"]);
    assert.equal(code, 0, JSON.stringify(doc));
    assert.equal(doc.status, "succeeded");
    assert.equal(doc.executor, "slurm");
    assert.match(doc.handle.job_id, /^\d+$/);
    assert.deepEqual(doc.results, { who: "slurm" });
    assert.equal(doc.provenance.executor, "slurm");
    const jobId = doc.handle.job_id as string;
    assert.equal(jobField(jobId, "JobName"), "slipway-hello");
    // The run has ended when the batch script's runner has; Slurm may still be COMPLETING the job
    // (its epilog, the node's release) for a moment under load.
    await waitFor(() => jobField(jobId, "JobState") !== "COMPLETING", { timeoutMs: 30_000, what: "the Slurm job to leave COMPLETING" });
    assert.equal(jobField(jobId, "JobState"), "COMPLETED");
    assert.equal(jobField(jobId, "Partition"), "debug");
    assert.equal(jobField(jobId, "NumCPUs"), "2");
    assert.equal(jobField(jobId, "MinMemoryNode"), "64M");
    const log = (await box.runAsync(["logs", doc.id])).stdout;
    assert.match(log, new RegExp(`\\[main\\] hello slurm job=${jobId} array=none cpus=2`));
    assert.match(log, /\[main\] from the bundle/);
  });

  test("partition comes from the target: another target submits to its own", async () => {
    const { code, doc } = await json(["run", "hello", "-t", "other", "--wait"]);
    assert.equal(code, 0, JSON.stringify(doc));
    assert.equal(jobField(doc.handle.job_id, "Partition"), "other");
  });

  test("a run fails: the task's exit code and the reason are shown", async () => {
    const r = await box.runAsync(["run", "fail", "--wait"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\[main\] about to fail/);
    assert.match(r.stdout, /error: main: exited with code 7/);
    const id = /^(r\w+)\s+started/m.exec(r.stdout)![1]!;
    const d = await show(id);
    assert.equal(d.status, "failed");
    assert.equal(d.tasks[0].exit_code, 7);
    assert.equal(d.reason, "main: exited with code 7");
  });

  test("logs stream while the run is running, and `logs -f` follows it to its end", async () => {
    const id = (await json(["run", "ticks"])).doc.id as string;
    // `logs` shows lines written so far while the run is still running on the node.
    const early = await waitForValue(
      async () => (await box.runAsync(["logs", id])).stdout,
      (out) => /tick 3\b/.test(out),
      { timeoutMs: 60_000, what: "the first ticks in the log" },
    );
    assert.match(early, /^\[main\] tick 1$/m);
    assert.equal((await show(id)).status, "running");
    const follower = box.runAsync(["logs", id, "-f"]);
    await waitFor(async () => /tick 10\b/.test((await box.runAsync(["logs", id])).stdout), { timeoutMs: 60_000, what: "tick 10" });
    assert.equal((await box.runAsync(["cancel", id])).code, 0);
    const followed = await follower;
    assert.match(followed.stdout, /^\[main\] tick 10$/m, "the follower printed lines as they came");
    assert.equal((await show(id)).status, "cancelled");
  });

  test("cancel stops a running run with scancel: the runner records the cancellation and the job ends", async () => {
    const id = (await json(["run", "ticks"])).doc.id as string;
    await waitFor(async () => /tick 2\b/.test((await box.runAsync(["logs", id])).stdout), { timeoutMs: 60_000, what: "the run to tick" });
    const jobId = (await show(id)).handle.job_id as string;
    const cancelled = await json(["cancel", id]);
    assert.equal(cancelled.code, 0, JSON.stringify(cancelled.doc));
    assert.equal(cancelled.doc.status, "cancelled");
    const d = await show(id);
    assert.equal(d.status, "cancelled");
    assert.equal(d.provenance.status, "cancelled", "the runner recorded it (with provenance), not only the cancel command");
    await waitFor(() => !["RUNNING", "COMPLETING"].includes(jobField(jobId, "JobState")!), { timeoutMs: 30_000, what: "the Slurm job to end" });
    assert.equal((await json(["cancel", id])).code, 3, "cancelling again is refused");
  });

  test("run --wait follows the job on the node, and Ctrl-C cancels it", async () => {
    const child = box.start(["run", "ticks", "--wait"]);
    const done = exited(child);
    let seen = "";
    child.stdout!.on("data", (d) => (seen += d));
    await waitFor(() => /^\[main\] tick 2$/m.test(seen), { timeoutMs: 60_000, what: "the run's lines on stdout" });
    child.kill("SIGINT");
    const r = await done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout + r.stderr, /cancelling run r\w+/);
    assert.match(r.stdout, /: cancelled in /);
    const id = /^(r\w+)\s+started/m.exec(r.stdout)![1]!;
    assert.equal((await show(id)).status, "cancelled");
  });

  test("a job cancelled in Slurm (scancel by hand) ends its run cancelled", async () => {
    const id = (await json(["run", "ticks"])).doc.id as string;
    await waitFor(async () => (await show(id)).status === "running", { timeoutMs: 60_000, what: "the run to start" });
    slurm(["scancel", (await show(id)).handle.job_id]);
    const d = await waitForValue(() => show(id), (x) => x.status !== "running", { timeoutMs: 60_000, what: "the run to end" });
    assert.equal(d.status, "cancelled");
  });

  test("a pending job shows Slurm's reason, and cancelling it takes it off the queue", async () => {
    const id = (await json(["run", "hello", "-t", "held"])).doc.id as string;
    const d = await waitForValue(() => show(id), (x) => x.reason !== null, { timeoutMs: 30_000, what: "the pending reason" });
    assert.equal(d.status, "queued");
    assert.match(d.reason, /^Slurm job \d+ is pending: held by its user \(JobHeldUser\)$/);
    const listed = (await json(["runs", "-t", "held"])).doc.runs.find((r: { id: string }) => r.id === id);
    assert.equal(listed.reason, d.reason, "`runs` shows it too");
    assert.equal((await json(["cancel", id, "-t", "held"])).doc.status, "cancelled");
    assert.equal(jobField(d.handle.job_id, "JobState"), "CANCELLED");
  });

  test("a sweep is one job array: a run per combination, each its own array element and log", async () => {
    const { code, doc } = await json(["sweep", "hello", "--values", "who=ada,bob", "--values", "n=1,2", "--wait"]);
    assert.equal(code, 0, JSON.stringify(doc));
    assert.equal(doc.runs.length, 4);
    assert.deepEqual(
      doc.runs.map((r: { params: Record<string, string> }) => r.params),
      [
        { who: "ada", n: "1" },
        { who: "ada", n: "2" },
        { who: "bob", n: "1" },
        { who: "bob", n: "2" },
      ],
    );
    const details = await Promise.all(doc.runs.map((r: { id: string }) => show(r.id)));
    const arrayJob = details[0].handle.array_job_id as string;
    assert.match(arrayJob, /^\d+$/);
    details.forEach((d, i) => {
      assert.equal(d.status, "succeeded");
      assert.equal(d.handle.array_job_id, arrayJob, "one array");
      assert.equal(d.handle.job_id, `${arrayJob}_${i}`);
      assert.deepEqual(d.results, { who: d.params.who });
      assert.deepEqual(d.provenance.sweep, { id: doc.sweep, index: i, of: 4 });
    });
    for (const [i, d] of details.entries()) {
      const log = (await box.runAsync(["logs", d.id])).stdout;
      assert.match(log, new RegExp(`hello ${d.params.who} job=\\d+ array=${i} `));
    }
    // Each array element's output (the runner's own) went to its run's folder.
    for (const d of details) assert.ok(existsSync(join(box.home, "runs", d.id, "runner.log")));
  });

  test("a compute environment is made by the run on its node, used by its tasks, and removed after", async () => {
    const { code, doc } = await json(["run", "inenv", "--wait"]);
    assert.equal(code, 0, JSON.stringify(doc));
    const log = (await box.runAsync(["logs", doc.id])).stdout;
    const prefix = /^\[main\] prefix (.+)$/m.exec(log)?.[1];
    // (The log also has the task's PATH and which python it found, to tell why if this fails.)
    assert.ok(prefix?.startsWith(join(box.home, "envs")), `the task's python is the environment's: ${log}`);
    assert.match(log, /^\[main\] env=scratch$/m);
    assert.equal(doc.provenance.environment.name, "scratch");
    assert.equal(existsSync(prefix!), false, "the ephemeral environment went with its run");
  });

  test("doctor: the target's Slurm controller answers", async () => {
    const r = await json(["doctor"]);
    const slurmCheck = r.doc.checks.find((c: { name: string }) => c.name === "slurm");
    assert.equal(slurmCheck.status, "ok", JSON.stringify(slurmCheck));
    assert.match(slurmCheck.message, /is UP, for target cluster$/);
  });

  test("a job asking for GPUs the cluster lacks: sbatch's refusal is the error, and the run is recorded failed", async () => {
    const r = await json(["run", "gpu"]);
    assert.equal(r.code, 1);
    assert.equal(r.doc.error.code, "executor_failed");
    assert.match(r.doc.error.message, /^sbatch refused the run: .*gres/i);
    const [latest] = (await json(["runs", "--job", "gpu"])).doc.runs;
    assert.equal(latest.status, "failed");
    assert.match(latest.reason, /^could not start: sbatch refused the run/);
  });

  test("a run past its time limit ends failed with Slurm's TIMEOUT as the reason", async () => {
    const d = await waitForValue(() => show(limited), (x) => !["queued", "running"].includes(x.status), { timeoutMs: 240_000, what: "the one-minute limit to stop the run" });
    assert.equal(d.status, "failed");
    assert.match(d.reason, /^Slurm job \d+ reached its time limit \(TIMEOUT, time limit 00:01:00\)/);
    assert.equal(jobField(d.handle.job_id, "TimeLimit"), "00:01:00");
    await waitFor(() => jobField(d.handle.job_id, "JobState") === "TIMEOUT", { timeoutMs: 30_000, what: "Slurm to record TIMEOUT" });
    // What the run made before it was stopped is archived.
    const log = readFileSync(join(box.home, "archives", "stage_logs", "runs", limited, "main.log"), "utf8");
    assert.match(log, /^tick 1$/m);
  });
});

describe("the Slurm executor without a cluster", () => {
  it("doctor fails the slurm check, saying what is wrong and how to fix it; a local target has no slurm check", () => {
    const box = sandbox(project);
    try {
      const r = box.json(["doctor"], { SLURM_CONF: join(box.dir, "no-such-slurm.conf") });
      assert.equal(r.code, 1);
      const check = r.doc.checks.find((c: { name: string }) => c.name === "slurm");
      assert.equal(check.status, "fail");
      assert.ok(
        check.message === `SLURM_CONF names ${join(box.dir, "no-such-slurm.conf")}, which does not exist; target cluster runs its jobs on Slurm` || /^sbatch is not installed/.test(check.message),
        check.message,
      );
      assert.match(check.fix, /SLURM_CONF/);
      box.write({ "slipway.yaml": project["slipway.yaml"].replace("default: true\n    executor: { type: slurm, partition: debug }", "default: true") });
      assert.equal(box.json(["doctor"]).doc.checks.some((c: { name: string }) => c.name === "slurm"), false);
    } finally {
      box.cleanup();
    }
  });
});
