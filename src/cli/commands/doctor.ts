import type { Command } from "commander";
import { runDoctor, type CheckStatus } from "../../doctor/checks.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import { setExit } from "./validate.js";

const LABEL: Record<CheckStatus, [string, "green" | "cyan" | "yellow" | "red"]> = {
  ok: ["ok", "green"],
  note: ["note", "cyan"],
  warn: ["warn", "yellow"],
  fail: ["FAIL", "red"],
};

export function registerDoctor(program: Command): void {
  withCommonOptions(
    program
      .command("doctor")
      .description("check what this machine, SLIPWAY_HOME and the project need (Node.js, python3, home, port, server, locks) and how to fix each problem"),
  ).action((flags: CommonFlags) =>
    execute(flags, async ({ out, env }) => {
      const r = await runDoctor(projectOptions(flags), env);
      if (out.json) {
        out.document(r);
        return r.ok ? 0 : 1;
      }
      for (const c of r.checks) {
        const [label, color] = LABEL[c.status];
        out.line(`${out.style(color, label.padEnd(4))}  ${c.name.padEnd(7)} ${c.message}`);
        if (c.fix && c.status !== "ok") out.line(`              ${out.style("dim", `fix: ${c.fix}`)}`);
      }
      const failed = r.checks.filter((c) => c.status === "fail").length;
      const warned = r.checks.filter((c) => c.status === "warn").length;
      out.line(failed ? `${failed} problem(s) to fix before deploying${warned ? `, ${warned} warning(s)` : ""}.` : warned ? `ready, with ${warned} warning(s).` : "ready.");
      return failed ? 1 : 0;
    }).then(setExit),
  );
}
