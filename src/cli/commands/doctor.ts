import type { Command } from "commander";
import type { CheckStatus } from "../../doctor/checks.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

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
    execute("doctor", flags, async ({ out, env }) => {
      const [{ runDoctor }, { doctorFailure, doctorView }] = await Promise.all([import("../../doctor/checks.js"), import("../../views/first-hour.js")]);
      const r = await runDoctor(projectOptions(flags), env);
      const text = () => {
        for (const c of r.checks) {
          const [label, color] = LABEL[c.status];
          out.line(`${out.style(color, label.padEnd(4))}  ${c.name.padEnd(7)} ${c.message}`);
          if (c.fix && c.status !== "ok") out.line(`              ${out.style("dim", `fix: ${c.fix}`)}`);
        }
        const failed = r.checks.filter((c) => c.status === "fail").length;
        const warned = r.checks.filter((c) => c.status === "warn").length;
        out.line(failed ? `${failed} problem(s) to fix before deploying${warned ? `, ${warned} warning(s)` : ""}.` : warned ? `ready, with ${warned} warning(s).` : "ready.");
      };
      // A failed check: the report, then exit 1 (`ok: false` with error checks_failed and the checks).
      return { fields: doctorView(r), text, error: doctorFailure(r) };
    }),
  );
}
