import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import { collect, execute, projectOptions, type CommandRuntime, type Done } from "../common.js";
import { auditedLocally, localOnly, onProject, remoteProjectFor, withProjectOptions, type ProjectFlags } from "../project.js";
import { printRunDetails } from "../render.js";

export interface RunFlags extends ProjectFlags {
  bundle?: string;
  param?: string[];
  wait?: boolean;
  keepWorkdir?: boolean;
  cache?: boolean;
  fromSource?: boolean;
  writeBundle?: boolean;
}

export function registerRun(program: Command): void {
  defineRun(program, (job, flags) => execute("run", flags, runBody(job, flags)));
}

/**
 * The `run` command's arguments and options, with `action` called on them: the CLI runs the command,
 * the server (src/cli/run-handoff/serve.ts) parses a client's arguments with the same definition.
 */
export function defineRun(program: Command, action: (job: string, flags: RunFlags) => void | Promise<void>): Command {
  return withProjectOptions(program.command("run").description("start a run of a job deployed to the target; prints its id at once (the run goes on after this command exits)"))
    .argument("<job>", "job key, or its title (e.g. \"[dev] Entity Matching - Setup\")")
    .option("--param <name=value>", "set a job parameter (repeatable)", collect)
    .option("--wait", "run attached: stream the logs, wait for the end (Ctrl-C cancels the run); exit 1 unless it succeeded")
    .option("--keep-workdir", "keep the run's working folder afterwards")
    .option("--no-cache", "run cached tasks even if an earlier run had the same inputs")
    .option("--bundle <file>", "run the code in this bundle archive (made by `slipway bundle`) instead of the source folder (not with --server)")
    .option("--write-bundle", "also write the run's bundle as a .tar.gz next to its working folder (SLIPWAY_HOME/runs/<id>/bundle.tgz; its path is in the run's provenance)")
    .option("--from-source", "run the job as the config declares it now, even if it is not deployed to the target or differs from what is (development)")
    .action(action);
}

/** What `run` does, in this process or, handed over, in the home's server for a client. */
export function runBody(job: string, flags: RunFlags): (rt: CommandRuntime) => Promise<Done<"run">> {
  return async (rt) => {
    const { out } = rt;
    const params: Record<string, string> = Object.create(null); // --param __proto__=x is a parameter like any other
    for (const pair of flags.param ?? []) {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new InvalidInputError([{ message: `--param "${pair}" is not NAME=value`, hint: "write --param lr=0.1" }], "invalid_flag");
      params[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const submit = { job, params, keepWorkdir: flags.keepWorkdir, noCache: flags.cache === false, fromSource: flags.fromSource, writeBundle: flags.writeBundle };
    if (flags.bundle !== undefined) localOnly(flags, "run --bundle", "the archive is on this machine: run it without --server (or deploy the project to the server and run the job there)");
    const remote = flags.bundle === undefined ? await remoteProjectFor(rt, flags) : undefined;
    if (!flags.wait) {
      const { fields: run } = await onProject(rt, remote ? flags : { ...flags, server: false }, "run", { ...submit, bundleArchive: flags.bundle });
      return { fields: run, text: () => out.line(`${run.id}  started ${job} on ${run.project}/${run.target} (follow it with: slipway logs ${run.id} -f)`) };
    }
    const { runDetailsView, runFailure } = await import("../../views/runs.js");
    if (remote) {
      // On the server the run executes on the server's executor; this follows its logs, then shows it.
      const { fields: run } = await remote.command("run", submit, { onEvent: (e) => rt.progress(e) });
      out.line(`${run.id}  started ${job} on ${run.project}/${run.target}`);
      // Ctrl-C cancels the run, as attached runs are cancelled; the logs then end with it.
      const cancel = () => void remote.command("cancel", { run: run.id }).catch(() => {});
      process.once("SIGINT", cancel);
      try {
        await remote.command("logs", { run: run.id, follow: true, onLine: (task, line) => out.line(`[${task}] ${line}`) }, { onEvent: (e) => rt.progress(e) });
      } finally {
        process.off("SIGINT", cancel);
      }
      const { fields: done } = await remote.command("runs show", { run: run.id });
      return { fields: done, error: runFailure({ id: done.id, status: done.status, error: done.reason }), text: () => printRunDetails(out, done) };
    }
    // Audited as a run the API starts: "ok" once it ran (its own outcome is the run's status).
    const { fields, done } = await auditedLocally(
      rt.env,
      "run",
      projectOptions(flags).target,
      { job },
      async () => {
        const { runAttached } = await import("../../operations/runs.js");
        const done = await runAttached(
          {
            ...projectOptions(flags),
            ...submit,
            bundleArchive: flags.bundle,
            onStarted: (run) => out.line(`${run.id}  started ${job} on ${run.project}/${run.target}`),
            onLine: (task, line) => out.line(`[${task}] ${line}`),
          },
          rt.ctx,
        );
        return { fields: runDetailsView(done), done };
      },
      (line) => out.err(line),
    );
    return { fields, error: runFailure(done), text: () => printRunDetails(out, fields) };
  };
}
