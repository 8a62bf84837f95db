import type { Command } from "commander";
import type { ExportFormat } from "../../export/files.js";
import { execute, projectOptions, withCommonOptions, type CommonFlags } from "../common.js";

type ExportFlags = CommonFlags & { out?: string; image?: string; pullPolicy?: string; secretName?: string; force?: boolean };

const FORMATS: Record<ExportFormat, string> = {
  k8s: "write the target as plain Kubernetes manifests: jobs as Jobs, schedules as CronJobs, endpoints as Deployments and Services, settings and environments as ConfigMaps (secrets only as references to a Secret)",
  helm: "write the target as a Helm chart (Chart.yaml, values.yaml, templates/); `helm upgrade --install` creates the release if absent and upgrades it if present",
};

export function registerExport(program: Command): void {
  const exp = program.command("export").description("write the compiled target for another platform (Kubernetes manifests, a Helm chart); reads the project only, on this machine");
  for (const format of Object.keys(FORMATS) as ExportFormat[]) {
    withCommonOptions(exp.command(format).description(FORMATS[format]))
      .option("--out <dir>", `folder to write (created when missing; default: ./${format}-<target>)`)
      .option("--image <ref>", "container image holding the project at /workspace (default: <project>:latest)")
      .option("--pull-policy <policy>", "imagePullPolicy of every container (default: IfNotPresent)")
      .option("--secret-name <name>", "the Kubernetes Secret that holds the secret values (default: <project>-secrets)")
      .option("--force", "write into a non-empty folder that an export did not write")
      .action((flags: ExportFlags) =>
        execute(`export ${format}`, flags, async ({ out, ctx }) => {
          const [{ exportProject }, { exportView }] = await Promise.all([import("../../operations/export.js"), import("../../views/export.js")]);
          const r = await exportProject({ ...projectOptions(flags), format, out: flags.out, image: flags.image, imagePullPolicy: flags.pullPolicy, secretName: flags.secretName, force: flags.force }, ctx);
          const text = () => {
            out.line(`wrote ${r.files.length} file(s) for ${r.project}/${r.target} to ${r.out}${r.removed.length ? ` (removed ${r.removed.length} of the previous export)` : ""}:`);
            for (const f of r.files) out.line(`  ${f.path}${f.address ? out.style("dim", `  (${f.address})`) : ""}`);
            if (r.secret.keys.length) out.line(`the containers read the Secret ${r.secret.name}, keys: ${r.secret.keys.join(", ")} (values not written: create it yourself)`);
            out.line(`apply with: ${r.apply}`);
          };
          return { fields: exportView(r), text };
        }),
      );
  }
}
