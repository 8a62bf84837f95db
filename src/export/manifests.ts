// The Kubernetes objects for one compiled target: each job a Job, each schedule a CronJob running its
// job, each endpoint a Deployment and a Service, the settings and each module's environment a
// ConfigMap. Secret values are never in them: they are references to one Secret the person deploying
// creates (environment.ts). Objects are typed with the official client's models (type-only: nothing of
// the client is loaded), built in a fixed order from sorted names, so the same project gives the same
// text. Values the Helm chart leaves to values.yaml are passed in (`Parameters`) and may be placeholders.
import type { V1ConfigMap, V1Container, V1CronJob, V1Deployment, V1EnvVar, V1Job, V1JobSpec, V1PodTemplateSpec, V1Service } from "@kubernetes/client-node";
import { posix, relative, sep } from "node:path";
import type { CompiledProject } from "../kinds/compile-project.js";
import type { EndpointSpec } from "../kinds/endpoint/index.js";
import type { JobSpec } from "../kinds/job/index.js";
import type { ScheduleSpec } from "../kinds/schedule/index.js";
import type { SettingSpec } from "../kinds/setting/index.js";
import type { DesiredResource } from "../resources.js";
import { SlipwayError } from "../errors.js";
import { hashValue } from "../util/hash.js";
import { parseDuration } from "../util/duration.js";
import { assertNoSecret, k8sLiteral, secretEnv, splitEnvironment, withReferences, type ModuleEnvironment } from "../util/kubernetes/environment.js";
import { resourcesOf } from "../util/kubernetes/resources.js";
import { DATA_KEY, dnsLabel, objectName } from "../util/kubernetes/names.js";
import { endpointObjects, SERVING_PORT, slipwayLabels } from "../serving/kubernetes/objects.js";

/** Where the image holds the project (the folder with slipway.yaml). */
export const WORKSPACE = "/workspace";
/** The port an endpoint's container serves the Open Inference Protocol on (the builder is shared with deploy-time serving). */
export { SERVING_PORT };

export interface Parameters {
  image: string;
  imagePullPolicy: string;
  secretName: string;
  /** Endpoint replicas (the Helm chart's values.yaml may override them). */
  replicas: (endpoint: string, min: number) => number | string;
  /** Extra text in every Job's name, so a new image is a new Job (Jobs are immutable). */
  jobNameSuffix: string;
  managedBy: string;
}

export type K8sObject = V1ConfigMap | V1Job | V1CronJob | V1Deployment | V1Service;

export interface Manifest {
  /** File name (without folder): kind-name.yaml */
  file: string;
  /** The Slipway resource it comes from ("" for the project's own ConfigMaps). */
  address: string;
  objects: K8sObject[];
}

export interface Export {
  manifests: Manifest[];
  secret: { name: string; keys: string[] };
}

type Resource<S> = DesiredResource<S>;

