// A compute environment (`compute.NAME`): deploying it makes a Python virtual environment under
// SLIPWAY_HOME/envs/<project>/<target>/<name> with its `libraries` installed offline from the target's
// artifact store; an update installs or uninstalls what the config changed; a delete removes the
// folder. An ephemeral environment is only recorded here: each run that needs it makes its own
// instance and removes it afterwards (runs/runner.ts).
import type { DesiredResource, RecordedResource } from "../resources.js";
import { ArtifactStore } from "../artifacts/store.js";
import { ensureEnvironment, removeEnvironment, resolveLibraries, syncLibraries, type ComputeSpec, type EnvironmentContext } from "../compute/environments.js";
import { resolvePython } from "../compute/venv.js";
import type { Outputs, Provider, ProviderContext } from "./provider.js";

function environmentContext(ctx: ProviderContext): EnvironmentContext {
  return {
    home: ctx.home,
    project: ctx.project,
    target: ctx.target,
    compute: ctx.compute,
    artifacts: new ArtifactStore(ctx.artifacts, ctx.project, ctx.target),
    user: ctx.user,
    clock: ctx.clock,
    io: { env: ctx.processEnv, signal: ctx.signal, onLine: (stream, line) => ctx.output(stream, line), onStart: (pid) => void ctx.childStarted(pid) },
  };
}

async function outputsOf(ctx: ProviderContext, name: string): Promise<Outputs> {
  const env = await ctx.compute.getEnvironment(name);
  const installs = await ctx.compute.listInstalls({ environment: name, instance: "" });
  return { path: env?.path, python: env?.python, python_version: env?.python_version, libraries: Object.fromEntries(installs.map((i) => [i.artifact, i.version])) };
}

async function ephemeral(ctx: ProviderContext, name: string, spec: ComputeSpec): Promise<Outputs> {
  // Nothing to make now; check the libraries exist so the first run does not find out.
  await resolveLibraries(new ArtifactStore(ctx.artifacts, ctx.project, ctx.target), ctx.target, spec.libraries ?? []);
  ctx.output("stdout", `${name} is ephemeral: each run that uses it makes its own environment and removes it afterwards`);
  return { ephemeral: true, libraries: Object.fromEntries((spec.libraries ?? []).map((l) => l.split("@") as [string, string])) };
}

export const computeProvider: Provider = {
  kind: "compute",
  async create(ctx, desired: DesiredResource) {
    const spec = desired.spec as ComputeSpec;
    if (spec.ephemeral) return ephemeral(ctx, desired.name, spec);
    await ensureEnvironment(environmentContext(ctx), desired.name, spec);
    return outputsOf(ctx, desired.name);
  },
  async update(ctx, recorded: RecordedResource, desired: DesiredResource) {
    const before = recorded.spec as ComputeSpec;
    const after = desired.spec as ComputeSpec;
    const ectx = environmentContext(ctx);
    if (after.ephemeral) {
      if (!before.ephemeral) await removeEnvironment(ectx, desired.name);
      return ephemeral(ctx, desired.name, after);
    }
    if (before.ephemeral) await ensureEnvironment(ectx, desired.name, after);
    else await syncLibraries(ectx, desired.name, before, after);
    return outputsOf(ctx, desired.name);
  },
  async delete(ctx, recorded: RecordedResource) {
    if ((recorded.spec as ComputeSpec).ephemeral) return; // running instances belong to their runs
    await removeEnvironment(environmentContext(ctx), recorded.name);
  },
  // Another interpreter, or pip in or out, is another environment.
  diff(recorded, desired) {
    const a = recorded.spec as ComputeSpec;
    const b = desired.spec as ComputeSpec;
    const persistent = !a.ephemeral && !b.ephemeral;
    return persistent && (resolvePython(a.python) !== resolvePython(b.python) || !!a.pip !== !!b.pip) ? "replace" : "update";
  },
};
