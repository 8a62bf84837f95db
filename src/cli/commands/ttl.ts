import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import type { FieldsOf } from "../../views/documents.js";
import { countdown } from "../../views/countdown.js";
import { execute } from "../common.js";
import type { Output } from "../output.js";
import { onProject, withProjectOptions, type ProjectFlags } from "../project.js";

type TtlFields = NonNullable<FieldsOf<"ttl show">["ttl"]>;

export function registerTtl(program: Command): void {
  const ttl = program.command("ttl").description("a target's time limit: when what is deployed there is destroyed; extend, pin, unpin it");
  withProjectOptions(ttl.command("show").description("when the target is destroyed (the countdown), pins, deletion attempts, notifications sent"))
    .argument("[target]", "the target (or -t)")
    .action((target: string | undefined, flags: ProjectFlags) =>
      execute("ttl show", flags, async (rt) => {
        const { fields: r } = await onProject(rt, withTarget(flags, target), "ttl show", {});
        return { fields: r, text: () => printTtl(rt.out, r) };
      }),
    );
  withProjectOptions(ttl.command("extend").description("move the target's deletion later (from now when it is overdue); the next deploy restarts the clock"))
    .argument("<target>", "the target")
    .argument("<duration>", "how much later: 12h, 30m, 2d")
    .action((target: string, by: string, flags: ProjectFlags) =>
      execute("ttl extend", flags, async (rt) => {
        const { fields: r } = await onProject(rt, withTarget(flags, target), "ttl extend", { by });
        return { fields: r, text: () => printTtl(rt.out, r) };
      }),
    );
  for (const pinned of [true, false]) {
    const name = pinned ? "pin" : "unpin";
    withProjectOptions(ttl.command(name).description(pinned ? "keep the target: its ttl does not destroy it (nor warn) until `ttl unpin`" : "let the target's ttl destroy it again (at the next pass when it is overdue)"))
      .argument("<target>", "the target")
      .action((target: string, flags: ProjectFlags) =>
        execute(`ttl ${name}`, flags, async (rt) => {
          const { fields: r } = await onProject(rt, withTarget(flags, target), `ttl ${name}`, {});
          return { fields: r, text: () => printTtl(rt.out, r) };
        }),
      );
  }
}

/** The target named as an argument, unless -t names another. */
function withTarget(flags: ProjectFlags, target: string | undefined): ProjectFlags {
  if (target === undefined) return flags;
  if (flags.target !== undefined && flags.target !== target) {
    throw new InvalidInputError([{ message: `the target is named twice: ${target} and -t ${flags.target}`, hint: `give one: slipway ttl … ${target}` }], "invalid_flag");
  }
  return { ...flags, target };
}

function printTtl(out: Output, r: FieldsOf<"ttl show">): void {
  if (!r.ttl) return out.line(`${r.project}/${r.target} has no ttl: nothing is destroyed by itself (set ttl: { after: 24h } on the target in slipway.yaml).`);
  for (const line of ttlLines(r.ttl, `${r.project}/${r.target}`, r.target)) out.line(line);
  for (const n of r.ttl.notifications) out.line(`  ${n.event} to ${n.channel}: ${n.status}${n.attempts > 1 ? ` after ${n.attempts} attempts` : ""}${n.error ? ` (${n.error})` : ""} at ${n.at}`);
}

/** The ttl's state in a few lines (also under `status`). */
export function ttlLines(t: TtlFields, where: string, target: string): string[] {
  if (t.scope === "endpoints") {
    const lines = [`${where}: ttl ${t.after} per endpoint (each endpoint is destroyed ${t.after} after the deploy that last touched it)`];
    for (const e of t.endpoints) lines.push(`  endpoint ${e.name}: expires ${e.expires_at ?? "never"}`);
    return lines;
  }
  const head = `${where}: ttl ${t.after}${t.notify_before ? `, deletion_upcoming ${t.notify_before} before` : ""}`;
  switch (t.status) {
    case "not_started":
      return [`${head}; not deployed with it yet (the next deploy starts the clock)`];
    case "expired":
      return [`${head}; destroyed by its ttl at ${t.finished_at} (deployed ${t.deployed_at} by ${t.deployed_by}); the next deploy starts the clock again`];
    case "destroyed":
      return [`${head}; destroyed at ${t.finished_at}; the next deploy starts the clock again`];
    default: {
      const lines = [`${head}; deployed ${t.deployed_at} by ${t.deployed_by}`];
      if (t.pinned_by) lines.push(`  pinned by ${t.pinned_by} at ${t.pinned_at}: not destroyed until \`slipway ttl unpin ${target}\` (due ${t.due_at})`);
      else lines.push(`  destroyed at ${t.due_at} (${countdown(t.remaining_ms ?? 0)})${t.extended_ms ? `, extended by ${countdown(t.extended_ms).slice(3)}` : ""}`);
      if (t.status === "retrying") lines.push(`  deletion failed ${t.attempts} time(s), next attempt at ${t.next_attempt_at}: ${t.last_error}`);
      return lines;
    }
  }
}
