// kill -9 at several points of a deploy: state stays consistent, and the next deploy converges to the
// config without redoing what was recorded as done.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exited, sandbox, waitFor, type Sandbox } from "../helpers/cli.js";
import { homeStateNumber } from "../helpers/home-backends.js";
import { processAlive } from "../../src/util/run-script.js";

// A hook's first attempt waits while the file block-NAME exists, then fails if fail-NAME exists;
// later attempts neither wait nor fail.
const hook = (name: string) => `#!/usr/bin/env bash
set -euo pipefail
d="$SLIPWAY_HOME/.."
echo "$$" > "$d/${name}.pid"
if [ ! -e "$d/attempted-${name}" ]; then
  touch "$d/attempted-${name}"
  while [ -e "$d/block-${name}" ]; do sleep 0.05; done
  if [ -e "$d/fail-${name}" ]; then echo "${name}-failed" >> "$d/events.log"; exit 3; fi
fi
echo "${name}" >> "$d/events.log"
`;

function project(): Record<string, string> {
  const settings = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `  ${prefix}${i}: v${i}`).join("\n");
  return {
    "slipway.yaml": "project: crashy\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
    "modules/core/module.yaml": `module: core\nhooks:\n  - { name: one, deploy: one.sh }\n  - { name: two, deploy: two.sh }\nsettings:\n${settings("c", 15)}\n`,
    "modules/core/one.sh": hook("one"),
    "modules/core/two.sh": hook("two"),
    "modules/app/module.yaml": `module: app\ndepends_on: [core]\nhooks:\n  - { name: three, deploy: three.sh }\nsettings:\n${settings("a", 15)}\n`,
    "modules/app/three.sh": hook("three"),
  };
}
const HOOKS = ["one", "two", "three"];
const TOTAL_ACTIONS = 2 + 3 + 30; // module markers, hooks, settings

/** The pid a script wrote to `file` with `echo "$$" > file`, once the whole line is there. */
function pidIn(file: string): number | undefined {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  return /^\d+\n$/.test(text) ? Number(text) : undefined;
}

function events(box: Sandbox): string[] {
  const file = join(box.home, "..", "events.log");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
}

/** The state is consistent: records and the settings table agree, and match the config after a redeploy. */
function assertConverged(box: Sandbox): void {
  const plan = box.json(["plan"]).doc;
  assert.equal(plan.actions.length, 0, `plan after recovery: ${JSON.stringify(plan.summary)}`);
  assert.equal(plan.summary.noop, TOTAL_ACTIONS);
  // The home's state database: SQLite, or PostgreSQL under the backend matrix.
  const n = (sql: string) => homeStateNumber(box.home, sql);
  assert.equal(n("select count(*) n from settings"), 30);
  assert.equal(n("select count(*) n from resources where kind = 'setting'"), 30);
  assert.equal(n("select count(*) n from locks"), 0, "the lock is released");
  assert.equal(n("select count(*) n from journal j join deployments d on d.id = j.deployment_id where j.status = 'started' and d.status = 'running'"), 0, "no deployment is left running");
}

function crashThenRecover(failpoint: string): { box: Sandbox; before: string[]; after: string[] } {
  const box = sandbox(project());
  const crashed = box.run(["deploy"], { SLIPWAY_FAILPOINT: failpoint });
  assert.equal(crashed.code, 137, `expected a SIGKILL at ${failpoint}; stderr: ${crashed.stderr}`);
  const before = events(box);
  const recovered = box.run(["deploy"]);
  assert.equal(recovered.code, 0, recovered.stderr);
  assert.match(recovered.stderr, /was interrupted/);
  return { box, before, after: events(box).slice(before.length) };
}

