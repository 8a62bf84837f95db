// Offline checks of Kubernetes manifests, without an API server: each object is validated against the
// Kubernetes OpenAPI schemas (kubernetes-models, generated from Kubernetes 1.27's; required fields,
// types, formats), and walked against the models of the official client (@kubernetes/client-node) so
// that a field Kubernetes does not know (which the OpenAPI schemas let through) is an error too.
import * as k8s from "@kubernetes/client-node";
import { ConfigMap, Service } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { CronJob, Job } from "kubernetes-models/batch/v1";

const MODELS: Record<string, { schema: new (o: any) => { validate(): void }; type: string }> = {
  ConfigMap: { schema: ConfigMap, type: "V1ConfigMap" },
  Service: { schema: Service, type: "V1Service" },
  Deployment: { schema: Deployment, type: "V1Deployment" },
  Job: { schema: Job, type: "V1Job" },
  CronJob: { schema: CronJob, type: "V1CronJob" },
};

type Attribute = { baseName: string; type: string };
const PRIMITIVE = new Set(["string", "number", "boolean", "Date", "any", "object", "IntOrString", "RawExtension"]);

/** Problems of one object: empty when Kubernetes' schemas and the client's models both accept it. */
export function k8sProblems(obj: { kind?: string } & Record<string, unknown>): string[] {
  const model = obj.kind ? MODELS[obj.kind] : undefined;
  if (!model) return [`unexpected kind ${String(obj.kind)}`];
  const problems: string[] = [];
  try {
    new model.schema(obj).validate();
  } catch (e) {
    problems.push(`schema: ${(e as Error).message}`);
  }
  walk(obj, model.type, obj.kind!, problems);
  return problems;
}

function walk(value: unknown, type: string, path: string, problems: string[]): void {
  if (value === undefined || value === null || PRIMITIVE.has(type)) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return void problems.push(`${path}: expected a list`);
    value.forEach((v, i) => walk(v, array[1]!, `${path}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [k, v] of Object.entries(value as object)) walk(v, map[1]!, `${path}.${k}`, problems);
    return;
  }
  const cls = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] }>)[type];
  if (!cls?.getAttributeTypeMap) return void problems.push(`${path}: no client model ${type}`);
  const attributes = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value as object)) {
    const t = attributes.get(k);
    if (!t) problems.push(`${path}.${k}: not a field of ${type}`);
    else walk(v, t, `${path}.${k}`, problems);
  }
}
