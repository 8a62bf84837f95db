// The files of an export: plain manifests (`slipway export k8s`) or a Helm chart (`slipway export
// helm`: Chart.yaml, values.yaml, templates/). The chart's templates are the same objects with the
// image, pull policy, Secret name and endpoint replicas taken from values.yaml; text that happens to
// contain "{{" is escaped so Helm prints it as written. YAML comes from the `yaml` package, with a
// fixed line width of none so long commands stay on one scalar and the output is stable.
import { stringify } from "yaml";
import type { CompiledProject } from "../kinds/compile-project.js";
import { buildManifests, SERVING_PORT, type Export, type Parameters } from "./manifests.js";
import { dnsLabel, objectName } from "../util/kubernetes/names.js";

export type ExportFormat = "k8s" | "helm";

export interface ExportOptions {
  format: ExportFormat;
  image: string;
  imagePullPolicy: string;
  /** Default: <project>-secrets. */
  secretName?: string;
}

export interface ExportFile {
  /** Path inside --out, with "/" separators. */
  path: string;
  content: string;
  /** Kinds of the objects it holds ("Chart" and "Values" for the chart's own files). */
  kinds: string[];
  /** Object names it holds (for templates, before Helm renders them). */
  names: string[];
  address?: string;
}

export interface ExportFiles {
  files: ExportFile[];
  secret: Export["secret"];
}

const yaml = (value: unknown) => stringify(value, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });

export function exportFiles(compiled: CompiledProject, o: ExportOptions): ExportFiles {
  const project = compiled.project.name;
  const secretName = o.secretName ?? objectName(project, "secrets");
  if (o.format === "k8s") {
    const built = buildManifests(compiled, { image: o.image, imagePullPolicy: o.imagePullPolicy, secretName, replicas: (_e, min) => min, jobNameSuffix: "", managedBy: "slipway" });
    return {
      secret: built.secret,
      files: built.manifests.map((m) => ({ path: m.file, content: m.objects.map(yaml).join("---\n"), kinds: m.objects.map((x) => x.kind!), names: m.objects.map((x) => x.metadata!.name!), ...(m.address ? { address: m.address } : {}) })),
    };
  }
  // Helm: placeholders in the objects, turned into template actions in the text.
  const actions = new Map<string, string>();
  const placeholder = (expression: string) => {
    const token = `@@helm${actions.size}@@`;
    actions.set(token, expression);
    return token;
  };
  const replicas: Record<string, { replicas: number }> = {};
  const built = buildManifests(compiled, {
    image: placeholder("{{ .Values.image | quote }}"),
    imagePullPolicy: placeholder("{{ .Values.imagePullPolicy | quote }}"),
    secretName: placeholder("{{ .Values.secretName | quote }}"),
    replicas: (endpoint, min) => {
      replicas[endpoint] = { replicas: min };
      return placeholder(`{{ index .Values.endpoints ${JSON.stringify(endpoint)} "replicas" }}`);
    },
    // A new image is a new Job: Jobs cannot change their pod template.
    jobNameSuffix: placeholder(`-{{ .Values.image | sha256sum | trunc 6 }}`),
    managedBy: placeholder("{{ .Release.Service | quote }}"),
  });
  const template = (text: string) =>
    text
      .replaceAll("{{", '{{ "{{" }}')
      // A placeholder that is a whole scalar (quoted or not) becomes the action; inside a name, its value.
      .replace(/(["']?)(@@helm\d+@@)\1/g, (_whole, _quote: string, token: string) => actions.get(token)!);
  const files: ExportFile[] = built.manifests.map((m) => ({
    path: `templates/${m.file}`,
    content: template(m.objects.map(yaml).join("---\n")),
    kinds: m.objects.map((x) => x.kind!),
    names: m.objects.map((x) => template(x.metadata!.name!)),
    ...(m.address ? { address: m.address } : {}),
  }));
  const chart = {
    apiVersion: "v2",
    name: dnsLabel(project),
    description: `${project} (target ${compiled.project.target.name}), exported by Slipway`,
    type: "application",
    version: "0.1.0",
    appVersion: compiled.project.target.name,
  };
  const values = {
    image: o.image,
    imagePullPolicy: o.imagePullPolicy,
    secretName,
    endpoints: Object.fromEntries(Object.keys(replicas).sort().map((e) => [e, replicas[e]!])),
  };
  const notes = [
    `{{ .Chart.Name }} ({{ .Values.image }}) is installed as release {{ .Release.Name }} in namespace {{ .Release.Namespace }}.`,
    built.secret.keys.length ? `Its containers read the Secret {{ .Values.secretName }} (keys: ${built.secret.keys.join(", ")}): create it before the pods start.` : "It reads no Secret.",
    `Endpoints serve on port ${SERVING_PORT} of their pods, port 80 of their Services.`,
    "",
  ].join("\n");
  files.unshift(
    { path: "Chart.yaml", content: yaml(chart), kinds: ["Chart"], names: [chart.name] },
    { path: "values.yaml", content: `# Values of the ${project} chart (slipway export helm -t ${compiled.project.target.name}).\n${yaml(values)}`, kinds: ["Values"], names: [] },
    { path: "templates/NOTES.txt", content: notes, kinds: ["Notes"], names: [] },
  );
  return { files, secret: { name: secretName, keys: built.secret.keys } };
}