export function buildManifests(compiled: CompiledProject, p: Parameters): Export {
  const project = compiled.project.name;
  const target = compiled.project.target.name;
  const byKind = <S>(kind: string) => compiled.resources.filter((r) => r.kind === kind).sort((a, b) => a.address.localeCompare(b.address)) as unknown as Resource<S>[];
  const manifests: Manifest[] = [];
  const secretKeys = new Set<string>();

  const labels = (extra: Record<string, string> = {}) => slipwayLabels(project, target, p.managedBy, extra);
  const meta = (name: string, address: string, extra: Record<string, string> = {}) => ({ name, labels: labels(extra), ...(address ? { annotations: { "slipway.dev/address": address } } : {}) });

  // Each module's environment, once.
  const environments = new Map<string, ModuleEnvironment & { configMap: string }>();
  const environmentOf = (r: DesiredResource<unknown>) => {
    let e = environments.get(r.module);
    if (!e) {
      const runtime = r.runtime ?? { env: {}, secrets: [] as string[] };
      const split = splitEnvironment(runtime.env, [...new Set([...compiled.secrets, ...runtime.secrets])], `module "${r.module}"`);
      e = { ...split, configMap: objectName(project, `env-${r.module}`) };
      for (const k of split.secretKeys) secretKeys.add(k);
      environments.set(r.module, e);
    }
    return e;
  };
  const secrets = compiled.secrets;

  // Settings: plain ones in a ConfigMap; those holding a secret become keys of the Secret.
  const settings = byKind<SettingSpec>("setting");
  if (settings.length) {
    const data: Array<[string, string]> = [];
    for (const s of settings) {
      const key = `${s.spec.module}.${s.spec.key}`;
      if (!DATA_KEY.test(key)) throw new SlipwayError("export_unsupported", `setting ${JSON.stringify(key)} cannot be a ConfigMap key`, { hint: "setting keys exported to Kubernetes are letters, digits, '-', '_' and '.'" });
      if (s.spec.sensitive || secrets.some((v) => v && s.spec.value.includes(v))) secretKeys.add(`setting.${key}`);
      else data.push([key, s.spec.value]);
    }
    const name = objectName(project, "settings");
    manifests.push({ file: `configmap-${name}.yaml`, address: "", objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: meta(name, ""), data: Object.fromEntries(data.sort(([a], [b]) => a.localeCompare(b))) }] });
  }

  const jobs = byKind<JobSpec>("job");
  const moduleDirs = new Map(compiled.project.modules.map((m) => [m.name, m.dir]));

  /** The pod template that runs job `r` (with a schedule's params over the job's). */
  const jobPod = (r: Resource<JobSpec>, params: Record<string, string | number | boolean> = {}): V1PodTemplateSpec => {
    const env = environmentOf(r);
    const where = `job "${r.name}"`;
    const container: V1Container = {
      name: "job",
      image: p.image,
      imagePullPolicy: p.imagePullPolicy,
      command: ["/bin/sh", "-c", k8sLiteral(jobScript(r.spec, secrets, where))],
      workingDir: workdir(compiled.project.dir, moduleDirs.get(r.module) ?? compiled.project.dir, r.spec.source),
      envFrom: [{ configMapRef: { name: env.configMap } }],
      env: [
        ...secretEnv(env.secretKeys, p.secretName),
        { name: "SLIPWAY_JOB", value: r.name },
        { name: "SLIPWAY_RUN_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "SLIPWAY_OUTPUT_DIR", value: "/slipway/output" },
        ...ownEnv({ ...prefixed("SLIPWAY_PARAM_", { ...r.spec.params, ...params }), ...r.spec.env }, env, secrets, where),
      ],
      volumeMounts: [{ name: "output", mountPath: "/slipway/output" }],
    };
    const resources = resourcesOf(r.spec.compute);
    if (resources) container.resources = resources;
    return { metadata: { labels: labels({ "slipway.dev/job": dnsLabel(r.name) }) }, spec: { restartPolicy: "Never", containers: [container], volumes: [{ name: "output", emptyDir: {} }] } };
  };
  const jobSpec = (r: Resource<JobSpec>, params?: Record<string, string | number | boolean>): V1JobSpec => {
    const limit = r.spec.compute?.time_limit ?? r.spec.compute?.timeout;
    return { backoffLimit: r.spec.retries ?? 0, ...(limit ? { activeDeadlineSeconds: Math.ceil(parseDuration(limit) / 1000) } : {}), template: jobPod(r, params) };
  };

  for (const r of jobs) {
    // Jobs are immutable: a changed job (or image) is a new Job, named with a hash of what it runs.
    const spec: V1JobSpec = { suspend: !r.spec.run_on_deploy, ...jobSpec(r) };
    const base = objectName(project, r.name, 47);
    const name = `${base}-${hashValue({ spec, image: p.image }).slice(0, 8)}${p.jobNameSuffix}`;
    const metadata = meta(name, r.address, { "slipway.dev/job": dnsLabel(r.name) });
    const annotations: Record<string, string> = { ...metadata.annotations };
    if (r.spec.compute?.environment) annotations["slipway.dev/compute-environment"] = r.spec.compute.environment;
    if (r.spec.registers) annotations["slipway.dev/registers-model"] = r.spec.registers.model;
    manifests.push({ file: `job-${base}.yaml`, address: r.address, objects: [{ apiVersion: "batch/v1", kind: "Job", metadata: { ...metadata, annotations: sortKeys(annotations) }, spec }] });
  }

  for (const s of byKind<ScheduleSpec>("schedule")) {
    const job = jobs.find((j) => j.name === s.spec.job);
    if (!job) continue; // compile has reported it
    const name = objectName(project, s.name, 52);
    const cron: V1CronJob = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta(name, s.address, { "slipway.dev/schedule": dnsLabel(s.name) }),
      spec: {
        schedule: s.spec.cron,
        timeZone: s.spec.timezone,
        suspend: s.spec.paused,
        // skip and queue: never two at once (Kubernetes has no queue); cancel_previous: replace it.
        concurrencyPolicy: s.spec.concurrency === "cancel_previous" ? "Replace" : "Forbid",
        // catch_up none: a time missed by more than a minute is skipped; once: Kubernetes starts one run for missed times.
        ...(s.spec.catch_up === "none" ? { startingDeadlineSeconds: 60 } : {}),
        jobTemplate: { metadata: { labels: labels({ "slipway.dev/job": dnsLabel(job.name), "slipway.dev/schedule": dnsLabel(s.name) }) }, spec: jobSpec(job, s.spec.params) },
      },
    };
    manifests.push({ file: `cronjob-${name}.yaml`, address: s.address, objects: [cron] });
  }

  for (const r of byKind<EndpointSpec>("endpoint")) {
    const env = environmentOf(r);
    const name = objectName(project, r.name);
    const { deployment, service } = endpointObjects({
      project,
      target,
      endpoint: r.name,
      address: r.address,
      name,
      managedBy: p.managedBy,
      image: p.image,
      imagePullPolicy: p.imagePullPolicy,
      replicas: p.replicas(r.name, r.spec.replicas.min),
      served: r.spec.served,
      environment: { configMap: env.configMap },
      secretKeys: env.secretKeys,
      secretName: p.secretName,
    });
    manifests.push({ file: `endpoint-${name}.yaml`, address: r.address, objects: [deployment, service] });
  }

  // The modules' environments, after the objects that use them were built.
  for (const [module, e] of [...environments].sort(([a], [b]) => a.localeCompare(b))) {
    manifests.unshift({ file: `configmap-${e.configMap}.yaml`, address: "", objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { ...meta(e.configMap, ""), annotations: { "slipway.dev/module": module } }, data: e.plain }] });
  }
  manifests.sort((a, b) => a.file.localeCompare(b.file));
  return { manifests, secret: { name: p.secretName, keys: [...secretKeys].sort() } };
}