describe("kill -9 during deploy", () => {
  for (const n of [1, 2, 7, 20, TOTAL_ACTIONS]) {
    it(`before action ${n}: the next deploy converges and runs each hook exactly once overall`, () => {
      const { box, before, after } = crashThenRecover(`apply.before-action=${n}`);
      try {
        assert.deepEqual([...before, ...after].sort(), [...HOOKS].sort());
        assertConverged(box);
      } finally {
        box.cleanup();
      }
    });

    it(`after action ${n} was committed: nothing recorded is redone`, () => {
      const { box, before, after } = crashThenRecover(`apply.after-commit=${n}`);
      try {
        assert.deepEqual([...before, ...after].sort(), [...HOOKS].sort());
        assertConverged(box);
      } finally {
        box.cleanup();
      }
    });
  }

  it("after an action's effect but before its record: settings are adopted, hooks are recorded from their exit status, nothing runs twice", () => {
    // Actions 1 and 2 are always hooks one and two (nothing else is ready before them); 5, 12 and 30
    // land on settings and module markers as well as hooks, depending on scheduling.
    for (const n of [1, 2, 5, 12, 30]) {
      const { box, before, after } = crashThenRecover(`apply.after-action=${n}`);
      try {
        assertConverged(box);
        // A hook whose script finished but whose record was not written is committed from the exit
        // status its wrapper wrote: every hook ran exactly once.
        assert.deepEqual([...before, ...after].sort(), [...HOOKS].sort());
      } finally {
        box.cleanup();
      }
    }
  });

  it("after every action but before the revision was recorded: the next deploy records the revision and changes nothing", () => {
    const { box, before, after } = crashThenRecover("deploy.before-revision=1");
    try {
      assert.deepEqual(before.sort(), [...HOOKS].sort());
      assert.deepEqual(after, []);
      const history = box.json(["history"]).doc.deployments;
      assert.equal(history[0].revision, 1);
      assert.equal(history[1].status, "interrupted");
      assertConverged(box);
    } finally {
      box.cleanup();
    }
  });

  /** Starts a deploy, blocks hook two's first attempt, kills the CLI with SIGKILL while two runs. */
  async function killDuringHookTwo(box: Sandbox, extra: string[] = []): Promise<number> {
    writeFileSync(join(box.home, "..", "block-two"), "");
    for (const f of extra) writeFileSync(join(box.home, "..", f), "");
    const child = box.start(["deploy"]);
    const done = exited(child);
    // The pid once written in full (the file exists, empty, before `echo` writes it).
    await waitFor(() => pidIn(join(box.home, "..", "two.pid")) !== undefined, 15_000, "hook two to start");
    child.kill("SIGKILL");
    await done;
    const orphan = pidIn(join(box.home, "..", "two.pid"))!;
    assert.ok(processAlive(orphan), "the hook script outlives the killed CLI");
    return orphan;
  }

  /** Starts `slipway ARGS`, keeping its stderr readable while it runs. */
  function startWatched(box: Sandbox, args: string[]) {
    const child = box.start(args);
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const done = exited(child);
    return { done, stderr: () => stderr };
  }

  it("while a hook script runs: the next deploy waits for the orphan, adopts its success and does not run it again", async () => {
    const box = sandbox(project());
    try {
      const orphan = await killDuringHookTwo(box);
      const recovery = startWatched(box, ["deploy"]);
      await waitFor(() => /hook\.core\.two \(process group \d+\), started by the interrupted deployment \S+, is still running: waiting for it to finish/.test(recovery.stderr()), 30_000, "the deploy to wait for the orphan");
      assert.ok(processAlive(orphan), "waiting, not killing");
      rmSync(join(box.home, "..", "block-two"));
      const result = await recovery.done;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /hook\.core\.two, started by the interrupted deploy, finished on its own \(exit 0\): recorded as done; it does not run again/);
      assert.ok(!processAlive(orphan));
      assert.deepEqual(events(box).sort(), [...HOOKS].sort());
      assertConverged(box);
    } finally {
      box.cleanup();
    }
  });

  it("a hook that finished unobserved after the deploy was killed is adopted by the next deploy, not run again", async () => {
    const box = sandbox(project());
    try {
      const orphan = await killDuringHookTwo(box);
      rmSync(join(box.home, "..", "block-two"));
      await waitFor(() => events(box).includes("two") && !processAlive(orphan), 15_000, "the orphan to finish on its own");
      const recovered = box.run(["deploy"]);
      assert.equal(recovered.code, 0, recovered.stderr);
      assert.match(recovered.stderr, /hook\.core\.two, started by the interrupted deploy, finished on its own \(exit 0\)/);
      assert.deepEqual(events(box).sort(), [...HOOKS].sort(), "two completed once");
      const interrupted = box.json(["history"]).doc.deployments.find((d: any) => d.status === "interrupted");
      assert.match(interrupted.error, /hook\.core\.two finished afterwards and was recorded/);
      assertConverged(box);
    } finally {
      box.cleanup();
    }
  });

  it("a hook that failed unobserved is recorded as failed, and the next deploy runs it again", async () => {
    const box = sandbox(project());
    try {
      const orphan = await killDuringHookTwo(box, ["fail-two"]);
      rmSync(join(box.home, "..", "block-two"));
      await waitFor(() => events(box).includes("two-failed") && !processAlive(orphan), 15_000, "the orphan to fail on its own");
      const recovered = box.run(["deploy"]);
      assert.equal(recovered.code, 0, recovered.stderr);
      assert.match(recovered.stderr, /hook\.core\.two, started by the interrupted deploy, failed on its own \(exit 3\): recorded as failed; it runs again when next planned/);
      assert.deepEqual(events(box).sort(), [...HOOKS, "two-failed"].sort());
      const interrupted = box.json(["history"]).doc.deployments.find((d: any) => d.status === "interrupted");
      assert.match(interrupted.error, /hook\.core\.two failed afterwards \(exit 3\)/);
      assertConverged(box);
    } finally {
      box.cleanup();
    }
  });

  it("a destroy script that finished after destroy was killed is adopted: the next destroy does not run it again", async () => {
    const box = sandbox({
      "slipway.yaml": "project: undo\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
      "modules/core/module.yaml": "module: core\nhooks:\n  - { name: setup, deploy: deploy.sh, destroy: destroy.sh }\nsettings:\n  k: v\n",
      "modules/core/deploy.sh": "#!/usr/bin/env bash\ntrue\n",
      "modules/core/destroy.sh": `#!/usr/bin/env bash
d="$SLIPWAY_HOME/.."
echo "$$" > "$d/destroy.pid"
while [ -e "$d/block-destroy" ]; do sleep 0.05; done
echo destroyed >> "$d/events.log"
`,
    });
    try {
      assert.equal(box.run(["deploy"]).code, 0);
      writeFileSync(join(box.home, "..", "block-destroy"), "");
      const child = box.start(["destroy", "--yes"]);
      const done = exited(child);
      await waitFor(() => pidIn(join(box.home, "..", "destroy.pid")) !== undefined, 15_000, "the destroy script to start");
      child.kill("SIGKILL");
      await done;
      const orphan = pidIn(join(box.home, "..", "destroy.pid"))!;
      rmSync(join(box.home, "..", "block-destroy"));
      await waitFor(() => events(box).includes("destroyed") && !processAlive(orphan), 15_000, "the orphan to finish");
      // Interrupted before the marker and settings went: the module is still deployed.
      assert.ok(box.json(["status"]).doc.modules[0].deployed);
      const again = box.run(["destroy", "--yes"]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /hook\.core\.setup, started by the interrupted destroy, finished on its own \(exit 0\): recorded as done/);
      assert.deepEqual(events(box), ["destroyed"], "the destroy script completed once");
      assert.deepEqual(box.json(["status"]).doc.resources, {});
      assert.deepEqual(box.json(["settings", "list"]).doc.settings, []);
    } finally {
      box.cleanup();
    }
  });

  it("--kill-orphans stops the orphan instead of waiting; the hook then runs again and completes once", async () => {
    const box = sandbox(project());
    try {
      const orphan = await killDuringHookTwo(box);
      const recovered = box.run(["deploy", "--kill-orphans"]);
      assert.equal(recovered.code, 0, recovered.stderr);
      assert.match(recovered.stderr, /killed hook\.core\.two \(process group \d+\), left running by the interrupted deployment \S+ \(--kill-orphans\)/);
      assert.match(recovered.stderr, /hook\.core\.two, started by the interrupted deploy, did not finish \(killed by --kill-orphans before it finished\): not recorded; it runs again when next planned/);
      await waitFor(() => !processAlive(orphan), 5_000, "the orphan to be gone");
      rmSync(join(box.home, "..", "block-two"));
      assert.deepEqual(events(box).sort(), [...HOOKS].sort());
      assertConverged(box);
    } finally {
      box.cleanup();
    }
  });
});

