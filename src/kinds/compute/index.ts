// A compute environment (`compute.NAME`): deploying it makes a Python virtual environment with its
// `libraries` installed offline from the target's artifact store; an update installs or uninstalls
// what the config changed; a delete removes it. An ephemeral environment is only recorded here: each
// run that needs it makes its own instance and removes it afterwards (runs/runner.ts).
import { ensureEnvironment, removeEnvironment, resolveLibraries, syncLibraries, type ComputeSpec, type EnvironmentContext } from "../../compute/environments.js";
import { resolvePython } from "../../compute/venv.js";
import { LIBRARY } from "../../config/schema.js";
import type { Outputs, ProviderContext } from "../../engine/provider.js";
import { article } from "../../util/suggest.js";
import { defineKind } from "../kind.js";
import type { TargetServices } from "../services.js";
import { computeSchema, type ComputeBlock } from "./schema.js";

export type { ComputeSpec } from "../../compute/environments.js";

type Context = ProviderContext<TargetServices>;

function environmentContext(ctx: Context): EnvironmentContext {
  return ctx.services.environments({ env: ctx.services.scripts.env, signal: ctx.signal, onLine: (stream, line) => ctx.log.output(stream, line), onStart: (pid) => void ctx.log.childStarted(pid) });
}

async function outputsOf(ctx: Context, name: string): Promise<Outputs> {
  const { compute } = ctx.services.environments({ env: {}, signal: ctx.signal, onLine: () => {}, onStart: () => {} });
  const env = await compute.getEnvironment(name);
  const installs = await compute.listInstalls({ environment: name, instance: "" });
  return { path: env?.path, python: env?.python, python_version: env?.python_version, libraries: Object.fromEntries(installs.map((i) => [i.artifact, i.version])) };
}

async function ephemeral(ctx: Context, name: string, spec: ComputeSpec): Promise<Outputs> {
  // Nothing to make now; check the libraries exist so the first run does not find out.
  await resolveLibraries(ctx.services.artifacts, ctx.target, spec.libraries ?? []);
  ctx.log.output("stdout", `${name} is ephemeral: each run that uses it makes its own environment and removes it afterwards`);
  return { ephemeral: true, libraries: Object.fromEntries((spec.libraries ?? []).map((l) => l.split("@") as [string, string])) };
}

export const computeKind = defineKind<ComputeSpec, ComputeBlock>({
  kind: "compute",
  section: { key: "compute", schema: computeSchema, description: "Compute environments (Python virtual environments with the project's libraries)" },
  compile(block, cx) {
    const { phase: _phase, ...rest } = block;
    const seen = new Map<string, number>();
    (block.libraries ?? []).forEach((lib, i) => {
      const artifact = LIBRARY.exec(lib)?.[1];
      if (!artifact) return;
      if (seen.has(artifact)) cx.report({ location: cx.at(["libraries", i]), message: `compute "${cx.name}" lists ${artifact} twice (libraries ${seen.get(artifact)} and ${i})`, hint: "an environment holds one version of each library" });
      seen.set(artifact, i);
    });
    return { module: cx.module.name, ...rest };
  },
  references: (spec) =>
    (spec.libraries ?? []).flatMap((lib, i) => {
      const m = LIBRARY.exec(lib);
      return m ? [{ kind: "artifact" as const, name: m[1]!, path: ["libraries", i] }] : [];
    }),
  // Only wheels can be installed into a compute environment.
  link(resource, project, report, at) {
    (resource.spec.libraries ?? []).forEach((lib, i) => {
      const artifact = project.get(`artifact.${LIBRARY.exec(lib)?.[1] ?? ""}`);
      if (artifact && artifact.spec.type !== "python_wheel") {
        report({ location: at(["libraries", i]), message: `compute.${resource.name}: ${artifact.name} is ${article(String(artifact.spec.type))} artifact; only python_wheel artifacts can be installed into a compute environment` });
      }
    });
  },
  provider: {
    async create(ctx, desired) {
      const spec = desired.spec;
      if (spec.ephemeral) return ephemeral(ctx, desired.name, spec);
      await ensureEnvironment(environmentContext(ctx), desired.name, spec);
      return outputsOf(ctx, desired.name);
    },
    async update(ctx, recorded, desired) {
      const before = recorded.spec;
      const after = desired.spec;
      const ectx = environmentContext(ctx);
      if (after.ephemeral) {
        if (!before.ephemeral) await removeEnvironment(ectx, desired.name);
        return ephemeral(ctx, desired.name, after);
      }
      if (before.ephemeral) await ensureEnvironment(ectx, desired.name, after);
      else await syncLibraries(ectx, desired.name, before, after);
      return outputsOf(ctx, desired.name);
    },
    async delete(ctx, recorded) {
      if (recorded.spec.ephemeral) return; // running instances belong to their runs
      await removeEnvironment(environmentContext(ctx), recorded.name);
    },
  },
  // Another interpreter, or pip in or out, is another environment.
  changeKind({ spec: a }, { spec: b }) {
    const persistent = !a.ephemeral && !b.ephemeral;
    return persistent && (resolvePython(a.python) !== resolvePython(b.python) || !!a.pip !== !!b.pip) ? "replace" : "update";
  },
});
