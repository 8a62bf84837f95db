import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import { startSweep, waitForSweep } from "../../operations/runs.js";
import { sweepFailure, sweepView } from "../../views/runs.js";
import { collect, execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

interface SweepFlags extends CommonFlags {
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

export function registerSweep(program: Command): void {
  withCommonOptions(program.command("sweep").description("start one run of a job per combination of parameter values (a Slurm job array on a Slurm target); prints the runs at once"))
    .argument("<job>", "job name")
    .option("--values <name=v1,v2,…>", "a parameter and the values to sweep, comma-separated (repeatable; one run per combination)", collect)
    .option("--param <name=value>", "set a parameter for every run of the sweep (repeatable)", collect)
    .option("--wait", "wait until every run has finished; exit 1 unless all succeeded")
    .option("--no-cache", "run cached tasks even if an earlier run had the same inputs")
    .option("--from-source", "run the job as the config declares it now, even if it is not deployed to the target or differs from what is (development)")
    .action((job: string, flags: SweepFlags) =>
      execute("sweep", flags, async ({ out, ctx }) => {
        const values: Record<string, string[]> = Object.create(null);
        for (const [name, list] of pairs("--values", flags.values, "learning_rate=0.1,0.01")) values[name] = [...(values[name] ?? []), ...list.split(",").filter((v) => v !== "")];
        const params: Record<string, string> = Object.create(null);
        for (const [name, value] of pairs("--param", flags.param, "epochs=10")) params[name] = value;
        const project = projectOptions(flags);
        let sweep = await startSweep({ ...project, job, values, params, noCache: flags.cache === false, fromSource: flags.fromSource }, ctx);
        const line = (r: (typeof sweep.runs)[number]) => `${r.id}  ${r.status.padEnd(10)} ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ")}${r.error && r.status !== "succeeded" ? `  (${r.error})` : ""}`;
        if (flags.wait) {
          out.line(`sweep ${sweep.sweep}: started ${sweep.runs.length} run(s) of ${job}`);
          sweep = await waitForSweep({ ...project, sweep }, ctx);
        }
        const text = () => {
          if (!flags.wait) out.line(`sweep ${sweep.sweep}: started ${sweep.runs.length} run(s) of ${job} on ${sweep.runs[0]!.project}/${sweep.runs[0]!.target}`);
          for (const r of sweep.runs) out.line(line(r));
        };
        return { fields: sweepView(sweep), error: flags.wait ? sweepFailure(sweep) : undefined, text };
      }),
    );
}