// State-only actions ready together are applied in one transaction (engine/apply.ts, batch.ts): a
// kill -9 inside it must leave none of the batch recorded, and the next deploy must apply it whole.
describe("kill -9 inside a batch of state-only actions", () => {
  const SETTINGS = 40;
  const batchProject = () => ({
    "slipway.yaml": "project: batchy\ninclude: [modules/*/module.yaml]\ntargets:\n  dev: {}\n",
    // No hooks: the 40 settings are ready at once (one batch); the module's marker follows in another.
    "modules/core/module.yaml": `module: core\nsettings:\n${Array.from({ length: SETTINGS }, (_, i) => `  k${i}: v${i}`).join("\n")}\n`,
  });

  /** The home's state database (state.db, or PostgreSQL under the backend matrix). */
  function counts(box: Sandbox): { resources: number; settings: number; journal: number; running: number } {
    const n = (q: string) => homeStateNumber(box.home, q);
    return {
      resources: n("select count(*) n from resources"),
      settings: n("select count(*) n from settings"),
      journal: n("select count(*) n from journal"),
      running: n("select count(*) n from deployments where status = 'running'"),
    };
  }

  for (const n of [1, 20, SETTINGS]) {
    it(`killed after ${n} of the batch's ${SETTINGS} actions ran in its transaction: nothing of it is recorded; the next deploy applies all`, () => {
      const box = sandbox(batchProject());
      try {
        const crashed = box.run(["deploy"], { SLIPWAY_FAILPOINT: `apply.after-action=${n}` });
        assert.equal(crashed.code, 137, `expected a SIGKILL; stderr: ${crashed.stderr}`);
        // Neither a record nor a settings row of the batch, and no journal entry: the transaction is the unit.
        assert.deepEqual(counts(box), { resources: 0, settings: 0, journal: 0, running: 1 });
        const recovered = box.run(["deploy"]);
        assert.equal(recovered.code, 0, recovered.stderr);
        assert.match(recovered.stderr, /was interrupted/);
        assert.deepEqual(counts(box), { resources: SETTINGS + 1, settings: SETTINGS, journal: 0, running: 0 });
        assert.equal(box.json(["plan"]).doc.actions.length, 0);
      } finally {
        box.cleanup();
      }
    });
  }

  it("killed right after the batch committed: all of it is recorded, settings rows included; the next deploy adds only the marker", () => {
    const box = sandbox(batchProject());
    try {
      const crashed = box.run(["deploy"], { SLIPWAY_FAILPOINT: "apply.after-commit=1" });
      assert.equal(crashed.code, 137, `expected a SIGKILL; stderr: ${crashed.stderr}`);
      assert.deepEqual(counts(box), { resources: SETTINGS, settings: SETTINGS, journal: 0, running: 1 });
      const recovered = box.json(["deploy"]);
      assert.equal(recovered.code, 0, recovered.stderr);
      assert.deepEqual(
        recovered.doc.actions.map((a: { address: string; action: string }) => `${a.action} ${a.address}`),
        ["create module.core"],
      );
      assert.deepEqual(counts(box), { resources: SETTINGS + 1, settings: SETTINGS, journal: 0, running: 0 });
    } finally {
      box.cleanup();
    }
  });
});
