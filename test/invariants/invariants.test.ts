// Invariants every project must keep, checked on each small project under projects/ through the real
// CLI with a temp SLIPWAY_HOME (after the Databricks CLI's acceptance/bundle/invariant tests):
//
//   1. after a successful deploy, `plan` has nothing to do (no drift);
//   2. a rollback converges: deploy A, deploy B (the variant), `rollback --to` A's revision, and `plan`
//      against A's config has nothing to do;
//   3. after `destroy` nothing of the project remains: no resource in `status`, no process of it (the
//      home's server may stay, serving nothing), no envs/ or models/ folder of it, and every effect a
//      hook left (files under ../effects) removed by its destroy script;
//   4. a secret variable's value never appears in any output.
//
// A project folder holds `project/` (A), `variant/` (files written over A to make B) and
// `invariant.json` ({ description, setup?: CLI argument lists run before deploying, afterEachDeploy?:
// ones that must succeed after each deploy and the rollback, variantRemoves?: paths B deletes,
// secrets?: values never to print }). The CLI's output is shown only when a property
// fails (or always with INVARIANTS_VERBOSE=1). Adding a kind adds its projects here (src/kinds/README.md).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { REPO, sandbox, type CliResult, type Sandbox } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

const PROJECTS = join(REPO, "test", "invariants", "projects");

interface InvariantConfig {
  description: string;
  setup?: string[][];
  /** CLI argument lists that must succeed after each deploy and the rollback (e.g. querying an endpoint). */
  afterEachDeploy?: string[][];
  variantRemoves?: string[];
  secrets?: string[];
}

function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out[relative(dir, full)] = readFileSync(full, "utf8");
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Every file and folder under `dir` (folders end with /). */
function listTree(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [`${e.name}/`, ...listTree(join(dir, e.name)).map((f) => `${e.name}/${f}`)] : [e.name]));
}