/** The shell script a job's container runs: its command, or its tasks one after the other in dependency order. */
export function jobScript(spec: JobSpec, secrets: readonly string[], where: string): string {
  if (spec.command !== undefined) {
    assertNoSecret(spec.command, secrets, `${where}: its command`);
    return spec.command;
  }
  const tasks = spec.tasks ?? {};
  const order: string[] = [];
  const visit = (t: string) => {
    if (order.includes(t)) return;
    for (const d of [...(tasks[t]?.depends_on ?? [])].sort()) visit(d);
    order.push(t);
  };
  for (const t of Object.keys(tasks).sort()) visit(t);
  const lines = ["set -e"];
  for (const t of order) {
    const task = tasks[t]!;
    assertNoSecret(task.command, secrets, `${where}: task "${t}"`);
    const exports = Object.keys(task.env ?? {})
      .sort()
      .map((k) => {
        const value = String(task.env![k]);
        assertNoSecret(value, secrets, `${where}: task "${t}", env ${k}`);
        return `export ${k}=${shellQuote(value)}; `;
      })
      .join("");
    lines.push(`echo ${shellQuote(`slipway: task ${t}`)}`, `(export SLIPWAY_TASK=${shellQuote(t)}; ${exports}${task.command}\n)`);
  }
  return lines.join("\n");
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

function workdir(projectDir: string, moduleDir: string, source: string | undefined): string {
  const rel = relative(projectDir, moduleDir).split(sep).join("/");
  return posix.normalize(posix.join(WORKSPACE, rel, source ?? "."));
}

function prefixed(prefix: string, values: Record<string, string | number | boolean> = {}): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** A job's own variables: a value holding a secret refers to the variable that holds it ($(NAME), expanded by Kubernetes). */
function ownEnv(values: Record<string, string | number | boolean>, env: ModuleEnvironment, secrets: readonly string[], where: string): V1EnvVar[] {
  return Object.keys(values)
    .sort()
    .map((name) => {
      const raw = String(values[name]);
      const value = withReferences(raw, env.holders, (holder) => `$(${holder})`, k8sLiteral, where);
      assertNoSecret(value, secrets, `${where}: env ${name}`);
      return { name, value };
    });
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}
