import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import type { FieldsOf } from "../../views/documents.js";
import { collect, execute, projectOptions, type CommandRuntime } from "../common.js";
import { onProject, remoteProjectFor, withProjectOptions, type ProjectFlags } from "../project.js";

interface SweepFlags extends ProjectFlags {
  values?: string[];
  param?: string[];
  wait?: boolean;
  cache?: boolean;
  fromSource?: boolean;
}

/** NAME=value pairs of repeatable flags; keys are data (`__proto__` is a parameter like any other). */
function pairs(flag: string, list: string[] | undefined, example: string): Array<[string, string]> {
  return (list ?? []).map((pair) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidInputError([{ message: `${flag} "${pair}" is not NAME=value`, hint: `write ${flag} ${example}` }], "invalid_flag");
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

const FINISHED = new Set(["succeeded", "failed", "cancelled", "lost"]);

export function registerSweep(program: Command): void {
  withProjectOptions(program.command("sweep").description("start one run of a job per combination of parameter values (a Slurm job array on a Slurm target); prints the runs at once"))
    .argument("<job>", "job key, or its title")
    .option("--values <name=v1,v2,…>", "a parameter and the values to sweep, comma-separated (repeatable; one run per combination)", collect)
    .option("--param <name=value>", "set a parameter for every run of the sweep (repeatable)", collect)
    .option("--wait", "wait until every run has finished; exit 1 unless all succeeded")
    .option("--no-cache", "run cached tasks even if an earlier run had the same inputs")
    .option("--from-source", "run the job as the config declares it now, even if it is not deployed to the target or differs from what is (development)")
    .action((job: string, flags: SweepFlags) =>
      execute("sweep", flags, async (rt) => {
        const { out } = rt;
        const values: Record<string, string[]> = Object.create(null);
        for (const [name, list] of pairs("--values", flags.values, "learning_rate=0.1,0.01")) values[name] = [...(values[name] ?? []), ...list.split(",").filter((v) => v !== "")];
        const params: Record<string, string> = Object.create(null);
        for (const [name, value] of pairs("--param", flags.param, "epochs=10")) params[name] = value;
        let { fields: sweep } = await onProject(rt, flags, "sweep", { job, values, params, noCache: flags.cache === false, fromSource: flags.fromSource });
        const where = sweep.runs[0] ? `${sweep.runs[0].project}/${sweep.runs[0].target}` : "";
        if (flags.wait) {
          out.line(`sweep ${sweep.sweep}: started ${sweep.runs.length} run(s) of ${job} on ${where}`);
          sweep = await waitForAll(rt, flags, sweep);
        }
        const text = () => {
          if (!flags.wait) out.line(`sweep ${sweep.sweep}: started ${sweep.runs.length} run(s) of ${job} on ${where}`);
          for (const r of sweep.runs) {
            const params = Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ");
            out.line(`${r.id}  ${r.status.padEnd(10)} ${params}${r.reason && r.status !== "succeeded" ? `  (${r.reason})` : ""}`);
          }
        };
        const { sweepFailure } = await import("../../views/runs.js");
        return { fields: sweep, error: flags.wait ? sweepFailure(sweep) : undefined, text };
      }),
    );
}

/** Until every run of the sweep has finished: embedded, from the state store; with a server, from its `runs show`. */
async function waitForAll(rt: CommandRuntime, flags: SweepFlags, sweep: FieldsOf<"sweep">): Promise<FieldsOf<"sweep">> {
  const remote = await remoteProjectFor(rt, flags);
  if (!remote) {
    const [{ sweepView }, { waitForSweep }] = await Promise.all([import("../../views/runs.js"), import("../../operations/runs.js")]);
    return sweepView(await waitForSweep({ ...projectOptions(flags), sweep: sweep.sweep, runs: sweep.runs.map((r) => r.id) }, rt.ctx));
  }
  const runs = [...sweep.runs];
  while (runs.some((r) => !FINISHED.has(r.status))) {
    await new Promise((r) => setTimeout(r, 1000));
    for (const [i, r] of runs.entries()) {
      if (FINISHED.has(r.status)) continue;
      const { fields } = await remote.command("runs show", { run: r.id });
      const { id, job, project, target, status, params, created_at, started_at, finished_at, duration_ms, reason, trigger, schedule } = fields;
      runs[i] = { id, job, project, target, status, params, created_at, started_at, finished_at, duration_ms, reason, trigger, schedule };
    }
  }
  return { sweep: sweep.sweep, runs };
}
