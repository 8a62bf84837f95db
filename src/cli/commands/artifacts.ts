import type { Command } from "commander";
import { InvalidInputError } from "../../errors.js";
import type { FieldsOf } from "../../views/documents.js";
import { allowManyTargets, collect, execute, intOption, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";
import type { Output } from "../output.js";
import { localOnly, onProject, withProjectOptions, type ProjectFlags } from "../project.js";
import { withServerOption, type ServerFlags } from "../remote.js";

type UseSite = { by: string; reason: string };
type GcJson = FieldsOf<"artifacts gc">;
const LOCAL = "artifacts are built and published from this machine, with the stores slipway.yaml names; install and gc have --server";

export function registerArtifacts(program: Command): void {
  const artifacts = program
    .command("artifacts")
    .description("build, version and publish artifacts per target; install a chosen version into a compute environment; retention");

  withServerOption(withCommonOptions(artifacts.command("build").description("build artifacts from their packages (all when none is named); the version comes from the package's own metadata (on this machine: no --server)")))
    .argument("[names...]", "artifact names")
    .option("--out <dir>", "also copy each built file into this folder (never one that differs from a published version of the same name: exit 3)")
    .action((names: string[], flags: CommonFlags & ServerFlags & { out?: string }) =>
      execute("artifacts build", flags, async ({ out, ctx }) => {
        localOnly(flags, "artifacts build", LOCAL);
        const [{ buildArtifacts }, { buildFailure, buildView }] = await Promise.all([import("../../operations/artifacts.js"), import("../../views/artifacts.js")]);
        const r = await buildArtifacts({ ...projectOptions(flags), names, out: flags.out }, ctx);
        const text = () => {
          for (const b of r.builds) {
            out.line(`built ${out.style("bold", `${b.artifact} ${b.version}`)} (${b.type}) in ${(b.duration_ms / 1000).toFixed(1)}s: ${b.filename}, ${formatBytes(b.size)}, sha256 ${b.sha256.slice(0, 12)}`);
            if (b.copied_to) out.line(`  copied to ${b.copied_to}`);
            if (b.not_copied) out.line(`  not copied to ${b.not_copied.file}: a published version of the same name has other content`);
          }
        };
        // A build not copied to --out (it differs from a published version of the same name) is refused (exit 3).
        return { fields: buildView(r), error: buildFailure(r), text };
      }),
    );

  // -t is repeatable here: one publish, several targets.
  allowManyTargets(
    artifacts
      .command("publish")
      .description("upload the latest build of an artifact to each target's artifact store (versions are immutable; on this machine: no --server)")
      .argument("<name>", "artifact name")
      .option("-t, --target <name>", "a target to publish to (repeatable); default: the default target", collect)
      .option("--all-targets", "publish to every target of the project")
      .option("--project <dir>", "project folder holding slipway.yaml (default: the current folder)")
      .option("--var <name=value>", "set a variable (repeatable)", collect)
      .option("--json", "print a stable machine-readable JSON document")
      .option("--server <url>", "refused: publishing works on this machine")
      .option("--no-server", "work on the local home (the default for publish)"),
  ).action((name: string, flags: Omit<CommonFlags, "target"> & ServerFlags & { target?: string[] | string; allTargets?: boolean }) =>
      execute("artifacts publish", flags as CommonFlags, async ({ out, ctx }) => {
        localOnly(flags, "artifacts publish", LOCAL);
        const targets = typeof flags.target === "string" ? [flags.target] : flags.target;
        const [{ publishArtifact }, { publishView }] = await Promise.all([import("../../operations/artifacts.js"), import("../../views/artifacts.js")]);
        const r = await publishArtifact({ ...projectOptions({ ...flags, target: undefined }), name, targets, allTargets: flags.allTargets }, ctx);
        const text = () => {
          out.line(`${out.style("bold", `${r.artifact} ${r.version}`)} (${r.filename}, ${formatBytes(r.size)}, sha256 ${r.sha256.slice(0, 12)})`);
          const width = Math.max(...r.targets.map((t) => t.target.length)) + 2;
          for (const t of r.targets) {
            out.line(`  ${t.target.padEnd(width)}${t.outcome === "published" ? out.style("green", "published") : "unchanged: already published with the same content"}${t.outcome === "published" ? out.style("dim", ` (${t.ms} ms)`) : ""}`);
          }
        };
        return { fields: publishView(r), text };
      }),
    );

  withProjectOptions(artifacts.command("list").description("versions of an artifact in the target's store: size, hash, date and where each is in use (or, without a name, every artifact)"))
    .argument("[name]", "artifact name")
    .action((name: string | undefined, flags: ProjectFlags) =>
      execute("artifacts list", flags, async (rt) => {
        const { out } = rt;
        const { fields } = await onProject(rt, flags, "artifacts list", { name });
        if ("artifacts" in fields) {
          const r = fields;
          const text = () => {
            if (r.artifacts.length === 0) return out.line(`${r.project} declares no artifacts.`);
            out.line(`artifacts of ${r.project}/${r.target}:`);
            const rows = r.artifacts.map((a) => [a.artifact, a.type, String(a.versions), a.latest?.version ?? "-", formatBytes(a.bytes), a.keep_last ? `keep_last ${a.keep_last}` : "-", a.built ? a.built.version : "-"]);
            table(out, ["ARTIFACT", "TYPE", "VERSIONS", "NEWEST", "SIZE", "RETENTION", "BUILT HERE"], rows);
          };
          return { fields, text };
        }
        const r = fields;
        const text = () => {
          out.line(`${out.style("bold", r.artifact)} in ${r.project}/${r.target}${r.type ? ` (${r.type}${r.keep_last ? `, keep_last ${r.keep_last}` : ""})` : ""}: ${r.versions.length} version(s)`);
          if (r.versions.length === 0) return out.line(`  none published (slipway artifacts publish ${r.artifact} -t ${r.target})`);
          table(
            out,
            ["VERSION", "SIZE", "SHA256", "PUBLISHED", "BY", "IN USE"],
            r.versions.map((v) => [v.version, formatBytes(v.size), v.sha256.slice(0, 12), v.created_at.replace("T", " ").replace(/\.\d+Z$/, "Z"), v.published_by, describeUse(v.in_use)]),
          );
        };
        return { fields, text };
      }),
    );

  withProjectOptions(artifacts.command("install").description("install a chosen version of an artifact into a deployed compute environment of the target"))
    .argument("<artifact@version>", 'for example "dqm@2.6.11"')
    .requiredOption("--into <environment>", "the compute environment (resources.compute) to install into")
    .option("--force-unlock", "take the target's lock even if its holder looks alive")
    .action((library: string, flags: ProjectFlags & { into: string; forceUnlock?: boolean }) =>
      execute("artifacts install", flags, async (rt) => {
        const { out } = rt;
        const { fields: r } = await onProject(rt, flags, "artifacts install", { library, into: flags.into, forceUnlock: flags.forceUnlock });
        const text = () => {
          if (r.outcome === "unchanged") out.line(`${r.artifact} ${r.version} is already installed in compute.${r.environment} (${r.project}/${r.target}).`);
          else out.line(out.style("green", `installed ${r.artifact} ${r.version} into compute.${r.environment} (${r.project}/${r.target})${r.previous ? `, replacing ${r.previous}` : ""}.`));
        };
        return { fields: r, text };
      }),
    );

  withProjectOptions(artifacts.command("promote").description("copy a published version from one target's artifact store to another's (content-addressed: a store that has the file is not written)"))
    .argument("<artifact@version>", 'for example "dqm@2.6.11"')
    .requiredOption("--from <target>", "the target whose store holds the version")
    .requiredOption("--to <target>", "the target it is copied to")
    .action((ref: string, flags: ProjectFlags & { from: string; to: string }) =>
      execute("artifacts promote", flags, async (rt) => {
        const { out } = rt;
        const { fields: r } = await onProject(rt, flags, "artifacts promote", { ref, from: flags.from, to: flags.to });
        const text = () => {
          if (!r.promoted) out.line(`${r.artifact} ${r.version} is already in ${r.to} (sha256 ${r.sha256.slice(0, 12)}): nothing to promote.`);
          else out.line(out.style("green", `promoted ${r.artifact} ${r.version} from ${r.from} to ${r.to} (sha256 ${r.sha256.slice(0, 12)}, ${r.copied ? "content copied" : "content already in the store"}).`));
        };
        return { fields: r, text };
      }),
    );

  withProjectOptions(artifacts.command("gc").description("retention: show (and with --yes delete) versions past keep_last that nothing uses; uninstall installs of removed versions"))
    .argument("[names...]", "only these artifacts")
    .addOption(intOption("--keep-last <n>", "keep the newest N versions (overrides retention.keep_last; applies to artifacts without retention too)"))
    .option("--yes", "delete without asking (needed with --server)")
    .option("--force-unlock", "take the target's lock even if its holder looks alive")
    .action((names: string[], flags: ProjectFlags & { keepLast?: number; yes?: boolean; forceUnlock?: boolean }) =>
      execute("artifacts gc", flags, async (rt) => {
        const { out } = rt;
        if (flags.keepLast === 0) throw new InvalidInputError([{ message: "--keep-last must be at least 1", hint: "keep at least the newest version" }], "invalid_flag");
        let shown = false;
        const onPlan = (p: GcJson) => {
          shown = true;
          printGcPlan(out, p);
        };
        const { fields: r } = await onProject(rt, flags, "artifacts gc", { names, keepLast: flags.keepLast, yes: flags.yes, forceUnlock: flags.forceUnlock, onPlan });
        // A server sends the plan with the document.
        if (!shown) printGcPlan(out, r);
        const text = () => {
          const nothing = r.delete.length === 0 && r.stale_installs.length === 0 && r.stranded_environments.length === 0;
          if (nothing) return;
          if (r.dry_run) out.line(`Nothing was deleted (dry run). Re-run with --yes to delete.`);
          else out.line(out.style("green", `Deleted ${r.delete.length} version(s) (${formatBytes(r.freed_bytes)} freed)${r.stale_installs.length ? `, uninstalled ${r.stale_installs.length} stale install(s)` : ""}${r.stranded_environments.length ? `, removed ${r.stranded_environments.length} stranded environment(s)` : ""}.`));
        };
        return { fields: r, text };
      }),
    );
}

function printGcPlan(out: Output, p: GcJson): void {
  if (p.artifacts.length === 0 && p.stale_installs.length === 0 && p.stranded_environments.length === 0) {
    out.line(`no artifact of ${p.project} has retention (retention: { keep_last: N }, or pass --keep-last N); nothing to collect in ${p.target}.`);
    return;
  }
  out.line(out.style("bold", `artifacts gc on ${p.project}/${p.target}:`));
  for (const a of p.artifacts) out.line(`  ${a.artifact}: ${a.versions} version(s), keep_last ${a.keep_last}`);
  for (const d of p.delete) out.line(`  ${out.style("red", "-")} delete    ${d.artifact} ${d.version} (${formatBytes(d.size)}, published ${d.created_at})`);
  for (const k of p.kept_in_use) out.line(`  ${out.style("yellow", "=")} keep      ${k.artifact} ${k.version}: in use by ${describeUse(k.in_use)}`);
  for (const s of p.stale_installs) out.line(`  ${out.style("red", "-")} uninstall ${s.artifact} ${s.version} from compute.${s.environment}${s.instance ? ` (run ${s.instance})` : ""}: that version is no longer in the store`);
  for (const e of p.stranded_environments) out.line(`  ${out.style("red", "-")} remove    ephemeral compute.${e.name} of finished run ${e.instance} (${e.path})`);
  if (p.delete.length === 0 && p.stale_installs.length === 0 && p.stranded_environments.length === 0) out.line("Nothing to delete.");
}

function describeUse(sites: UseSite[]): string {
  if (sites.length === 0) return "-";
  const revisions = sites.filter((s) => s.by.startsWith("revision ")).map((s) => s.by.slice("revision ".length));
  const grouped = new Map<string, string[]>();
  for (const s of sites) if (!s.by.startsWith("revision ")) grouped.set(s.by, [...(grouped.get(s.by) ?? []), s.reason]);
  const others = [...grouped].map(([by, reasons]) => `${by} (${reasons.join(", ")})`);
  if (revisions.length) others.push(`revision${revisions.length > 1 ? "s" : ""} ${ranges([...new Set(revisions.map(Number))].sort((a, b) => a - b))}`);
  return others.join(", ");
}

/** 1, 2, 3, 5 -> "1-3, 5" */
function ranges(numbers: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < numbers.length; i++) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    out.push(j > i ? `${numbers[i]}-${numbers[j]}` : String(numbers[i]));
    i = j;
  }
  return out.join(", ");
}

function table(out: Output, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 2);
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("");
  out.line(line(header));
  for (const r of rows) out.line(line(r));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