/** Processes whose environment names this SLIPWAY_HOME (hooks, runners, model servers, the server), or that run in its apps/ folder (apps get no SLIPWAY_HOME). */
function processesOf(home: string): Array<{ pid: number; cmdline: string }> {
  const marker = `SLIPWAY_HOME=${home}\0`;
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, "latin1").includes(marker) && !readlinkSync(`/proc/${entry}/cwd`).startsWith(join(home, "apps"))) continue;
      found.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, "latin1").replace(/\0/g, " ").trim() });
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/** The home's server (started by deploy for endpoints); it outlives a destroy and serves nothing. */
function serverPid(home: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

class PropertyFailed extends Error {}

async function checkProject(name: string): Promise<void> {
  const dir = join(PROJECTS, name);
  const config = JSON.parse(readFileSync(join(dir, "invariant.json"), "utf8")) as InvariantConfig;
  const a = readTree(join(dir, "project"));
  const b = readTree(join(dir, "variant"));
  const box: Sandbox = sandbox(a);
  const transcript: string[] = [];
  const fail = (property: string, detail = ""): never => {
    throw new PropertyFailed(`${name}: ${property}${detail ? `\n${detail}` : ""}\n\n--- what the CLI printed ---\n${transcript.join("\n")}`);
  };
  const cli = async (args: string[]): Promise<CliResult> => {
    const r = await box.runAsync(args);
    transcript.push(`$ slipway ${args.join(" ")}   # exit ${r.code}\n${r.stdout}${r.stderr ? `[stderr]\n${r.stderr}` : ""}`);
    if (r.code !== 0) fail(`\`slipway ${args.join(" ")}\` exited with ${r.code}`);
    return r;
  };
  const json = async <T = any>(args: string[]): Promise<T> => {
    const r = await cli([...args, "--json"]);
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      return fail(`\`slipway ${args.join(" ")} --json\` printed no JSON document`);
    }
  };
  const noDrift = async (when: string) => {
    const plan = await json<{ actions: Array<{ action: string; address: string; changes?: unknown[] }> }>(["plan"]);
    if (plan.actions.length) fail(`plan is not empty ${when}`, plan.actions.map((x) => `  ${x.action} ${x.address} ${JSON.stringify(x.changes ?? [])}`).join("\n"));
  };
  const deploy = async (what: string): Promise<number> => {
    const d = await json<{ status: string; revision?: number }>(["deploy", "--yes"]);
    if (d.status !== "succeeded" || typeof d.revision !== "number") fail(`deploying ${what} did not succeed with a new revision`, JSON.stringify({ status: d.status, revision: d.revision }));
    for (const args of config.afterEachDeploy ?? []) await cli(args);
    return d.revision!;
  };

  try {
    for (const args of config.setup ?? []) await cli(args);

    // 1. No drift after a deploy.
    const revisionA = await deploy("A");
    await noDrift("after deploying A");

    // 2. Deploy the variant, then roll back to A.
    for (const path of config.variantRemoves ?? []) rmSync(join(box.dir, path), { force: true });
    box.write(b);
    const revisionB = await deploy("B (the variant)");
    if (revisionB <= revisionA) fail(`the variant changed nothing (revision ${revisionB} after ${revisionA})`);
    await noDrift("after deploying B");
    for (const path of [...Object.keys(b), ...(config.variantRemoves ?? [])]) if (!(path in a)) rmSync(join(box.dir, path), { force: true });
    box.write(a);
    const rolledBack = await json<{ status: string }>(["rollback", "--to", String(revisionA), "--yes"]);
    if (rolledBack.status !== "succeeded") fail(`rollback to revision ${revisionA} did not succeed`, JSON.stringify(rolledBack.status));
    for (const args of config.afterEachDeploy ?? []) await cli(args);
    await noDrift(`after rolling back to revision ${revisionA}, planned against A's config`);

    // 3. Nothing remains after destroy.
    const destroyed = await json<{ status: string }>(["destroy", "--yes"]);
    if (destroyed.status !== "succeeded") fail("destroy did not succeed", JSON.stringify(destroyed.status));
    const status = await json<{ resources: Record<string, number>; modules: Array<{ name: string; deployed: boolean; resources: number }> }>(["status"]);
    if (Object.keys(status.resources).length) fail("status shows resources after destroy", JSON.stringify(status.resources));
    const deployed = status.modules.filter((m) => m.deployed || m.resources);
    if (deployed.length) fail("status shows deployed modules after destroy", JSON.stringify(deployed));
    const server = serverPid(box.home);
    const left = () => processesOf(box.home).filter((p) => p.pid !== server);
    await waitFor(() => left().length === 0, { timeoutMs: 10_000, what: "the project's processes to end" }).catch(() =>
      fail("processes of the project are left after destroy", left().map((p) => `  ${p.pid} ${p.cmdline}`).join("\n")),
    );
    for (const folder of ["envs", "models", "apps"]) {
      const path = join(box.home, folder, projectName(a));
      if (existsSync(path)) fail(`${relative(box.home, path)} is left after destroy`, listTree(path).map((f) => `  ${f}`).join("\n"));
    }
    const effects = join(box.home, "..", "effects");
    if (existsSync(effects) && readdirSync(effects).length) fail("a hook's effect is left after destroy (its destroy script did not run)", readdirSync(effects).join(", "));

    // 4. Secrets are never printed.
    const printed = transcript.join("\n");
    for (const secret of config.secrets ?? []) if (printed.includes(secret)) fail(`the secret value "${secret.slice(0, 3)}…" was printed`);
  } finally {
    if (process.env.INVARIANTS_VERBOSE) console.log(`--- ${name} ---\n${transcript.join("\n")}`);
    box.cleanup();
  }
}

function projectName(files: Record<string, string>): string {
  return /^project:\s*(\S+)/m.exec(files["slipway.yaml"] ?? "")?.[1] ?? "";
}

const projects = readdirSync(PROJECTS).filter((p) => statSync(join(PROJECTS, p)).isDirectory()).sort();

describe("invariants of every project under test/invariants/projects", { concurrency: 4 }, () => {
  for (const name of projects) {
    const { description } = JSON.parse(readFileSync(join(PROJECTS, name, "invariant.json"), "utf8")) as InvariantConfig;
    it(`${name}: ${description}`, () => checkProject(name));
  }

  it("every project has A, a variant and a description", () => {
    for (const name of projects) {
      for (const part of ["project/slipway.yaml", "invariant.json"]) assert.ok(existsSync(join(PROJECTS, name, part)), `${name}/${part}`);
      assert.ok(existsSync(join(PROJECTS, name, "variant")), `${name}/variant`);
    }
  });
});
