// Jobs and runs through the real CLI: a real runner process per run, real task processes, real SQLite.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { processAlive } from "../../src/util/run-script.js";
import { loadManifest } from "../../src/bundles/index.js";
import { exited, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { embeddedOnly, homeArchive, homeExecutor } from "../helpers/home-backends.js";
import { jobsProject } from "../helpers/projects.js";

const fast = { SLIPWAY_RETRY_BACKOFF_MS: "50" };

describe("runs", () => {
  let box: Sandbox;
  // `run` executes jobs deployed to the target (the deploy also starts the run_on_deploy job).
  before(() => {
    box = sandbox(jobsProject());
    assert.equal(box.run(["deploy"]).code, 0);
    assert.equal(box.run(["deploy", "-t", "narrow"]).code, 0);
  });
  after(() => box.cleanup());

  it("run --wait executes the job in a fresh folder with params, env files, outputs and results", async () => {
    const r = box.run(["run", "train", "--param", "lr=0.5", "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[main\] lr 0\.5 epochs 1/);
    assert.match(r.stdout, /\[main\] env app module job jobs dev/);
    assert.match(r.stdout, /\[main\] cwd-has-source True run r\w+/);
    const id = /^(r\w+)\s+started/m.exec(r.stdout)![1]!;
    const results = box.json(["runs", "results", id]).doc;
    assert.deepEqual(results, { ok: true, run: id, status: "succeeded", results: { lr: 0.5 }, metrics: { accuracy: 0.97 } });
    // The working folder is gone; the outputs are archived with the run.
    assert.equal(existsSync(join(box.home, "runs", id, "work")), false);
    const outputs = JSON.parse(String(await homeArchive(box.home, "persisted_data").get(`runs/${id}/outputs.json`)));
    assert.deepEqual(Object.keys(outputs).sort(), ["metrics.json", "model/weights.bin", "results.json"]);
  });

  it("runs show gives tasks, timings, exit codes, params and provenance", async () => {
    const [latest] = box.json(["runs"]).doc.runs;
    const d = box.json(["runs", "show", latest.id]).doc;
    assert.equal(d.status, "succeeded");
    assert.deepEqual(d.params, { lr: "0.5", epochs: "1" });
    assert.equal(d.tasks.length, 1);
    assert.equal(d.tasks[0].exit_code, 0);
    assert.ok(d.tasks[0].duration_ms >= 0);
    const p = d.provenance;
    assert.match(p.bundle_hash, /^[0-9a-f]{64}$/);
    assert.match(p.config_hash, /^[0-9a-f]{64}$/);
    assert.equal(p.executor, homeExecutor);
    assert.equal(p.user, "tester");
    assert.ok(p.env_names.includes("FROM_APP") && p.env_names.includes("SLIPWAY_VAR_token"));
    assert.ok(!JSON.stringify(p).includes("hush-hush-123"), "provenance holds names, never values");
    assert.equal(p.tasks.main.exit_code, 0);
    assert.match(p.outputs["results.json"], /^[0-9a-f]{64}$/);
    assert.ok(p.started_at && p.finished_at && p.host);
    assert.ok("git" in p);
    assert.ok(await homeArchive(box.home, "provenance").has(`runs/${latest.id}.json`));
  });

  it("bundles respect .gitignore and store only changed files on the next run", async () => {
    const first = box.json(["runs", "show", box.json(["runs"]).doc.runs[0].id]).doc.provenance.bundle;
    box.write({ "modules/ml/src/notes.md": "x".repeat(1024) });
    const r = box.run(["run", "train", "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    const second = box.json(["runs", "show", box.json(["runs"]).doc.runs[0].id]).doc.provenance.bundle;
    assert.equal(second.files, first.files + 1);
    // One new 1 KB file plus the tree nodes on its path and the bundle record; nothing else was written again.
    assert.ok(second.bytes_written >= 1024 && second.bytes_written < 1024 + 4096, `wrote ${second.bytes_written} bytes`);
    const manifest = await loadManifest(homeArchive(box.home, "job_source"), second.hash);
    assert.equal(manifest.version, 2);
    const paths = manifest.files.map((f) => f.path);
    assert.ok(paths.includes("train.py") && paths.includes(".slipway/runner.sh") && paths.includes(".slipway/job.json"));
    assert.ok(!paths.includes("scratch.tmp"));
  });

  it("run returns at once and the run goes on after the CLI exits", async () => {
    const r = box.run(["run", "waiter"]);
    assert.equal(r.code, 0, r.stderr);
    const id = /^(r\w+)/.exec(r.stdout)![1]!;
    await waitFor(() => existsSync(join(box.home, "..", "waiter-started")), 15_000, "the waiter task");
    assert.equal(box.json(["runs", "show", id]).doc.status, "running");
    writeFileSync(join(box.home, "..", "release"), "");
    const followed = box.run(["logs", id, "-f"]);
    assert.equal(followed.code, 0);
    assert.match(followed.stdout, /\[main\] released/);
    assert.equal(box.json(["runs", "show", id]).doc.status, "succeeded");
    assert.deepEqual(box.json(["logs", id, "--task", "main"]).doc.lines, [{ task: "main", line: "released" }]);
  });

  it("a DAG runs in dependency order; a cached task is skipped when its inputs match, and --no-cache forces it", () => {
    const events = () => readFileSync(join(box.home, "..", "task-events"), "utf8").trim().split("\n");
    assert.equal(box.run(["run", "dag", "--wait"]).code, 0);
    assert.deepEqual(events(), ["prepare", "score"]);
    const hit = box.run(["run", "dag", "--wait"]);
    assert.equal(hit.code, 0);
    assert.deepEqual(events(), ["prepare", "score", "prepare"]);
    assert.match(hit.stdout, /cache hit: reusing the outputs of run r\w+/);
    const id = box.json(["runs"]).doc.runs[0].id;
    const d = box.json(["runs", "show", id]).doc;
    assert.equal(d.tasks.find((t: any) => t.task === "score").status, "cached");
    assert.deepEqual(d.results, { rows: 3 }, "the cached outputs are restored");
    assert.equal(box.run(["run", "dag", "--wait", "--no-cache"]).code, 0);
    assert.deepEqual(events().slice(-2), ["prepare", "score"]);
    // A different parameter is a different input: a miss.
    assert.equal(box.run(["run", "dag", "--wait", "--param", "size=4"]).code, 0);
    assert.deepEqual(events().slice(-2), ["prepare", "score"]);
  });

  it("a change of environment (env files, variables) or target is a cache miss", () => {
    const count = () => readFileSync(join(box.home, "..", "task-events"), "utf8").trim().split("\n").filter((e) => e === "score").length;
    assert.equal(box.run(["run", "dag", "--wait"]).code, 0);
    const before = count();
    assert.equal(box.run(["run", "dag", "--wait"]).code, 0);
    assert.equal(count(), before, "same inputs: a hit");
    box.write({ "application.env": "FROM_APP=changed\n" });
    assert.equal(box.run(["run", "dag", "--wait"]).code, 0);
    assert.equal(count(), before + 1, "application.env changed: a miss");
    assert.equal(box.run(["run", "dag", "--wait"], { SLIPWAY_VAR_token: "another-secret-456" }).code, 0);
    assert.equal(count(), before + 2, "a variable changed: a miss");
    assert.equal(box.run(["run", "dag", "--wait", "-t", "narrow"]).code, 0);
    assert.equal(count(), before + 3, "another target: a miss");
    box.write({ "application.env": "FROM_APP=app\n" });
  });

  it("keeps secret values out of bundles and user keys as written in --json", () => {
    box.write({ "modules/ml/module.yaml": readFileSync(join(box.dir, "modules/ml/module.yaml"), "utf8").replace("      env: { JOB_LEVEL: job }", "      env: { JOB_LEVEL: job, TOK: \"${var.token}\" }") });
    const out = join(box.dir, "..", "secret.tgz");
    assert.equal(box.run(["bundle", "train", "-o", out]).code, 0);
    const jobJson = execFileSync("tar", ["-xzOf", out, ".slipway/job.json"], { encoding: "utf8" });
    assert.match(jobJson, /"TOK": "\*\*\*"/);
    assert.ok(!jobJson.includes("hush-hush-123"));
    const doc = box.json(["run", "train", "--wait", "--param", "lr=0.3"]).doc;
    assert.deepEqual(doc.params, { lr: "0.3", epochs: "1" });
    assert.deepEqual(doc.results, { lr: 0.3 });
  });

  it("retries a failing task with backoff, and fails after the last attempt", () => {
    const ok = box.run(["run", "flaky", "--wait"], fast);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /failing attempt 1[\s\S]*retrying in 50 ms[\s\S]*ok on attempt 2/);
    assert.equal(box.json(["runs", "show", box.json(["runs"]).doc.runs[0].id]).doc.tasks[0].attempts, 2);
    const failed = box.run(["run", "broken", "--wait"], fast);
    assert.equal(failed.code, 1);
    const d = box.json(["runs", "show", box.json(["runs"]).doc.runs[0].id]).doc;
    assert.equal(d.status, "failed");
    assert.equal(d.tasks[0].attempts, 2);
    assert.equal(d.tasks[0].exit_code, 4);
    assert.match(d.reason, /main: exited with code 4/);
  });

  it("compute.timeout kills a task that runs too long", () => {
    const r = box.run(["run", "slow", "--wait"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /task main timed out after 1000 ms/);
    assert.equal(box.json(["runs"]).doc.runs[0].status, "failed");
  });

  it("cancel stops the whole process tree", async () => {
    const id = /^(r\w+)/.exec(box.run(["run", "tree"]).stdout)![1]!;
    // The task writes child.pid, then task.pid: wait for both (under load the second may lag).
    const written = (f: string) => existsSync(join(box.home, "..", f)) && readFileSync(join(box.home, "..", f), "utf8").trim() !== "";
    await waitFor(() => written("child.pid") && written("task.pid"), 15_000, "the task and its child process");
    const child = Number(readFileSync(join(box.home, "..", "child.pid"), "utf8"));
    const task = Number(readFileSync(join(box.home, "..", "task.pid"), "utf8"));
    assert.ok(processAlive(child) && processAlive(task));
    const r = box.run(["cancel", id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /cancelled/);
    await waitFor(() => !processAlive(child) && !processAlive(task), 10_000, "the process tree to stop");
    assert.equal(box.json(["runs", "show", id]).doc.status, "cancelled");
    assert.equal(box.run(["cancel", id]).code, 3);
  });

  it("run --wait is attached: Ctrl-C cancels the run, and so does `slipway cancel` from elsewhere", async () => {
    for (const how of ["ctrl-c", "cancel"]) {
      rmSync(join(box.home, "..", "waiter-started"), { force: true });
      rmSync(join(box.home, "..", "release"), { force: true });
      const child = box.start(["run", "waiter", "--wait"]);
      const done = exited(child);
      await waitFor(() => existsSync(join(box.home, "..", "waiter-started")), 15_000, "the attached run's task");
      const id = box.json(["runs"]).doc.runs[0].id;
      if (how === "ctrl-c") child.kill("SIGINT");
      else assert.equal(box.run(["cancel", id]).code, 0);
      const result = await done;
      assert.equal(result.code, 1, `${how}: ${result.stdout}${result.stderr}`);
      assert.equal(box.json(["runs", "show", id]).doc.status, "cancelled", how);
    }
  });

  // On Slurm the runner is a batch job: slurm.test.ts covers a job that ends without its runner finishing.
  it("a run whose runner died is shown as lost, not running", { skip: embeddedOnly("the runner is a local process killed by its pid") }, async () => {
    const id = /^(r\w+)/.exec(box.run(["run", "tree"]).stdout)![1]!;
    await waitFor(() => box.json(["runs", "show", id]).doc.status === "running", 15_000, "the run to start");
    const handle = box.json(["runs", "show", id]).doc.handle;
    process.kill(handle.pid, "SIGKILL");
    await waitFor(() => !processAlive(handle.pid), 5_000, "the runner to die");
    const d = box.json(["runs", "show", id]).doc;
    assert.equal(d.status, "lost");
    assert.match(d.reason, /its runner \(pid \d+ on .+\) stopped without finishing/);
    // Clean up the orphaned task tree the killed runner left.
    for (const f of ["child.pid", "task.pid"]) {
      try {
        process.kill(Number(readFileSync(join(box.home, "..", f), "utf8")), "SIGKILL");
      } catch {}
    }
  });

  it("masks secret values in task logs", () => {
    const r = box.run(["run", "secretive", "--wait"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /token=\*\*\*/);
    assert.ok(!r.stdout.includes("hush-hush-123"));
  });

  it("refuses unknown jobs and parameters (exit 2) and GPUs the executor lacks", () => {
    const typo = box.run(["run", "trian"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no job "trian" in jobs\n  hint: did you mean "train"\?/);
    const param = box.run(["run", "train", "--param", "rl=1"]);
    assert.equal(param.code, 2);
    assert.match(param.stderr, /job train has no parameter "rl"\n  hint: did you mean "lr"\?/);
    // On Slurm, the cluster decides (slurm.test.ts: sbatch's refusal is the error).
    if (homeExecutor === "local") {
      const gpu = box.run(["run", "gpu"]);
      assert.equal(gpu.code, 2);
      assert.match(gpu.stderr, /asks for 1 GPU\(s\), but the local executor of target dev has none/);
    }
  });

  it("run_on_deploy starts a run after a successful deploy without waiting for it", async () => {
    // The deploy in before() created the job and started its first run; an update starts another.
    const ranOnDeploy = () => (existsSync(join(box.home, "..", "deploy-runs")) ? readFileSync(join(box.home, "..", "deploy-runs"), "utf8").trim().split("\n").length : 0);
    await waitFor(() => ranOnDeploy() >= 2, 15_000, "the run_on_deploy runs of the first deploys (dev and narrow)");
    const yaml = readFileSync(join(box.dir, "modules/ml/module.yaml"), "utf8");
    box.write({ "modules/ml/module.yaml": yaml.replace("      run_on_deploy: true", "      run_on_deploy: true\n      description: updated") });
    const r = box.json(["deploy"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.doc.runs.map((x: any) => x.job), ["deployed"]);
    await waitFor(() => ranOnDeploy() === 3, 15_000, "the run_on_deploy run");
    assert.deepEqual(box.json(["deploy"]).doc.runs, [], "an unchanged job does not run again");
  });

  it("keeps the working folder when asked", () => {
    const r = box.run(["run", "train", "--wait", "--keep-workdir"]);
    const id = /^(r\w+)/.exec(r.stdout)![1]!;
    assert.ok(readdirSync(join(box.home, "runs", id, "work")).includes("train.py"));
  });
});

describe("concurrency", () => {
  it("the local executor runs at most max_parallel_runs at once; the rest wait queued", async () => {
    const box = sandbox(jobsProject());
    try {
      assert.equal(box.run(["deploy", "-t", "narrow"]).code, 0);
      const first = /^(r\w+)/.exec(box.run(["run", "waiter", "-t", "narrow"]).stdout)![1]!;
      await waitFor(() => existsSync(join(box.home, "..", "waiter-started")), 15_000, "the first run");
      const second = /^(r\w+)/.exec(box.run(["run", "train", "-t", "narrow"]).stdout)![1]!;
      // Its runner found the slot taken and waits (it says so once in its log).
      const runnerLog = join(box.home, "runs", second, "runner.log");
      await waitFor(() => existsSync(runnerLog) && readFileSync(runnerLog, "utf8").includes("waiting for a slot: 1 of at most 1 run(s)"), { timeoutMs: 15_000, what: "the second runner to wait for a slot" });
      assert.equal(box.json(["runs", "show", second, "-t", "narrow"]).doc.status, "queued");
      writeFileSync(join(box.home, "..", "release"), "");
      await waitFor(() => box.json(["runs", "show", second, "-t", "narrow"]).doc.status === "succeeded", 20_000, "the queued run");
      assert.equal(box.json(["runs", "show", first, "-t", "narrow"]).doc.status, "succeeded");
    } finally {
      box.cleanup();
    }
  });
});

describe("archives and provenance", () => {
  it("puts each kind of archive where slipway.yaml says, per target, and records the git commit and dirtiness", async () => {
    const files = jobsProject();
    files["slipway.yaml"] = files["slipway.yaml"]!.replace(
      "targets:",
      "archives:\n  stage_logs: { type: fs, path: store/logs }\n  provenance: { type: fs, path: store/provenance }\ntargets:",
    ).replace("  dev:\n    default: true\n", "  dev:\n    default: true\n    archives:\n      persisted_data: { type: fs, path: store/dev-data }\n");
    const box = sandbox(files);
    try {
      assert.equal(box.run(["deploy"]).code, 0);
      const git = (...args: string[]) => execFileSync("git", ["-C", box.dir, ...args], { encoding: "utf8" }).trim();
      git("init", "-q");
      git("-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".");
      git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init");
      const head = git("rev-parse", "HEAD");
      const r = box.run(["run", "train", "--wait"]);
      assert.equal(r.code, 0, r.stderr);
      const id = box.json(["runs"]).doc.runs[0].id;
      assert.ok(existsSync(join(box.dir, "store", "logs", "runs", id, "main.log")));
      assert.ok(existsSync(join(box.dir, "store", "provenance", "runs", `${id}.json`)));
      assert.ok(existsSync(join(box.dir, "store", "dev-data", "runs", id, "outputs.json")));
      assert.ok((await homeArchive(box.home, "job_source").list("bundles/")).length > 0, "unconfigured kinds stay in the home's store");
      const p = box.json(["runs", "show", id]).doc.provenance;
      assert.deepEqual(p.git, { commit: head, dirty: false });
      assert.equal(p.archives.stage_logs, join(box.dir, "store", "logs"));
      box.write({ "modules/ml/src/train.py": readFileSync(join(box.dir, "modules/ml/src/train.py"), "utf8") + "# edited\n" });
      assert.equal(box.run(["run", "train", "--wait"]).code, 0);
      assert.deepEqual(box.json(["runs", "show", box.json(["runs"]).doc.runs[0].id]).doc.provenance.git, { commit: head, dirty: true });
    } finally {
      box.cleanup();
    }
  });
});
