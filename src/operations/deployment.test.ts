// runDeployment, the flow deploy, destroy and rollback share, on real SQLite state and a real blob
// store in a temp folder with the real kinds (modules, settings, hooks): the lease, recovery of an
// interrupted deployment, confirmation, and revisions recorded only when the state changed.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { iso } from "../clock.js";
import { planChanges } from "../engine/plan.js";
import type { Reporter } from "../engine/reporter.js";
import { RefusedError } from "../errors.js";
import { kindLookup } from "../kinds/index.js";
import type { DesiredResource } from "../resources.js";
import { compileFiles, kindHarness, projectYaml, runtimeEnv, type KindHarness } from "../../test/helpers/kinds.js";
import { waitFor } from "../../test/helpers/wait.js";
import type { OperationContext } from "./context.js";
import { loadSnapshot, runDeployment, stateHashOf, type DeploymentRequest } from "./deployment.js";

describe("runDeployment", () => {
  let h: KindHarness;
  let warnings: string[];
  let ctx: OperationContext;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    h = await kindHarness();
    warnings = [];
    const reporter: Reporter = { info() {}, warn: (m) => warnings.push(m) };
    ctx = { env: runtimeEnv(h.home, h.clock), reporter };
  });
  afterEach(() => h.cleanup());
  after(() => children.forEach((c) => c.kill("SIGKILL")));

  /** The project with these settings in module core (and a hook when `hook` is given). */
  const desired = (settings: Record<string, string>, hook?: string): DesiredResource[] =>
    compileFiles(
      {
        "slipway.yaml": projectYaml(),
        "modules/core/module.yaml": `module: core\n${hook ? "hooks:\n  - name: h\n    deploy: h.sh\n" : ""}settings:\n${Object.entries(settings).map(([k, v]) => `  ${k}: ${v}\n`).join("") || "  {}\n"}`,
        ...(hook ? { "modules/core/h.sh": `#!/usr/bin/env bash\n${hook}\n` } : {}),
      },
      { dir: h.projectDir },
    ).resources;

  const request = (wanted: DesiredResource[], extra: Partial<DeploymentRequest> = {}): DeploymentRequest => ({
    operation: "deploy",
    projectName: h.project,
    targetName: h.target,
    projectDir: h.projectDir,
    options: {},
    makePlan: (recorded) => planChanges(wanted, recorded, kindLookup.changeKind),
    confirmation: (plan) => (plan.actions.some((a) => a.action === "delete") ? { question: "Delete?" } : undefined),
    ...extra,
  });
  // A second passes between deployments, so they list in order.
  const deploy = (wanted: DesiredResource[], extra: Partial<DeploymentRequest> = {}) => (h.clock.advance(1000), runDeployment(h.stores, request(wanted, extra), ctx));

  it("records a revision when the state changed, none when it did not, and releases the lease", async () => {
    const first = await deploy(desired({ a: "1" }));
    assert.equal(first.status, "succeeded");
    assert.equal(first.revision, 1);
    assert.deepEqual(await h.state.listSettings(), [{ module: "core", key: "a", value: "1" }]);
    assert.equal(await h.state.getLock(), undefined);
    const row = (await h.state.listDeployments())[0]!;
    assert.deepEqual([row.status, row.revision, row.user, row.finished_at], ["succeeded", 1, "tester", iso(h.clock.now())]);
    const snapshot = await loadSnapshot(h.stores, row.snapshot!);
    assert.deepEqual(snapshot.resources.map((r) => r.address), ["module.core", "setting.core.a"]);
    assert.equal(row.state_hash, stateHashOf(await h.state.listResources()));

    const again = await deploy(desired({ a: "1" }));
    assert.equal(again.status, "no-changes");
    assert.equal(again.revision, undefined);
    assert.equal((await h.state.listDeployments()).length, 1, "nothing to do leaves no deployment behind");

    const changed = await deploy(desired({ a: "2" }));
    assert.deepEqual([changed.status, changed.revision], ["succeeded", 2]);
  });

  it("records the state an interrupted deployment applied but did not record, on the next run with nothing to do", async () => {
    await deploy(desired({ a: "1" }));
    // A deploy applied b (and the module marker's new dependency) and died before recording its revision.
    const wanted = desired({ a: "1", b: "2" });
    for (const r of wanted) await h.state.commitPut({ ...r, outputs: {}, createdAt: iso(h.clock.now()), updatedAt: iso(h.clock.now()) });
    const next = await deploy(wanted);
    assert.equal(next.status, "no-changes");
    assert.equal(next.revision, 2);
    const row = (await h.state.listDeployments()).find((d) => d.revision === 2)!;
    assert.match(row.options, /recorded the state an interrupted deployment had applied/);
  });

  it("refuses at once while another live process holds the lease; takes over a lease that expired", async () => {
    const { acquireLease } = await import("../engine/lock.js");
    const held = await acquireLease(h.state, { operation: "deploy", owner: { user: "bob", host: "elsewhere", pid: 1 }, ttlMs: 60_000, clock: h.clock });
    held.release = async () => {}; // bob's process "dies" holding it
    await assert.rejects(deploy(desired({ a: "1" })), (e: unknown) => e instanceof RefusedError && e.code === "lock_held" && /locked by bob@elsewhere/.test(e.message));
    assert.deepEqual(await h.state.listResources(), [], "nothing was applied");
    assert.deepEqual(await h.state.listDeployments(), []);

    h.clock.advance(60_001);
    const taken = await deploy(desired({ a: "1" }));
    assert.equal(taken.status, "succeeded");
    assert.match(warnings.join("\n"), /took over the lock of bob@elsewhere \(pid 1\): its lease expired/);
  });

  it("recovers an interrupted deployment: stops the script it left running and marks it interrupted", async () => {
    const orphan = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    children.push(orphan);
    let exited = false;
    orphan.on("exit", () => (exited = true));
    await h.state.createDeployment({ id: "d-dead", operation: "deploy", status: "running", revision: null, user: "tester", host: ctx.env.host, pid: 2 ** 22 + 7, started_at: iso(h.clock.now()), finished_at: null, summary: "{}", snapshot: null, state_hash: null, error: null, options: "{}" });
    await h.state.journalStart({ deployment_id: "d-dead", seq: 1, address: "hook.core.h", action: "create", started_at: iso(h.clock.now()) });
    await h.state.journalChild("d-dead", 1, orphan.pid!);

    const outcome = await deploy(desired({ a: "1" }));
    assert.equal(outcome.status, "succeeded");
    await waitFor(() => exited, { what: "the orphaned script to be stopped" });
    const dead = (await h.state.listDeployments()).find((d) => d.id === "d-dead")!;
    assert.equal(dead.status, "interrupted");
    assert.match(dead.error!, /stopped before finishing; in flight: hook\.core\.h/);
    assert.match(warnings.join("\n"), /stopped a script left running by the interrupted deploy \(hook\.core\.h, process group \d+\)/);
    assert.match(warnings.join("\n"), /the previous deploy \(d-dead\) was interrupted during hook\.core\.h/);
  });

  it("asks before deleting: no terminal and no --yes refuses, a no changes nothing, a yes goes on", async () => {
    await deploy(desired({ a: "1", b: "2" }));
    const fewer = desired({ a: "1" });
    await assert.rejects(deploy(fewer), (e: unknown) => e instanceof RefusedError && e.code === "confirmation_required" && e.exitCode === 3);
    const asked: string[] = [];
    ctx.confirm = async (q) => (asked.push(q), false);
    await assert.rejects(deploy(fewer), (e: unknown) => e instanceof RefusedError && e.code === "not_confirmed");
    assert.deepEqual(asked, ["Delete?"]);
    assert.equal((await h.state.listSettings()).length, 2, "nothing changed");
    assert.equal(await h.state.getLock(), undefined, "the lease is released after a refusal");

    ctx.confirm = async () => true;
    assert.equal((await deploy(fewer)).status, "succeeded");
    assert.equal((await h.state.listSettings()).length, 1);
    delete ctx.confirm;
    await deploy(desired({ a: "1", b: "2" }));
    assert.equal((await deploy(fewer, { yes: true })).status, "succeeded", "--yes confirms");
  });

  it("a change that needs --force is refused without it, even with --yes", async () => {
    await deploy(desired({ a: "1" }));
    const protectedTarget = { confirmation: () => ({ question: "Delete?", needsForce: "unit/dev is protected" }), yes: true };
    await assert.rejects(deploy(desired({}), protectedTarget), (e: unknown) => e instanceof RefusedError && e.code === "protected");
    assert.equal((await deploy(desired({}), { ...protectedTarget, force: true })).status, "succeeded");
  });

  it("a failed action fails the deployment (with the address and error), records no revision and keeps what finished", async () => {
    const outcome = await deploy(desired({ a: "1" }, "echo failing; exit 5"));
    assert.equal(outcome.status, "failed");
    assert.equal(outcome.revision, undefined);
    const row = (await h.state.listDeployments())[0]!;
    assert.equal(row.status, "failed");
    assert.match(row.error!, /^hook\.core\.h: deploy script h\.sh exited with code 5$/);
    assert.equal(await h.state.latestRevision(), undefined);
    assert.equal(await h.state.getLock(), undefined);
    // The next deploy continues from what was recorded.
    const fixed = await deploy(desired({ a: "1" }, "echo fixed"));
    assert.equal(fixed.status, "succeeded");
    assert.equal(fixed.revision, 1);
  });

  it("a check that refuses stops before anything changes", async () => {
    const check = () => {
      throw new RefusedError("dependents_deployed", "no");
    };
    await assert.rejects(deploy(desired({ a: "1" }), { check }), (e: unknown) => e instanceof RefusedError && e.code === "dependents_deployed");
    assert.deepEqual(await h.state.listResources(), []);
  });
});
