import type { Command } from "commander";
import { execute, intOption } from "../common.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

export function registerApps(program: Command): void {
  const apps = program.command("apps").description("web applications the server runs at /apps/NAME/: list, logs");
  withProjectOptions(apps.command("list", { isDefault: true }).description("apps of a target: URL, state, replicas, restarts, recent log lines")).action((flags: ProjectFlags) =>
    execute("apps list", flags, async (rt) => {
      const { out } = rt;
      const { fields } = await onProject(rt, flags, "apps list", {});
      const text = () => {
        if (fields.apps.length === 0) return out.line("no apps deployed.");
        for (const a of fields.apps) {
          out.line(`${out.style("bold", a.name)}  ${a.url}  ${a.state}  ${a.ready_replicas}/${a.replicas} ready  ${a.restarts} restart(s)  (config ${a.config_version}${a.anonymous ? ", anonymous" : ""})`);
          if (a.message) out.line(`  ${a.message}`);
          for (const line of a.recent_logs.slice(-5)) out.line(`  | ${line}`);
        }
      };
      return { fields, text };
    }),
  );
  withProjectOptions(apps.command("logs").description("the app's log (its output and the supervisor's starts, exits and restarts); -f follows it"))
    .argument("<name>", "app name")
    .option("-f, --follow", "keep printing new lines until interrupted")
    .addOption(intOption("--tail <n>", "how many of the latest lines").default(100))
    .addOption(intOption("--offset <bytes>", "read from this offset (what --json answered as `offset`)"))
    .action((name: string, flags: ProjectFlags & { follow?: boolean; tail: number; offset?: number }) =>
      execute("apps logs", flags, async (rt) => {
        const { out } = rt;
        const { fields } = await onProject(rt, flags, "apps logs", { name, offset: flags.offset, tail: flags.tail });
        if (!flags.follow || flags.json) return { fields, text: () => fields.lines.forEach((l) => out.line(l)) };
        for (const l of fields.lines) out.line(l);
        let offset = fields.offset;
        // Asks again from the offset it was given, until interrupted (Ctrl-C ends the process).
        for (;;) {
          await rt.env.clock.sleep(500);
          const next = (await onProject(rt, flags, "apps logs", { name, offset })).fields;
          for (const l of next.lines) out.line(l);
          offset = next.offset;
        }
      }),
    );
}
